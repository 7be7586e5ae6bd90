"""A transaction PostgreSQL aborts for a deadlock is run again whole; the user never sees it."""

import threading

import pytest
from django.db import OperationalError, connection, transaction
from psycopg import errors as pg_errors

from scr_escc.models import Site
from scr_escc.transactions import ATTEMPTS, DatabaseBusy, retry_on_conflict


@pytest.mark.django_db(transaction=True)
def test_a_real_deadlock_is_retried_and_both_transactions_commit(sh01, sh02):
    """Two transactions lock two sites in opposite orders: PostgreSQL aborts one (deadlock
    detected); the retry runs it again after the other committed, and both changes land."""
    both_hold_one = threading.Barrier(2)
    attempts = {"first": 0, "second": 0}
    errors = []

    def lock_both(name: str, first: Site, second: Site) -> None:
        @retry_on_conflict
        def work():
            attempts[name] += 1
            with transaction.atomic():
                Site.objects.select_for_update().get(pk=first.pk)
                if attempts[name] == 1:
                    both_hold_one.wait(10)
                site = Site.objects.select_for_update().get(pk=second.pk)
                Site.objects.filter(pk=site.pk).update(name=f"{site.name} {name}")

        try:
            work()
        except Exception as error:  # surfaced below
            errors.append(error)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=lock_both, args=("first", sh01, sh02)),
        threading.Thread(target=lock_both, args=("second", sh02, sh01)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert errors == []
    assert sorted(attempts.values()) == [1, 2]  # exactly one was aborted and run again
    names = set(Site.objects.filter(pk__in=[sh01.pk, sh02.pk]).values_list("name", flat=True))
    assert names == {f"{sh01.name} second", f"{sh02.name} first"}


def deadlock() -> OperationalError:
    """What Django raises for PostgreSQL's "deadlock detected" (psycopg's error as the cause)."""
    error = OperationalError("deadlock detected")
    error.__cause__ = pg_errors.DeadlockDetected("deadlock detected")
    return error


@pytest.mark.django_db(transaction=True)
def test_after_the_last_attempt_the_user_is_told_to_try_again():
    calls = []

    @retry_on_conflict
    def always_deadlocks():
        calls.append(1)
        raise deadlock()

    with pytest.raises(DatabaseBusy):
        always_deadlocks()
    assert len(calls) == ATTEMPTS


@pytest.mark.django_db(transaction=True)
def test_other_database_errors_are_not_retried():
    calls = []

    @retry_on_conflict
    def fails():
        calls.append(1)
        raise OperationalError("server closed the connection")

    with pytest.raises(OperationalError):
        fails()
    assert len(calls) == 1


@pytest.mark.django_db
def test_inside_a_callers_transaction_the_error_goes_up_unretried():
    calls = []

    @retry_on_conflict
    def deadlocks():
        calls.append(1)
        raise deadlock()

    with pytest.raises(OperationalError):
        deadlocks()  # the test's own transaction is open: only its owner could retry
    assert len(calls) == 1


@pytest.mark.parametrize(
    ("path", "content_type"), [("/api/v1/screenings/", "application/json"), ("/screenings/new/", "text/html")]
)
def test_a_deadlock_outside_a_service_is_a_503_try_again_never_a_500(path, content_type, rf):
    from scr_escc.middleware import ApiErrorMiddleware

    response = ApiErrorMiddleware(lambda request: None).process_exception(rf.post(path), deadlock())
    assert response.status_code == 503
    assert response["Content-Type"].startswith(content_type)
    assert "try again" in response.content.decode().lower()


@pytest.mark.django_db
def test_pages_that_save_say_try_again_when_the_database_stays_busy(login, coordinator, sh01, monkeypatch):
    """After the last attempt the form says so, with nothing saved: never a 500."""
    from enrollment import services as enrollment_services
    from enrollment.models import Screening
    from safety import services as safety_services
    from safety.models import AdverseEvent
    from tests.enrollment.test_consistency_checks import form_post
    from tests.factories import eligible_screening_data, make_ae, make_participant
    from tests.safety.ae_payloads import ae_form_post

    participant = make_participant(site=sh01, user=coordinator)
    template = make_ae(participant=participant, user=coordinator)
    screenings, aes = Screening.objects.count(), AdverseEvent.objects.count()

    def busy(**kwargs):
        raise DatabaseBusy()

    monkeypatch.setattr(enrollment_services, "create_screening", busy)
    monkeypatch.setattr(safety_services, "record_adverse_event", busy)
    client = login(coordinator)
    for url, post in (
        ("/screenings/new/", form_post(eligible_screening_data(), sh01)),
        (f"/participants/{participant.subject_id}/adverse-events/new/", ae_form_post(template)),
    ):
        response = client.post(url, post)
        assert response.status_code == 200, url
        assert "nothing was saved. Please try again." in response.content.decode(), url
    assert (Screening.objects.count(), AdverseEvent.objects.count()) == (screenings, aes)
