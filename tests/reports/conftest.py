"""A randomized cohort with tumour assessments, progressions and deaths, for the Efficacy page."""

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from efficacy.assessments import record_baseline, record_follow_up
from enrollment.models import Participant
from enrollment.services import record_death
from randomization.lists import generate_allocation_list
from randomization.services import randomize
from scr_escc.models import Study
from tests.factories import make_participant, strong_seed

TARGETS = [{"organ": "liver", "location": "", "lymph_node": False, "diameter_mm": Decimal(40)}]


def _scan(participant, user, day, mm, *, pd=False):
    data = {
        "assessment_date": day,
        "method": "ct",
        "new_lesion": "yes" if pd else "no",
        "new_lesion_description": "brain" if pd else "",
        "investigator_response": "PD" if pd else "SD",
        "comments": "",
    }
    record_follow_up(participant=participant, data=data, targets={"T1": Decimal(mm)}, non_targets={}, user=user)


def _randomized(site, user, admin_user, ecog, days_ago):
    participant = make_participant(
        site=site,
        user=user,
        ecog=ecog,
        enrollment_date=timezone.localdate() - timedelta(days=days_ago + 3),
        screening_date=timezone.localdate() - timedelta(days=days_ago + 4),
        consent_date=timezone.localdate() - timedelta(days=days_ago + 5),
    )
    randomize(participant=participant, user=user)
    start = timezone.localdate() - timedelta(days=days_ago)
    moment = timezone.make_aware(datetime.combine(start, time(10)))
    Participant.objects.filter(pk=participant.pk).update(randomized_at=moment)  # randomized `days_ago` days ago
    participant.refresh_from_db()
    return participant, start


@pytest.fixture
def randomized_trial(sh01, coordinator, investigator, admin_user, study):
    """16 randomized participants (ECOG 0 and 1 strata), each with a baseline and scans every 42 days;
    every third progresses at its second scan, every fifth dies 100 days in (from progression or not)."""
    Study.objects.filter(pk=1).update(phase=Study.Phase.RANDOMIZATION)
    generate_allocation_list(seed=strong_seed("efficacy-report"), per_stratum=12, user=admin_user)
    people = []
    for i in range(16):
        participant, start = _randomized(sh01, coordinator, admin_user, ecog=i % 2, days_ago=260 + 7 * i)
        record_baseline(
            participant=participant,
            data={"assessment_date": start - timedelta(days=2), "method": "ct", "comments": ""},
            targets=TARGETS,
            non_targets=[],
            user=coordinator,
        )
        _scan(participant, coordinator, start + timedelta(days=42), 38)
        if i % 3 == 0:
            _scan(participant, coordinator, start + timedelta(days=84 + i), 39, pd=True)
        else:
            _scan(participant, coordinator, start + timedelta(days=84 + i), 37)
            _scan(participant, coordinator, start + timedelta(days=126 + i), 36)
        if i % 5 == 0:
            record_death(
                participant=participant,
                death_date=start + timedelta(days=150 + i),
                cause="Progression",
                user=investigator,
            )
        people.append(participant)
    return people
