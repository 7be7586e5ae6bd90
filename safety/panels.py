from django.template.loader import render_to_string

from safety.selectors import adverse_events_of


def adverse_events(request, participant) -> str:
    """The AE section of the participant page."""
    return render_to_string(
        "safety/panel.html",
        {
            "participant": participant,
            "adverse_events": adverse_events_of(participant),
            "can_edit": request.user.has_perm("scr_escc.enter_clinical_data"),
        },
        request=request,
    )
