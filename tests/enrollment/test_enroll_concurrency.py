"""Concurrent enrollment (SPEC §3, §5) on real PostgreSQL: subject IDs without gaps or duplicates, a hard run-in cap."""

import threading

import pytest
from django.db import connection

from enrollment.models import Participant, SiteCounter
from scr_escc.models import Study
from tests.factories import SiteFactory, UserFactory, make_screening


def enroll_all_at_once(requests: list[tuple]) -> list:
    """POST each (client, screening) enroll request from its own thread, all released together by a barrier.

    One client per request: a test client is not shared between threads.
    """
    barrier = threading.Barrier(len(requests))
    results: list = [None] * len(requests)

    def worker(index, client, screening):
        try:
            barrier.wait(timeout=30)
            response = client.post(f"/api/v1/screenings/{screening.pk}/enroll/")
            results[index] = (response.status_code, response.json())
        except Exception as error:  # surfaced by the caller's assertions
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, *request)) for i, request in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads)
    return results


@pytest.mark.django_db(transaction=True)
def test_thirty_concurrent_enrollments_at_one_site_get_thirty_consecutive_subject_ids(api, sh01, coordinator, study):
    Study.objects.filter(pk=1).update(run_in_max=40)  # this test is about numbering, not the cap
    screenings = [make_screening(site=sh01, user=coordinator) for _ in range(30)]

    results = enroll_all_at_once([(api(coordinator), screening) for screening in screenings])

    assert [r[0] if isinstance(r, tuple) else r for r in results] == [201] * 30
    subject_ids = sorted(body["subject_id"] for _, body in results)
    assert subject_ids == [f"SH01-{n:03d}" for n in range(1, 31)]
    assert sorted(Participant.objects.values_list("sequence", flat=True)) == list(range(1, 31))
    assert Participant.objects.values("screening").distinct().count() == 30
    assert SiteCounter.objects.get(site=sh01).last_subject == 30


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("n_sites, attempts", [(1, 26), (1, 32), (6, 30)])
def test_concurrent_enrollments_never_exceed_the_run_in_maximum(n_sites, attempts, api, sh01, study):
    """Exactly 25 run-in places, whoever races for them; the losers hear why; each site still numbers 001, 002…

    Spread over several sites, nothing but the study row lock stands between the racers and the cap.
    """
    assert study.run_in_max == 25  # the Study row's default, as the protocol sets it
    sites = [sh01] + [SiteFactory(code=f"SH{n:02d}") for n in range(2, n_sites + 1)]
    coordinator = UserFactory(username="racer", role="coordinator", sites=sites)
    screenings = [make_screening(site=sites[i % n_sites], user=coordinator) for i in range(attempts)]

    results = enroll_all_at_once([(api(coordinator), screening) for screening in screenings])

    assert all(isinstance(r, tuple) for r in results), results
    enrolled = [body for status, body in results if status == 201]
    refused = [(status, body) for status, body in results if status != 201]
    assert len(enrolled) == 25
    assert len(refused) == attempts - 25
    for status, body in refused:
        assert status == 409 and list(body) == ["detail"]
        assert "run-in is full (25 of 25)" in body["detail"]
    assert Participant.objects.filter(cohort="run_in").count() == Participant.objects.count() == 25
    for site in sites:
        ids = sorted(Participant.objects.filter(site=site).values_list("subject_id", flat=True))
        assert ids == [f"{site.code}-{n:03d}" for n in range(1, len(ids) + 1)]
        assert SiteCounter.objects.get(site=site).last_subject == len(ids)  # refusals take no number
