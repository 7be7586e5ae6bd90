"""Concurrent enrollment (SPEC §3) through the real API, threads against the real PostgreSQL."""

import threading

import pytest
from django.db import connection

from enrollment.models import Participant
from scr_escc.models import Study
from tests.conftest import api_client_for
from tests.factories import make_screening


def _enroll_all(screenings, user) -> list:
    """POST /enroll/ for every screening at the same moment; returns the responses."""
    barrier = threading.Barrier(len(screenings))
    responses, errors = [None] * len(screenings), []

    def worker(index, screening):
        try:
            client = api_client_for(user)
            barrier.wait(timeout=30)
            responses[index] = client.post(f"/api/v1/screenings/{screening.pk}/enroll/")
        except Exception as error:  # an exception here is a failure of the test, reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, s)) for i, s in enumerate(screenings)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    assert errors == []
    return responses


@pytest.mark.django_db(transaction=True)
def test_thirty_concurrent_enrollments_get_thirty_consecutive_subject_ids(sh01, coordinator, study):
    Study.objects.filter(pk=1).update(run_in_max=40)
    screenings = [make_screening(site=sh01, user=coordinator) for _ in range(30)]
    responses = _enroll_all(screenings, coordinator)
    assert [r.status_code for r in responses] == [201] * 30
    ids = sorted(r.json()["subject_id"] for r in responses)
    assert ids == [f"SH01-{n:03d}" for n in range(1, 31)]
    assert Participant.objects.count() == 30


@pytest.mark.django_db(transaction=True)
def test_the_run_in_maximum_holds_under_concurrency_across_sites(sh01, sh02, coordinator, investigator, study):
    """30 run-in enrollments at two sites at once: the study row lock, not a site's counter, caps the run-in."""
    investigator.sites.add(sh02)
    assert study.run_in_max == 25
    screenings = [make_screening(site=(sh01, sh02)[i % 2], user=investigator) for i in range(30)]
    responses = _enroll_all(screenings, investigator)
    enrolled = [r for r in responses if r.status_code == 201]
    refused = [r for r in responses if r.status_code == 409]
    assert len(enrolled) == 25 and len(refused) == 5
    assert all("run-in is full (25 of 25)" in r.json()["detail"] for r in refused)
    assert Participant.objects.filter(cohort="run_in").count() == 25
    for site in ("SH01", "SH02"):  # each site's numbers still consecutive from 001
        numbers = sorted(int(r.json()["subject_id"][5:]) for r in enrolled if r.json()["subject_id"].startswith(site))
        assert numbers == list(range(1, len(numbers) + 1))
