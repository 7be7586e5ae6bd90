"""Benchmark: the adverse-events CSV export at 200,000 rows, side by side with PostgreSQL's COPY.

    make bench                      # or: python -m config.devstack bench bench/export_bench.py
    make bench ARGS="--rows 50000"

Runs on its own embedded PostgreSQL cluster (.data/bench). Loads the rows once (kept between
runs), then in one process times, alternately and `--repeat` times each:

  * ours: `reports.exports.start_export()` — the streamed generator the page and the API
    return (PostgreSQL writes the CSV, Python passes ~1 MB chunks on, plus the audit record) —
    consumed chunk by chunk the way the WSGI server sends it;
  * COPY: `COPY (<the dataset's cells SELECT>) TO STDOUT WITH (FORMAT csv)` through psycopg,
    only counting the bytes (the database's own best case).

Memory: the peak resident set size sampled every 2 ms during the run, minus the size just
before it. Prints a Markdown table for docs/PERFORMANCE.md and writes bench/results/export.json.
"""

import argparse
import json
import os
import statistics
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from enrollment.models import Participant, Screening, SiteCounter  # noqa: E402
from reports.exports import DATASETS, start_export  # noqa: E402
from safety.models import AdverseEvent, CtcaeTerm  # noqa: E402
from scr_escc.models import Role, Site, User  # noqa: E402
from tests.factories import eligible_screening_data  # noqa: E402

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE


class PeakRss:
    """Samples the resident set size in a thread; `growth` is the peak minus the size at start."""

    def __enter__(self):
        self.start = self.peak = rss()
        self.running = True
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def _sample(self):
        while self.running:
            self.peak = max(self.peak, rss())
            time.sleep(0.002)

    def __exit__(self, *exc):
        self.running = False
        self.thread.join()
        self.peak = max(self.peak, rss())
        self.growth = self.peak - self.start


def load(rows: int) -> User:
    """Sites, an admin, 2,000 participants and `rows` AEs with every kind of cell (kept between runs)."""
    call_command("migrate", verbosity=0)
    admin, _ = User.objects.get_or_create(username="bench-admin")
    admin.groups.set([django.contrib.auth.models.Group.objects.get(name=Role.ADMIN)])
    have = AdverseEvent.objects.count()
    if have == rows:
        return admin
    if have:
        sys.exit(f".data/bench holds {have} AEs, not {rows}: `make reset` or pass --rows {have}")
    started = time.perf_counter()
    sites = [Site.objects.get_or_create(code=code, defaults={"name": f"Bench {code}"})[0] for code in ("SH01", "SH02")]
    today = timezone.localdate()
    data = eligible_screening_data()
    participants_n = 2000
    screenings = Screening.objects.bulk_create(
        Screening(
            site=sites[i % 2],
            sequence=i,
            screening_number=f"{sites[i % 2].code}-S{i:05d}",
            created_by=admin,
            eligible=True,
            **data,
        )
        for i in range(participants_n)
    )
    people = Participant.objects.bulk_create(
        Participant(
            subject_id=f"{s.site.code}-{i:04d}",
            site=s.site,
            sequence=i,
            screening=s,
            enrollment_date=today - timedelta(days=i % 300),
            cohort="run_in" if i < 25 else "randomized",
            enrolled_by=admin,
        )
        for i, s in enumerate(screenings)
    )
    for site in sites:
        SiteCounter.objects.update_or_create(
            site=site, defaults={"last_screening": participants_n, "last_subject": participants_n}
        )
    terms = list(CtcaeTerm.objects.filter(grade_4__gt="-").exclude(term__endswith="Other, specify")[:200])
    other = CtcaeTerm.objects.get(term="Gastrointestinal disorders - Other, specify")
    free_text = ["放射性食管炎伴吞咽困难", '=HYPERLINK("http://x","y")', "Oesophageal stent, migrated"]
    batch = []
    for i in range(rows):
        k = i % 50
        coded = k != 0
        term = terms[i % len(terms)] if coded else other
        batch.append(
            AdverseEvent(
                participant=people[i % participants_n],
                ctcae_term=term,
                term=term.term if coded else free_text[i % 3],
                other_specify="" if coded else free_text[i % 3],
                soc=term.soc,
                grade=1 + i % 4,
                onset_date=today - timedelta(days=i % 400),
                ongoing=k % 2 == 0,
                end_date=None if k % 2 == 0 else today,
                serious=k == 3,
                seriousness_criteria=["hospitalization"] if k == 3 else [],
                attribution_pd1="possible" if k % 5 == 0 else "unlikely",
                attribution_chemo="unrelated",
                attribution_ldrt="not_applicable",
                attribution_cfrt="unrelated",
                outcome="recovering",
                treatment_related=k % 5 == 0,
                created_by=admin,
            )
        )
        if len(batch) == 10_000:
            AdverseEvent.objects.bulk_create(batch)
            batch.clear()
    AdverseEvent.objects.bulk_create(batch)
    connection.cursor().execute("VACUUM ANALYZE")
    print(f"loaded {rows:,} AEs in {time.perf_counter() - started:.1f} s", flush=True)
    return admin


