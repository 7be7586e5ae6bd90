"""Two treatment-related Grade 5 AEs saved at the same moment cannot both miss the threshold."""

import threading

import pytest
from django.db import connection

from scr_escc.models import Alert, PhaseTransition, Study
from scr_escc.selectors import get_study
from tests.factories import make_ae, make_participant


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(3))
def test_concurrent_grade5_entries_halt_once(round_, sh01, coordinator, pi):
    first = make_participant(site=sh01, user=coordinator)
    second = make_participant(site=sh01, user=coordinator)
    barrier = threading.Barrier(2)
    errors = []

    def record(participant):
        try:
            barrier.wait(timeout=10)
            make_ae(participant=participant, user=coordinator, grade=5, related="definite")
        except Exception as error:  # surfaced below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=record, args=(p,)) for p in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert errors == []
    study = get_study()
    assert study.treatment_related_grade5 == 2
    assert study.phase == Study.Phase.HALTED
    assert Alert.objects.filter(kind="stopping_rule_triggered").count() == 1
    assert PhaseTransition.objects.filter(to_phase="halted").count() == 1
    assert Alert.objects.filter(kind="stopping_rule_warning").count() <= 1
