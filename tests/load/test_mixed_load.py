"""Sixteen API clients at three sites screen, enroll, record AEs and randomize at once.

Real threads, each with its own PostgreSQL connection, through the whole API stack. What
must hold under that load: no 5xx (and every request answered as it would be alone), no
deadlock (so no transaction had to be retried), subject and screening numbers gap-free per
site, every allocation-list entry used once and in order, and the stopping-rule count equal
to a recount from the AE rows.

This test failed with "deadlock detected" when a row lock also locked the joined Site
(`select_for_update()` with `select_related("site")`, without `of=("self",)`).
"""

import logging
import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from enrollment.models import Participant, Screening
from randomization.lists import generate_allocation_list
from randomization.models import Allocation, AllocationEntry
from safety.models import AdverseEvent
from safety.selectors import stopping_rule_count
from scr_escc.models import Study
from scr_escc.selectors import get_study
from tests.conftest import api_client_for
from tests.factories import SiteFactory, UserFactory, eligible_screening_data, make_participant, strong_seed
from tests.safety.ae_payloads import api_ae_payload, api_grade5_payload

CLIENTS = 16
PATIENTS_EACH = 16  # 256 patients, 512 AEs, about 1,600 requests
SITES = ("SH01", "SH02", "SH03")


class RetryLog(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.records = []

    def emit(self, record):
        self.records.append(record.getMessage())


def screening_payload(site: str, n: int) -> dict:
    data = eligible_screening_data(ecog=n % 2)
    return {"site": site, **{k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in data.items()}}


refusals: list = []


def client_journey(client, site: str, index: int, log: list, run_in: str | None) -> None:
    """One coordinator's session: for each patient, screen, enroll, randomize, two AEs, a read."""

    def call(method: str, path: str, expected: int, payload=None):
        response = getattr(client, method)(path, payload, format="json")
        log.append((method.upper(), path.split("/")[3], response.status_code, expected))
        if response.status_code != expected and response.status_code < 500:
            refusals.append(response.json())
        return response.json() if response.status_code == expected else None

    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    for n in range(PATIENTS_EACH):
        screening = call("post", "/api/v1/screenings/", 201, screening_payload(site, n))
        if screening is None:
            continue
        enrolled = call("post", f"/api/v1/screenings/{screening['id']}/enroll/", 201)
        if enrolled is None:
            continue
        subject = enrolled["subject_id"]
        allocation = call("post", f"/api/v1/participants/{subject}/randomize/", 201)
        if allocation is None:
            continue
        attribution = dict(api_ae_payload()["attribution"])
        if allocation["arm"] == "B":  # Arm B receives no radiotherapy
            attribution.update(ldrt="not_applicable", cfrt="not_applicable")
        aes = f"/api/v1/participants/{subject}/adverse-events/"
        fatigue = api_ae_payload(term="Fatigue", grade=1 + n % 3, onset_date=yesterday, attribution=attribution)
        call("post", aes, 201, fatigue)
        if n == PATIENTS_EACH // 2 and run_in is not None:  # a run-in death: the stopping rule counts it
            run_in_death = api_grade5_payload(attribution={**api_ae_payload()["attribution"], "pd1": "probable"})
            call("post", f"/api/v1/participants/{run_in}/adverse-events/", 201, run_in_death)
        if n == PATIENTS_EACH - 1 and index < 3:  # randomized-phase deaths: reported, not counted
            call("post", aes, 201, api_grade5_payload(attribution={**attribution, "pd1": "unrelated"}))
        else:
            serious = {"serious": True, "seriousness_criteria": ["hospitalization"]} if n % 5 == 0 else {}
            call("post", aes, 201, api_ae_payload(term="Anemia", grade=3, attribution=attribution, **serious))
        call("get", f"/api/v1/participants/?site={site}", 200)


@pytest.mark.django_db(transaction=True)
def test_sixteen_clients_at_three_sites_screen_enroll_randomize_and_record_aes(study, admin_user):
    sites = {code: SiteFactory(code=code, name=f"Hospital {code}") for code in SITES}
    users = [
        UserFactory(username=f"coord{i}", role="coordinator", sites=[sites[SITES[i % len(SITES)]]])
        for i in range(CLIENTS)
    ]
    clients = [(api_client_for(user), SITES[i % len(SITES)], i) for i, user in enumerate(users)]
    run_in = make_participant(site=sites["SH01"], user=users[0])
    Study.objects.filter(pk=1).update(phase=Study.Phase.RANDOMIZATION)
    generate_allocation_list(seed=strong_seed("load"), per_stratum=200, user=admin_user)
    retries = RetryLog()
    logging.getLogger("scr_escc.transactions").addHandler(retries)
    logs: list[list] = [[] for _ in clients]
    crashes: list[BaseException] = []
    start = threading.Barrier(CLIENTS)

    def run(client, code, i):
        try:
            start.wait(30)
            client_journey(client, code, i, logs[i], run_in.subject_id if i == 0 else None)
        except BaseException as error:  # surfaced below
            crashes.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=args) for args in clients]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(600)
    finally:
        logging.getLogger("scr_escc.transactions").removeHandler(retries)

    answers = [entry for log in logs for entry in log]
    assert crashes == []
    assert [a for a in answers if a[2] >= 500] == []
    assert refusals == []
    assert Counter((a[0], a[1], a[2]) for a in answers if a[2] != a[3]) == Counter()
    assert retries.records == []  # no deadlock or serialization failure happened at all
    patients = CLIENTS * PATIENTS_EACH
    assert len(answers) == patients * 6 + 1

    for code, site in sites.items():
        screened = sorted(Screening.objects.filter(site=site).values_list("sequence", flat=True))
        enrolled = sorted(Participant.objects.filter(site=site).values_list("sequence", flat=True))
        assert screened == list(range(1, len(screened) + 1)), code
        assert enrolled == list(range(1, len(enrolled) + 1)), code
    assert Participant.objects.count() == patients + 1

    allocations = Allocation.objects.all()
    assert allocations.count() == patients == Participant.objects.exclude(arm=None).count()
    assert len({a.entry_id for a in allocations}) == patients
    for stratum in {entry.stratum_id for entry in AllocationEntry.objects.filter(allocation__isnull=False)}:
        entries = AllocationEntry.objects.filter(stratum=stratum).order_by("sequence").values_list("pk", flat=True)
        used = set(allocations.filter(entry__stratum=stratum).values_list("entry_id", flat=True))
        assert set(entries[: len(used)]) == used, "an entry was skipped: the used entries must be the first ones"

    assert AdverseEvent.objects.count() == patients * 2 + 1
    study = get_study()
    assert study.treatment_related_grade5 == stopping_rule_count() == 1
    assert study.phase == Study.Phase.RANDOMIZATION
