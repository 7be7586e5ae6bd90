"""Races against PostgreSQL with real threads: one answer per open query, one automatic query per
rule and record, and a casebook lock that no concurrent write slips past."""

import threading
import time

import pytest
from django.db import connection, transaction

from enrollment.models import Screening
from enrollment.services import update_screening
from monitoring import casebook
from monitoring.casebook import CasebookLocked, CasebookRefused
from monitoring.models import CasebookLock, Query, QueryStep
from monitoring.queries import QueryRefused, answer_query, raise_query
from monitoring.rules import raise_automatic_queries
from safety.models import AdverseEvent
from tests.efficacy.conftest import ago, enrolled
from tests.factories import make_ae

pytestmark = pytest.mark.django_db(transaction=True)


def run_together(*works):
    """Each work in its own thread and connection, started together; returns what each raised."""
    barrier = threading.Barrier(len(works))
    outcomes = [None] * len(works)

    def run(index, work):
        try:
            barrier.wait(timeout=10)
            work()
        except Exception as error:  # reported to the test
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, w)) for i, w in enumerate(works)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return outcomes


@pytest.mark.parametrize("round_", range(3))
def test_two_answers_at_once_make_one_answer_step(round_, grade_query, coordinator, investigator):
    outcomes = run_together(
        lambda: answer_query(query=grade_query, user=coordinator, text="Grade 2", correction={"grade": 3}),
        lambda: answer_query(query=grade_query, user=investigator, text="Grade 2", correction={"grade": 4}),
    )
    assert sorted(type(o).__name__ for o in outcomes) == ["NoneType", "QueryRefused"]
    assert QueryStep.objects.filter(query=grade_query, action="answered").count() == 1
    grade_query.refresh_from_db()
    assert (grade_query.status, grade_query.version) == ("answered", 2)
    step = QueryStep.objects.get(query=grade_query, action="answered")
    grade_query.refresh_from_db()
    ae = grade_query.participant.adverse_events.get()
    assert (ae.grade, ae.version, step.correction["new"]) == (int(step.correction["new"]), 2, str(ae.grade))
    assert isinstance([o for o in outcomes if o][0], QueryRefused)


@pytest.mark.parametrize("round_", range(3))
def test_two_sweeps_at_once_raise_one_automatic_query(round_, sh01, coordinator, study):
    person = enrolled(site=sh01, user=coordinator, days_ago=100)
    ae = make_ae(participant=person, user=coordinator, onset_date=ago(80))
    AdverseEvent.objects.filter(pk=ae.pk).update(onset_date=ago(95))  # as if entered long ago, unswept
    assert not Query.objects.exists()
    outcomes = run_together(raise_automatic_queries, raise_automatic_queries)
    assert outcomes == [None, None]
    assert Query.objects.filter(rule="ae-end-date-missing").count() == 1


def _hold(work, *, started: threading.Event, seconds: float = 1.0):
    """`work` in a transaction kept open `seconds` after it ran, so the other thread meets its locks."""

    def held():
        with transaction.atomic():
            work()
            started.set()
            time.sleep(seconds)

    return held


def _after(event: threading.Event, work):
    def later():
        assert event.wait(10)
        work()

    return later


def test_a_correction_while_the_casebook_is_being_locked_is_refused(
    signed_casebook, participant, admin_user, coordinator
):
    locking = threading.Event()
    outcomes = run_together(
        _hold(lambda: casebook.lock(participant=participant, user=admin_user), started=locking),
        _after(
            locking,
            lambda: update_screening(
                screening=participant.screening, data={"ecog": 0}, user=coordinator, reason="Typo"
            ),
        ),
    )
    assert outcomes[0] is None and isinstance(outcomes[1], CasebookLocked)
    assert Screening.objects.get(pk=participant.screening_id).ecog == 1
    signed_casebook.refresh_from_db()
    assert signed_casebook.superseded_at is None


def test_a_lock_while_a_correction_is_being_saved_is_refused(signed_casebook, participant, admin_user, coordinator):
    correcting = threading.Event()
    outcomes = run_together(
        _hold(
            lambda: update_screening(
                screening=participant.screening, data={"ecog": 0}, user=coordinator, reason="Typo"
            ),
            started=correcting,
        ),
        _after(correcting, lambda: casebook.lock(participant=participant, user=admin_user)),
    )
    assert outcomes[0] is None and isinstance(outcomes[1], CasebookRefused)
    assert not CasebookLock.objects.exists()
    signed_casebook.refresh_from_db()
    assert signed_casebook.superseded_at is not None


def test_a_query_raised_on_a_record_is_seen_by_the_next_reader(grade_query, monitor, ae):
    """Sanity: fixtures commit in transactional tests (the threads above read them)."""
    assert raise_query(user=monitor, record=ae, text="Second question").pk != grade_query.pk
