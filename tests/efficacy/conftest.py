"""Participants and valid efficacy inputs; each test changes only what it is about."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from efficacy.models import Agent
from randomization.lists import generate_allocation_list
from randomization.services import randomize
from scr_escc.models import Study
from tests.factories import make_participant, strong_seed


def ago(days: int):
    """The date `days` days before today (negative: after)."""
    return timezone.localdate() - timedelta(days=days)


def enrolled(*, site, user, days_ago: int = 60, **changes):
    """A participant enrolled `days_ago` days ago (consented and screened the days before)."""
    return make_participant(
        site=site,
        user=user,
        enrollment_date=ago(days_ago),
        screening_date=ago(days_ago + 1),
        consent_date=ago(days_ago + 2),
        **changes,
    )


def dose_row(day=None, **changes) -> dict:
    """One agent of a cycle, given as planned."""
    row = {"administered_on": day or ago(1), "change": "as_planned", "dose": Decimal("200"), "unit": "mg"}
    row["change_reason"] = ""
    row.update(changes)
    return row


def cycle_doses(day=None, **per_agent) -> dict:
    """The three agents of a cycle given as planned on `day`; `per_agent` overrides an agent's row."""
    rows = {agent.value: dose_row(day) for agent in Agent}
    for agent, changes in per_agent.items():
        rows[agent].update(changes)
    return rows


def course_data(**changes) -> dict:
    data = {
        "modality": "ldrt",
        "start_date": ago(5),
        "end_date": ago(1),
        "total_dose_gy": Decimal("4.00"),
        "fractions": 2,
        "target_site": "Primary oesophageal tumour",
    }
    data.update(changes)
    return data


def three_targets(sizes=(30, 20, 10)) -> list[dict]:
    """Three measurable non-nodal targets in three organs."""
    organs = ("liver", "lung", "adrenal")
    return [
        {"organ": organ, "location": "", "lymph_node": False, "diameter_mm": Decimal(size)}
        for organ, size in zip(organs, sizes, strict=True)
    ]


@pytest.fixture
def run_in(sh01, coordinator, study):
    """A run-in participant of SH01 enrolled 60 days ago."""
    return enrolled(site=sh01, user=coordinator, days_ago=60)


@pytest.fixture
def randomization_open(study):
    Study.objects.filter(pk=1).update(phase=Study.Phase.RANDOMIZATION)


@pytest.fixture
def allocation_list(db, admin_user):
    return generate_allocation_list(seed=strong_seed("efficacy-seed"), per_stratum=40, user=admin_user)


@pytest.fixture
def randomized(randomization_open, allocation_list, sh01, coordinator):
    """`randomized(arm)`: a randomized-cohort participant of SH01 randomized (now) to `arm`."""

    def make(arm: str):
        for _ in range(20):
            participant = enrolled(site=sh01, user=coordinator, days_ago=10)
            if randomize(participant=participant, user=coordinator).arm == arm:
                participant.refresh_from_db()
                return participant
        raise AssertionError(f"No arm {arm} in 20 randomizations")

    return make
