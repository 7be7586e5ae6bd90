"""The Efficacy page: PFS and OS as Kaplan–Meier curves with the numbers, the curve data as CSV,
and the PI's e-signed opening (or closing) of the results by arm."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from reports.efficacy_results import ENDPOINTS, curves_csv, efficacy_results
from scr_escc.forms import CloseComparativeResultsForm, OpenComparativeResultsForm
from scr_escc.results_access import set_comparative_results_open
from scr_escc.selectors import get_study
from scr_escc.views import apply_change

RESULTS = "scr_escc.view_efficacy_results"


def _access_form(request, study, bound=None):
    if not request.user.has_perm("scr_escc.sign_results_access"):
        return None
    form = bound or (
        CloseComparativeResultsForm() if study.comparative_results_open_to_pi else OpenComparativeResultsForm()
    )
    form.helper.form_action = reverse("efficacy-results-access")
    return form


@permission_required(RESULTS, raise_exception=True)
def efficacy_page(request):
    return _render(request)


def _render(request, bound=None, status=200):
    results = efficacy_results(request.user)
    study = get_study()
    sections = [("pooled", _("Randomized phase, arms pooled"), results.pooled)]
    if results.by_arm is not None:
        sections.insert(0, ("by_arm", _("Randomized phase by arm"), results.by_arm))
    sections.append(("run_in", _("Safety run-in cohort (from enrollment)"), results.run_in))
    context = {
        "results": results,
        "sections": [
            (key, title, [(ENDPOINTS[e], a, mark_safe(a.svg)) for e, a in analyses.items()])  # noqa: S308 - escaped parts
            for key, title, analyses in sections
        ],
        "study": study,
        "access_form": _access_form(request, study, bound),
    }
    return render(request, "reports/efficacy.html", context, status=status)


@permission_required(RESULTS, raise_exception=True)
def efficacy_curves_csv(request):
    response = HttpResponse(curves_csv(efficacy_results(request.user)), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="km_curves.csv"'
    return response


@require_POST
@permission_required("scr_escc.sign_results_access", raise_exception=True)
def results_access(request):
    open_ = request.POST.get("action") == OpenComparativeResultsForm.decision
    form = (OpenComparativeResultsForm if open_ else CloseComparativeResultsForm)(request.POST)
    if form.is_valid():
        done = apply_change(
            form,
            lambda: set_comparative_results_open(
                user=request.user,
                open_=open_,
                password=form.cleaned_data["password"],
                reason=form.cleaned_data["reason"],
                request=request,
            ),
        )
        if done is not None:
            messages.success(
                request,
                _("Signed. The results by arm are now %(s)s to the PI.") % {"s": _("open") if open_ else _("closed")},
            )
            return redirect("efficacy-results")
    if getattr(form, "refusal_status", 200) == 403 and not form.errors:
        raise PermissionDenied
    return _render(request, bound=form, status=getattr(form, "refusal_status", 200))
