from django.template.loader import render_to_string

from randomization.selectors import allocation_of


def allocation(request, participant) -> str:
    """The randomization section of the participant page (randomized cohort only)."""
    if participant.cohort != "randomized":
        return ""
    return render_to_string(
        "randomization/panel.html",
        {
            "participant": participant,
            "allocation": allocation_of(participant),
            "can_randomize": request.user.has_perm("scr_escc.enter_clinical_data"),
        },
        request=request,
    )
