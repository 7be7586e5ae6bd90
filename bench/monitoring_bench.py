"""Benchmark: what monitoring adds to every audited write, and the cost of a casebook's hash.

    python -m config.devstack bench bench/monitoring_bench.py
    python -m config.devstack bench bench/monitoring_bench.py --repeat 50

Runs on the embedded cluster of `make bench` (.data/bench), in a database of its own, `monitoring`,
built afresh on every run through the services (so every rule and hook runs): one site, a
coordinator, an investigator, a monitor and a data manager, and one participant with a long
casebook — 20 AEs, 26 treatment cycles (78 doses), a baseline and 11 follow-up scans with three
target lesions each, and a few follow-up records.

Then, --repeat times each, wall clock:

  * an AE correction (`update_adverse_event`) with monitoring's write guard and change listeners,
    and the same with the hook registries emptied (the cost of the hooks themselves);
  * the same correction of a participant whose signed casebook it supersedes (the snapshot is
    hashed), measured on the first change after each new signature;
  * `casebook.snapshot()` + its hash, and `casebook.status()` (the casebook page's read).

The number of queries of each comes from one more run inside CaptureQueriesContext. Prints a
Markdown table for docs/PERFORMANCE.md and writes bench/results/monitoring.json.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time
import urllib.parse
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
DATABASE = "monitoring"


def _use_own_database() -> None:
    import psycopg

    base = os.environ.get("DATABASE_URL")
    if not base:
        sys.exit("DATABASE_URL is not set: run me through `python -m config.devstack bench bench/monitoring_bench.py`")
    parts = urllib.parse.urlsplit(base)
    admin = psycopg.connect(base.replace("postgres://", "postgresql://", 1), autocommit=True)
    with admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{DATABASE}"')
    os.environ["DATABASE_URL"] = urllib.parse.urlunsplit(
        (parts.scheme, parts.netloc, f"/{DATABASE}", parts.query, parts.fragment)
    )


parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--repeat", type=int, default=30)
ARGS = parser.parse_args()
_use_own_database()

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from efficacy import assessments, followup, treatment  # noqa: E402
from monitoring import casebook  # noqa: E402
from monitoring.values import content_hash  # noqa: E402
from safety.models import AdverseEvent  # noqa: E402
from safety.services import update_adverse_event  # noqa: E402
from scr_escc import audit  # noqa: E402
from tests.efficacy.conftest import cycle_doses, three_targets  # noqa: E402
from tests.factories import PASSWORD, SiteFactory, UserFactory, make_ae, make_participant  # noqa: E402


def _ago(days: int):
    return timezone.localdate() - timedelta(days=days)


def _load():
    call_command("migrate", verbosity=0)
    site = SiteFactory(code="SH01", name="Shanghai Chest Hospital")
    coordinator = UserFactory(username="coordinator", role="coordinator", sites=[site])
    investigator = UserFactory(username="investigator", role="investigator", sites=[site])
    participant = make_participant(
        site=site, user=coordinator, enrollment_date=_ago(560), screening_date=_ago(561), consent_date=_ago(562)
    )
    for cycle in range(1, 27):
        treatment.record_cycle(
            participant=participant, cycle=cycle, doses=cycle_doses(_ago(550 - 21 * cycle)), user=coordinator
        )
    assessments.record_baseline(
        participant=participant,
        data={"assessment_date": _ago(558), "method": "ct"},
        targets=three_targets(),
        non_targets=[],
        user=coordinator,
    )
    for scan in range(1, 12):
        assessments.record_follow_up(
            participant=participant,
            data={
                "assessment_date": _ago(558 - 42 * scan),
                "method": "ct",
                "new_lesion": "no",
                "investigator_response": "SD",
            },
            targets={"T1": Decimal(29), "T2": Decimal(20), "T3": Decimal(10)},
            non_targets={},
            user=coordinator,
        )
    for i in range(20):
        make_ae(participant=participant, user=coordinator, grade=1 + i % 3, onset_date=_ago(500 - 20 * i))
    followup.record_contact(
        participant=participant, data={"contact_date": _ago(3), "method": "phone", "notes": ""}, user=coordinator
    )
    return participant, coordinator, investigator


def _correct(ae_pk: int, user):
    """Flip the AE's grade between 1 and 2: every run is a real change."""
    ae = AdverseEvent.objects.get(pk=ae_pk)
    grade = 2 if ae.grade == 1 else 1
    return update_adverse_event(ae=ae, data={"grade": grade}, user=user, reason="Source", expected_version=ae.version)


def _timed(work, *, before=None) -> tuple[list[float], int]:
    if before:
        before()
    work(-1)  # an untimed warm-up round
    times = []
    for i in range(ARGS.repeat):
        if before:
            before()
        start = time.perf_counter()
        work(i)
        times.append((time.perf_counter() - start) * 1000)
    if before:
        before()
    with CaptureQueriesContext(connection) as queries:
        work(ARGS.repeat)
    return times, len(queries)


def main() -> None:
    participant, coordinator, investigator = _load()
    ae_pk = AdverseEvent.objects.filter(participant=participant).order_by("pk").values_list("pk", flat=True).first()
    records = len(casebook.snapshot(participant))
    rows = {}
    rows["AE correction, monitoring's hooks"] = _timed(lambda i: _correct(ae_pk, coordinator))
    guards, listeners = dict(audit._WRITE_GUARDS), dict(audit._CHANGE_LISTENERS)
    audit._WRITE_GUARDS.clear()
    audit._CHANGE_LISTENERS.clear()
    rows["AE correction, no hooks"] = _timed(lambda i: _correct(ae_pk, coordinator))
    audit._WRITE_GUARDS.update(guards)
    audit._CHANGE_LISTENERS.update(listeners)

    def sign():
        casebook.sign(participant=participant, user=investigator, password=PASSWORD)

    rows["AE correction superseding a signed casebook"] = _timed(lambda i: _correct(ae_pk, coordinator), before=sign)
    rows["casebook snapshot + SHA-256"] = _timed(lambda i: content_hash(casebook.snapshot(participant)))
    rows["casebook.status() (the casebook page's read)"] = _timed(lambda i: casebook.status(participant))
    result = {
        "python": platform.python_version(),
        "repeat": ARGS.repeat,
        "casebook_records": records,
        "rows": {
            name: {
                "p50_ms": round(statistics.median(t), 1),
                "p95_ms": round(sorted(t)[int(0.95 * (len(t) - 1))], 1),
                "queries": q,
            }
            for name, (t, q) in rows.items()
        },
    }
    print(f"\nOne participant, {records} records in the casebook; {ARGS.repeat} runs each.\n")
    print("| what | p50 | p95 | queries |\n|---|---|---|---|")
    for name, row in result["rows"].items():
        print(f"| {name} | {row['p50_ms']} ms | {row['p95_ms']} ms | {row['queries']} |")
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "monitoring.json").write_text(json.dumps(result, indent=2))


main()
