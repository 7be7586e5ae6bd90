"""The run-in count is kept on the locked study row by enroll_participant(): the cap and the
open-randomization minimum read it there, so the core never counts clinical rows."""

import pytest

from enrollment.models import Participant
from enrollment.services import EnrollmentRefused, enroll_participant
from scr_escc.models import Study
from scr_escc.selectors import get_study, study_status
from tests.factories import make_participant, make_screening


def test_each_run_in_enrollment_raises_the_count(sh01, coordinator, study):
    for expected in (1, 2, 3):
        make_participant(site=sh01, user=coordinator)
        assert get_study().run_in_enrolled == expected
    assert study_status().run_in_enrolled == Participant.objects.filter(cohort="run_in").count() == 3


def test_randomized_phase_enrollment_leaves_the_run_in_count(sh01, coordinator, study):
    make_participant(site=sh01, user=coordinator)
    Study.objects.filter(pk=1).update(phase=Study.Phase.RANDOMIZATION)
    make_participant(site=sh01, user=coordinator)
    assert get_study().run_in_enrolled == 1


def test_a_refused_enrollment_leaves_the_count_and_creates_no_participant(sh01, coordinator, study):
    Study.objects.filter(pk=1).update(run_in_min=1, run_in_max=1)
    make_participant(site=sh01, user=coordinator)
    with pytest.raises(EnrollmentRefused):
        enroll_participant(screening=make_screening(site=sh01, user=coordinator), user=coordinator)
    assert (get_study().run_in_enrolled, Participant.objects.count()) == (1, 1)