def run_ours(admin) -> dict:
    with PeakRss() as memory:
        started = time.perf_counter()
        export = start_export(user=admin, dataset="adverse_events", deidentified=False, channel="bench")
        size = sum(len(chunk) for chunk in export.content)
        seconds = time.perf_counter() - started
    export.record.refresh_from_db()
    return {"seconds": seconds, "bytes": size, "rows": export.record.row_count, "rss_growth": memory.growth}


def run_copy() -> dict:
    dataset = DATASETS["adverse_events"]
    sql, params = dataset.cells(list(dataset.columns)).query.sql_with_params()
    size = 0
    with PeakRss() as memory:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            with cursor.cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params) as copy:
                for data in copy:
                    size += len(data)
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "bytes": size, "rows": AdverseEvent.objects.count(), "rss_growth": memory.growth}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    admin = load(args.rows)
    run_ours(admin), run_copy()  # warm the caches once, untimed
    ours, copy = [], []
    for _ in range(args.repeat):
        ours.append(run_ours(admin))
        copy.append(run_copy())

    def summary(runs):
        seconds = statistics.median(r["seconds"] for r in runs)
        return {
            "rows": runs[0]["rows"],
            "megabytes": runs[0]["bytes"] / 1e6,
            "median_seconds": seconds,
            "rows_per_second": runs[0]["rows"] / seconds,
            "peak_rss_growth_mb": max(r["rss_growth"] for r in runs) / 2**20,
        }

    result = {
        "ours": summary(ours),
        "copy": summary(copy),
        "repeat": args.repeat,
        "postgres": connection.pg_version,
        "python": sys.version.split()[0],
    }
    result["throughput_ratio"] = result["ours"]["rows_per_second"] / result["copy"]["rows_per_second"]
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    (ROOT / "bench" / "results" / "export.json").write_text(json.dumps(result, indent=2))
    print()
    print("| | rows | MB | median s | rows/s | peak RSS growth |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, key in (("streamed export (ours)", "ours"), ("PostgreSQL COPY, same SELECT", "copy")):
        r = result[key]
        print(
            f"| {name} | {r['rows']:,} | {r['megabytes']:.1f} | {r['median_seconds']:.2f} | "
            f"{r['rows_per_second']:,.0f} | {r['peak_rss_growth_mb']:.1f} MB |"
        )
    print(
        f"\nthroughput: ours = {result['throughput_ratio']:.0%} of COPY (target ≥ 80%); "
        f"memory growth {result['ours']['peak_rss_growth_mb']:.1f} MB (target < 50 MB)"
    )


if __name__ == "__main__":
    main()
