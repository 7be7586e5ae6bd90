"""Only an AE that is, or was, Grade 5 waits for the study row; other AE saves never do.

A second connection holds the study row's lock for the whole test; this connection may wait
for a lock at most 300 ms (`lock_timeout`). A save that needs the study lock fails with
"lock timeout" and writes nothing; a save that does not need it goes through at once.
"""

import threading
from contextlib import contextmanager

import pytest
from django.db import OperationalError, connection, transaction

from safety.models import AdverseEvent
from safety.services import sign_attribution, update_adverse_event, void_adverse_event
from scr_escc.phases import lock_study
from tests.factories import ae_data, make_ae, make_participant


@contextmanager
def study_locked_elsewhere():
    locked, release = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic():
                lock_study()
                locked.set()
                release.wait(30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert locked.wait(10)
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '300ms'")
    try:
        yield
    finally:
        release.set()
        holder.join(30)
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")


def lock_timed_out(error: OperationalError) -> bool:
    return getattr(error.__cause__, "sqlstate", None) == "55P03"


pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def participant(sh01, coordinator):
    return make_participant(site=sh01, user=coordinator)


def test_a_new_non_fatal_ae_does_not_wait_for_the_study_row(participant, coordinator):
    with study_locked_elsewhere():
        ae = make_ae(participant=participant, user=coordinator, grade=3, related="possible")
    assert AdverseEvent.objects.filter(pk=ae.pk, grade=3).exists()


def test_a_new_grade5_ae_waits_for_the_study_row(participant, coordinator):
    with study_locked_elsewhere():
        with pytest.raises(OperationalError) as refused:
            make_ae(participant=participant, user=coordinator, grade=5, related="definite")
    assert lock_timed_out(refused.value)
    assert AdverseEvent.objects.count() == 0


def test_correcting_a_non_fatal_ae_does_not_wait(participant, coordinator):
    ae = make_ae(participant=participant, user=coordinator, grade=2)
    with study_locked_elsewhere():
        update_adverse_event(ae=ae, data={"grade": 3}, user=coordinator, reason="Re-graded from the chart")
    assert AdverseEvent.objects.get(pk=ae.pk).grade == 3


def test_correcting_an_ae_to_grade5_waits(participant, coordinator):
    ae = make_ae(participant=participant, user=coordinator, grade=3)
    death = ae_data(grade=5, related="definite")
    with study_locked_elsewhere():
        with pytest.raises(OperationalError) as refused:
            update_adverse_event(ae=ae, data=death, user=coordinator, reason="The patient died of it")
    assert lock_timed_out(refused.value)
    assert AdverseEvent.objects.get(pk=ae.pk).grade == 3


def test_correcting_a_grade5_ae_to_a_lower_grade_waits(participant, coordinator):
    ae = make_ae(participant=participant, user=coordinator, grade=5, related="definite")
    survived = {"grade": 4, "outcome": "recovering", "death_date": None, "ongoing": True}
    with study_locked_elsewhere():
        with pytest.raises(OperationalError) as refused:
            update_adverse_event(ae=ae, data=survived, user=coordinator, reason="Entered as a death in error")
    assert lock_timed_out(refused.value)
    assert AdverseEvent.objects.get(pk=ae.pk).grade == 5


def test_voiding_a_non_fatal_ae_does_not_wait_but_voiding_a_death_does(participant, coordinator):
    minor = make_ae(participant=participant, user=coordinator, grade=1)
    death = make_ae(participant=participant, user=coordinator, grade=5, related="definite")
    with study_locked_elsewhere():
        void_adverse_event(ae=minor, user=coordinator, reason="Duplicate entry")
        with pytest.raises(OperationalError) as refused:
            void_adverse_event(ae=death, user=coordinator, reason="Wrong patient")
    assert lock_timed_out(refused.value)
    assert AdverseEvent.objects.get(pk=minor.pk).voided is True
    assert AdverseEvent.objects.get(pk=death.pk).voided is False


def test_signing_off_a_non_fatal_ae_does_not_wait(participant, coordinator, investigator, password):
    ae = make_ae(participant=participant, user=coordinator, grade=3, related="possible")
    with study_locked_elsewhere():
        sign_attribution(ae=ae, user=investigator, password=password)
    assert AdverseEvent.objects.get(pk=ae.pk).attribution_signature_id is not None
