"""SPEC §4–§5: the stopping-rule count, the automatic halt, and the alerts they cause."""

import pytest

from enrollment.services import enroll_participant
from safety.selectors import stopping_rule_count
from safety.services import update_adverse_event
from scr_escc.exceptions import StudyHalted
from scr_escc.models import Alert, PhaseTransition, Study
from scr_escc.selectors import get_study
from scr_escc.services import resume_study, update_study_settings
from tests.factories import make_ae, make_participant, make_screening


@pytest.fixture
def run_in(sh01, coordinator, pi, admin_user, study):
    update_study_settings(user=admin_user, data={"safety_contact_emails": "dsmb@example.org"}, reason="DSMB contact")
    return [make_participant(site=sh01, user=coordinator) for _ in range(22)]


def _alerts(kind):
    return list(Alert.objects.filter(kind=kind))


def test_full_scenario(run_in, coordinator, admin_user, sh01, django_capture_on_commit_callbacks):
    first, second = run_in[0], run_in[1]

    unrelated = make_ae(participant=first, user=coordinator, grade=5, related="unlikely")
    assert stopping_rule_count() == 0 and get_study().treatment_related_grade5 == 0
    assert not _alerts("stopping_rule_warning")
    update_adverse_event(
        ae=unrelated,
        data={
            "grade": 4,
            "outcome": "not_recovered",
            "death_date": None,
            "serious": False,
            "seriousness_criteria": [],
            "ongoing": True,
        },
        user=coordinator,
        reason="Patient alive: grade entered wrongly",
    )

    make_ae(participant=first, user=coordinator, grade=5, related="possible", term="Sepsis")
    assert get_study().treatment_related_grade5 == 1
    assert len(_alerts("stopping_rule_warning")) == 1

    make_ae(participant=run_in[2], user=coordinator, grade=4, related="definite")
    assert get_study().treatment_related_grade5 == 1
    assert len(_alerts("stopping_rule_warning")) == 1

    halting = make_ae(participant=second, user=coordinator, grade=5, related="probable", term="Pneumonitis")
    study = get_study()
    assert study.treatment_related_grade5 == 2
    assert study.phase == Study.Phase.HALTED
    triggered = _alerts("stopping_rule_triggered")
    assert len(triggered) == 1
    assert "pi@example.org" in triggered[0].recipients and "dsmb@example.org" in triggered[0].recipients
    assert second.subject_id in triggered[0].body and "2 of 2" in triggered[0].subject

    with pytest.raises(StudyHalted):
        enroll_participant(screening=make_screening(site=sh01, user=coordinator), user=coordinator)

    update_adverse_event(
        ae=halting,
        data={"attribution_chemo": "unlikely"},
        user=coordinator,
        reason="Autopsy: progression, not toxicity",
    )
    study = get_study()
    assert study.treatment_related_grade5 == 1
    assert study.phase == Study.Phase.HALTED
    assert len(_alerts("stopping_rule_warning")) == 1  # no repeat

    resume_study(user=admin_user, reason="Re-attribution after autopsy")
    assert get_study().phase == Study.Phase.RUN_IN
    assert PhaseTransition.objects.filter(to_phase="run_in", by=admin_user).exists()
