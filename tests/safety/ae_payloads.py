"""Valid AE inputs in the shapes the API and the AE form take; each test changes only what it is about."""

from datetime import timedelta

from django.utils import timezone

ATTRIBUTIONS = ("pd1", "chemo", "ldrt", "cfrt")


def api_ae_payload(**changes) -> dict:
    """A valid POST body for /api/v1/participants/<sid>/adverse-events/ (SPEC §10), Grade 2, unrelated."""
    today = timezone.localdate()
    payload = {
        "term": "Pneumonitis",
        "grade": 2,
        "onset_date": (today - timedelta(days=1)).isoformat(),
        "end_date": None,
        "ongoing": True,
        "serious": False,
        "seriousness_criteria": [],
        "attribution": {name: "unrelated" for name in ATTRIBUTIONS},
        "action_taken": "none",
        "outcome": "not_recovered",
        "death_date": None,
    }
    payload.update(changes)
    return payload


def api_grade5_payload(**changes) -> dict:
    today = timezone.localdate()
    payload = api_ae_payload(
        grade=5,
        outcome="fatal",
        death_date=today.isoformat(),
        serious=True,
        seriousness_criteria=["death"],
        ongoing=False,
    )
    payload.update(changes)
    return payload


def ae_form_post(ae, **changes) -> dict:
    """The AE page form's POST data for an existing AE, as its edit page shows it."""
    data = {
        "ctcae_term": ae.ctcae_term.term,
        "other_specify": ae.other_specify,
        "grade": str(ae.grade),
        "onset_date": ae.onset_date.isoformat(),
        "end_date": ae.end_date.isoformat() if ae.end_date else "",
        "serious": str(ae.serious),
        "seriousness_criteria": list(ae.seriousness_criteria),
        "action_taken": ae.action_taken,
        "outcome": ae.outcome,
        "death_date": ae.death_date.isoformat() if ae.death_date else "",
        "version": str(ae.version),
    }
    for name in ATTRIBUTIONS:
        data[f"attribution_{name}"] = getattr(ae, f"attribution_{name}")
    if ae.ongoing:
        data["ongoing"] = "on"
    data.update(changes)
    return data
