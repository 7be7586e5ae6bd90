from scr_escc.alerts import unacknowledged_safety_alerts
from scr_escc.navigation import menu_for
from scr_escc.selectors import get_study


def trial(request):
    """The study row for the phase banner and the role's menu, on every signed-in page."""
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated:
        return {}
    context = {"study": get_study(), "navigation": menu_for(user)}
    if user.has_perm("scr_escc.view_alerts"):
        context["undelivered_alerts"] = list(unacknowledged_safety_alerts()[:3])
    return context
