from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from scr_escc.selectors import get_study

# (label, url name, permission needed or None). A page appears in the menu only when its
# route exists and the user's role holds the permission; the server checks again.
NAVIGATION = [
    (_("Screenings"), "screening-list", "scr_escc.enter_clinical_data"),
    (_("Screenings"), "screening-list", "scr_escc.view_all_sites"),
    (_("Participants"), "participant-list", None),
    (_("Adverse events"), "ae-list", None),
    (_("Safety dashboard"), "dashboard", "scr_escc.view_safety_dashboard"),
    (_("Randomization"), "randomization", "scr_escc.view_balance_report"),
    (_("Alerts"), "alert-list", "scr_escc.view_alerts"),
    (_("Phase decisions"), "study-decisions", "scr_escc.open_randomization"),
    (_("Phase decisions"), "study-decisions", "scr_escc.resume_study"),
    (_("Exports"), "exports", "scr_escc.export_data"),
    (_("Study settings"), "study-settings", "scr_escc.change_study_settings"),
]


def _navigation(user) -> list[tuple[str, str]]:
    items, seen = [], set()
    for label, name, perm in NAVIGATION:
        if name in seen or (perm and not user.has_perm(perm)):
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        seen.add(name)
        items.append((label, url))
    return items


def trial(request):
    """The study row for the phase banner and the role's menu, on every signed-in page."""
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated:
        return {}
    return {"study": get_study(), "navigation": _navigation(user)}
