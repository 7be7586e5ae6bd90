from django.template.loader import render_to_string

from deviations.selectors import deviations_of


def deviations(request, participant) -> str:
    """The deviation section of the participant page."""
    return render_to_string(
        "deviations/panel.html",
        {
            "participant": participant,
            "deviations": deviations_of(participant),
            "can_edit": request.user.has_perm("scr_escc.enter_clinical_data"),
        },
        request=request,
    )
