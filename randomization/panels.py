from django.template.loader import render_to_string

from enrollment.models import Cohort
from randomization.selectors import allocation_of, can_randomize


def allocation(request, participant) -> str:
    """The randomization section of the participant page (randomized cohort only)."""
    if participant.cohort != Cohort.RANDOMIZED:
        return ""
    return render_to_string(
        "randomization/panel.html",
        {
            "participant": participant,
            "allocation": allocation_of(participant),
            "can_randomize": request.user.has_perm("scr_escc.enter_clinical_data") and can_randomize(participant),
        },
        request=request,
    )
