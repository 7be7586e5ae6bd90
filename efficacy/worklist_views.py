"""The coordinator's worklist page (also the home page of site staff)."""

from dataclasses import replace

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.template.loader import render_to_string

from efficacy.worklist import worklist_for
from scr_escc.selectors import get_study, sites_visible_to

HOME_ROWS = 15  # per section on the home page; the worklist page shows up to Worklist.limit, by site


def _site_filter(request):
    sites = sites_visible_to(request.user)
    code = request.GET.get("site")
    return sites, (sites.filter(code=code).first() if code else None)


@login_required
def worklist(request):
    sites, site = _site_filter(request)
    context = {"work": worklist_for(request.user, site=site), "sites": sites, "site": site, "study": get_study()}
    return render(request, "efficacy/worklist.html", context)


def home_worklist(request) -> str:
    """The worklist as the first section of the home page, for site staff."""
    return render_to_string(
        "efficacy/worklist_panel.html",
        {"work": replace(worklist_for(request.user), limit=HOME_ROWS), "home": True},
        request=request,
    )
