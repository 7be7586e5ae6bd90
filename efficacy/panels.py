from django.template.loader import render_to_string

from efficacy.selectors import efficacy_summary


def efficacy_panel(request, participant) -> str:
    """The treatment, tumour response, schedule and follow-up section of the participant page."""
    return render_to_string(
        "efficacy/panel.html",
        {
            "participant": participant,
            "summary": efficacy_summary(participant),
            "can_edit": request.user.has_perm("scr_escc.enter_clinical_data"),
        },
        request=request,
    )
