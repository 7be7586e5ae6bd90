"""Benchmark: the coordinator worklist and the participant's efficacy summary, the new per-request costs of site staff.

    python -m config.devstack bench bench/worklist_bench.py
    python -m config.devstack bench bench/worklist_bench.py --repeat 50
    python -m config.devstack bench bench/worklist_bench.py --profile     # + cProfile of the two selectors
    python -m config.devstack bench bench/worklist_bench.py --reload      # rebuild the data

Runs on the embedded cluster of `make bench` (.data/bench), in a database of its own, `worklist`
(the `bench` database of bench/export_bench.py and the `load` ones of bench/load_bench.py are
never touched). Loads once, kept between runs (rebuilt when the set of migrations or LOAD_VERSION
changes, or with --reload), with bulk_create (the services' rules do not run; the computed
columns — sum, nadir, changes, responses — are written as the services would, plausibly):

  * 3 sites (SH01–SH03), a coordinator per site, 2,000 participants (~667 a site) enrolled over
    the last 18 months, all on study; the first 25 the run-in (scheduled from enrollment), the
    others randomized (arm A/B, scheduled from randomization), arm A and the run-in with an LDRT course;
  * systemic therapy: a cycle every 21 days (some delayed, reduced or omitted), 3 agents a cycle,
    from C1D1 until progression or today;
  * a baseline scan with 3 target lesions and 1 non-target, follow-up scans every ~42 days (about
    8% missed, 10% late), each with its 4 lesion results; about 30% progress (one scan computed
    PD, no scan after it), then survival follow-up contacts every ~84 days (some missed) and, for
    half of them, a new anticancer therapy;
  * about 4,000 AEs (the shape bench/export_bench.py makes), 30% ongoing and not updated since onset;
  * 15 eligible screenings a site not yet enrolled.

Then, in one process, alternately and --repeat times each (after one untimed warm-up round):

  * `efficacy.worklist.worklist_for(<SH01's coordinator>)`;
  * `GET /` and `GET /worklist/` as that coordinator (Django's test Client, force_login);
  * `efficacy.selectors.efficacy_summary(p)` and `GET /participants/<p>/` for the participant
    with the longest history (~26 cycles, 12 scans), and the summary of a short one (3 cycles,
    1 scan) to see whether the number of queries grows with the records.

Times are wall clock with nothing capturing queries; the number of queries and their summed
time come from one more run of each inside CaptureQueriesContext. Prints a Markdown table for
docs/PERFORMANCE.md and writes bench/results/worklist.json.
"""

import argparse
import cProfile
import hashlib
import io
import json
import math
import os
import platform
import pstats
import random
import statistics
import sys
import time
import urllib.parse
from datetime import date, datetime, timedelta
from datetime import time as dt_time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

DATABASE = "worklist"
LOAD_VERSION = "1"  # raise it when the loaded data change: the database is then rebuilt
SEED = 20261130
SITES = ("SH01", "SH02", "SH03")
PARTICIPANTS = 2000
RUN_IN = 25
AES = 4000
ENROLLMENT_DAYS = 540  # 18 months
CYCLE_DAYS = 21
SCAN_DAYS = 42
CONTACT_DAYS = 84


# --- the database of this benchmark (before Django is set up) -------------------------------


def _marker() -> str:
    digest = hashlib.sha256(LOAD_VERSION.encode())
    for migration in sorted(ROOT.glob("*/migrations/0*.py")):
        digest.update(str(migration.relative_to(ROOT)).encode())
    return "scr-worklist " + digest.hexdigest()[:16]


def _use_own_database(reload: bool) -> bool:
    """Point DATABASE_URL at the `worklist` database of the same cluster; True when it must be loaded."""
    import psycopg

    base = os.environ.get("DATABASE_URL")
    if not base:
        sys.exit("DATABASE_URL is not set: run me through `python -m config.devstack bench bench/worklist_bench.py`")
    parts = urllib.parse.urlsplit(base)
    if parts.path.lstrip("/") == DATABASE:
        sys.exit(f"DATABASE_URL already names the `{DATABASE}` database")
    # libpq reads the URL itself, a percent-encoded socket directory as the host included.
    admin = psycopg.connect(base.replace("postgres://", "postgresql://", 1), autocommit=True)
    with admin:
        found = admin.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [DATABASE]
        ).fetchone()
        fresh = reload or found is None or found[0] != _marker()
        if fresh:
            if found is not None:
                admin.execute(f'DROP DATABASE "{DATABASE}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{DATABASE}"')
    url = urllib.parse.urlunsplit((parts.scheme, parts.netloc, f"/{DATABASE}", parts.query, parts.fragment))
    os.environ["DATABASE_URL"] = url
    return fresh


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--reload", action="store_true", help="drop and load the data again")
    parser.add_argument("--profile", action="store_true", help="print cProfile of the worklist and the summary")
    return parser.parse_args()


ARGS = _arguments()
MUST_LOAD = _use_own_database(ARGS.reload)

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.template.loader import render_to_string  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from efficacy.models import (  # noqa: E402
    FollowUpContact,
    Lesion,
    LesionResult,
    NewAnticancerTherapy,
    RadiotherapyCourse,
    SystemicDose,
    TumourAssessment,
)
from efficacy.selectors import efficacy_summary  # noqa: E402
from efficacy.worklist import worklist_for  # noqa: E402
from enrollment.models import Participant, Screening, SiteCounter  # noqa: E402
from safety.models import AdverseEvent, CtcaeTerm  # noqa: E402
from scr_escc.models import Role, Site, User  # noqa: E402
from tests.factories import eligible_screening_data  # noqa: E402

LONG = "SH01-0001"  # enrolled 540 days ago, never progressed, every visit on time
SHORT = "SH01-0002"  # enrolled 60 days ago


# --- load ------------------------------------------------------------------------------------


def _one_decimal(value: float) -> Decimal:
    return Decimal(str(round(value, 1)))


def _pct(new: Decimal, old: Decimal) -> Decimal | None:
    return _one_decimal(float((new - old) / old * 100)) if old else None


class Loader:
    def __init__(self, today: date):
        self.rng = random.Random(SEED)
        self.today = today
        self.doses, self.courses, self.scans, self.contacts, self.therapies = [], [], [], [], []
        self.lesion_plan = []  # (baseline scan, [(target, number, organ, node, baseline mm)])
        self.result_plan = []  # (scan, [diameter or None per target] , non-target status)

    def participant_records(self, person: Participant, user: User, *, steady: bool) -> None:
        rng, today = self.rng, self.today
        anchor = person.enrollment_date if person.cohort == "run_in" else timezone.localdate(person.randomized_at)
        of = {"participant": person, "created_by": user}
        # Scans: the baseline before C1D1, then every 42 days from the anchor.
        lesions = [
            (True, 1, "oesophagus", False, rng.uniform(20, 50)),
            (True, 2, "liver", False, rng.uniform(15, 35)),
            (True, 3, "lymph node", True, rng.uniform(15, 25)),
            (False, 1, "lung", False, None),
        ]
        baseline = TumourAssessment(assessment_date=anchor - timedelta(days=rng.randint(1, 14)), baseline=True, **of)
        base_sum = sum(_one_decimal(mm) for target, *_rest, mm in lesions if target)
        baseline.sum_mm = base_sum
        self.scans.append(baseline)
        self.lesion_plan.append((baseline, lesions))
        self.result_plan.append((baseline, [_one_decimal(mm) for *_x, mm in lesions[:3]], "present"))
        progresses = not steady and rng.random() < 0.30
        responder = rng.random() < 0.4
        planned = []
        n = 1
        while anchor + timedelta(days=SCAN_DAYS * n) <= today - timedelta(days=3):
            target = anchor + timedelta(days=SCAN_DAYS * n)
            roll = rng.random()
            if steady:
                planned.append(target + timedelta(days=rng.randint(-3, 3)))
            elif roll < 0.08:
                pass  # missed
            elif roll < 0.18:
                planned.append(min(target + timedelta(days=rng.randint(9, 20)), today))  # late
            else:
                planned.append(target + timedelta(days=rng.randint(-5, 5)))
            n += 1
        pd_at = rng.randrange(len(planned)) if progresses and planned else None
        nadir, progression = base_sum, None
        for k, day in enumerate(planned[: None if pd_at is None else pd_at + 1]):
            if k == pd_at:
                factor = float(nadir / base_sum) * 1.3 + 0.05
            elif responder:
                factor = max(0.45, 1 - 0.2 * (k + 1)) * rng.uniform(0.95, 1.05)
            else:
                factor = rng.uniform(0.85, 1.08)
            diameters = [_one_decimal(mm * factor) for *_x, mm in lesions[:3]]
            total = sum(diameters)
            scan = TumourAssessment(assessment_date=day, method="ct", **of)
            scan.sum_mm, scan.nadir_mm = total, nadir
            scan.change_from_baseline_pct = _pct(total, base_sum)
            scan.change_from_nadir_pct = _pct(total, nadir)
            if k == pd_at:
                scan.target_response, scan.non_target_response = "PD", "NN"
                progression = day
            else:
                scan.target_response = "PR" if scan.change_from_baseline_pct <= -30 else "SD"
                scan.non_target_response = "NN"
            scan.computed_response = scan.target_response
            scan.investigator_response = scan.computed_response if rng.random() < 0.95 else "SD"
            self.scans.append(scan)
            self.result_plan.append((scan, diameters, "present"))
            nadir = min(nadir, total)
        # Systemic therapy: a cycle every 21 days from C1D1 until progression or today.
        day, cycle = anchor + timedelta(days=rng.randint(0, 7)), 1
        stop = progression or today
        while day <= stop:
            roll = 1.0 if steady else rng.random()
            for agent, dose, unit in (("pd1", "200", "mg"), ("paclitaxel", "135", "mg/m2"), ("platinum", "5", "AUC")):
                change, given, reason = "as_planned", Decimal(dose), ""
                if roll < 0.02:
                    change, given, reason = "omitted", None, "Neutropenia (bench data)"
                elif roll < 0.05:
                    if agent != "pd1":
                        change, given = "reduced", Decimal(dose) * Decimal("0.8")
                        reason = "Grade 2 neuropathy (bench data)"
                elif roll < 0.10:
                    change, reason = "delayed", "Patient's request (bench data)"
                unit_given = unit if given is not None else ""
                self.doses.append(
                    SystemicDose(
                        cycle=cycle,
                        agent=agent,
                        administered_on=day,
                        dose=given,
                        unit=unit_given,
                        change=change,
                        change_reason=reason,
                        **of,
                    )
                )
            day += timedelta(days=CYCLE_DAYS + (7 if 0.05 <= roll < 0.10 else 0))
            cycle += 1
        if person.cohort == "run_in" or person.arm == "A":
            start = anchor + timedelta(days=rng.randint(0, 7))
            end = start + timedelta(days=4)
            self.courses.append(
                RadiotherapyCourse(
                    modality="ldrt",
                    start_date=start,
                    end_date=end if end <= today else None,
                    total_dose_gy=Decimal("4.00"),
                    fractions=2,
                    target_site="primary oesophageal tumour",
                    **of,
                )
            )
        # Survival follow-up after progression.
        if progression is not None:
            if rng.random() < 0.5 and progression + timedelta(days=20) <= today:
                self.therapies.append(
                    NewAnticancerTherapy(
                        start_date=progression + timedelta(days=20), kind="systemic", therapy="irinotecan", **of
                    )
                )
            n = 1
            while progression + timedelta(days=CONTACT_DAYS * n) <= today - timedelta(days=3):
                if rng.random() >= 0.10:
                    contact = progression + timedelta(days=CONTACT_DAYS * n + rng.randint(-5, 5))
                    self.contacts.append(FollowUpContact(contact_date=contact, method="phone", **of))
                n += 1

    def save(self) -> None:
        SystemicDose.objects.bulk_create(self.doses, batch_size=5000)
        RadiotherapyCourse.objects.bulk_create(self.courses, batch_size=5000)
        TumourAssessment.objects.bulk_create(self.scans, batch_size=5000)
        FollowUpContact.objects.bulk_create(self.contacts, batch_size=5000)
        NewAnticancerTherapy.objects.bulk_create(self.therapies, batch_size=5000)
        lesions, by_baseline = [], {}
        for baseline, plan in self.lesion_plan:
            made = [
                Lesion(baseline=baseline, target=target, number=number, organ=organ, lymph_node=node)
                for target, number, organ, node, _mm in plan
            ]
            lesions += made
            by_baseline[baseline.participant_id] = made
        Lesion.objects.bulk_create(lesions, batch_size=5000)
        results = []
        for scan, diameters, status in self.result_plan:
            made = by_baseline[scan.participant_id]
            results += [
                LesionResult(assessment=scan, lesion=lesion, diameter_mm=mm)
                for lesion, mm in zip(made[:3], diameters, strict=True)
            ]
            results.append(LesionResult(assessment=scan, lesion=made[3], status=status))
        LesionResult.objects.bulk_create(results, batch_size=5000)


def _adverse_events(people: list[Participant], rng: random.Random, today: date) -> None:
    """About 2 AEs a participant, as bench/export_bench.py makes them; 30% ongoing, untouched since onset."""
    terms = list(CtcaeTerm.objects.filter(grade_4__gt="-").exclude(term__endswith="Other, specify")[:200])
    batch = []
    for i in range(AES):
        person = people[rng.randrange(len(people))]
        term = terms[i % len(terms)]
        onset = person.enrollment_date + timedelta(days=rng.randint(0, (today - person.enrollment_date).days))
        ongoing = rng.random() < 0.3
        batch.append(
            AdverseEvent(
                participant=person,
                ctcae_term=term,
                term=term.term,
                soc=term.soc,
                grade=1 + i % 4,
                onset_date=onset,
                ongoing=ongoing,
                end_date=None if ongoing else min(today, onset + timedelta(days=rng.randint(0, 30))),
                serious=i % 50 == 3,
                seriousness_criteria=["hospitalization"] if i % 50 == 3 else [],
                attribution_pd1="possible" if i % 5 == 0 else "unlikely",
                attribution_chemo="unrelated",
                attribution_ldrt="not_applicable",
                attribution_cfrt="unrelated",
                outcome="not_recovered" if ongoing else "recovered",
                treatment_related=i % 5 == 0,
                created_by=person.enrolled_by,
            )
        )
    AdverseEvent.objects.bulk_create(batch, batch_size=5000)
    with connection.cursor() as cursor:  # last touched on the day of onset (auto_now made it "now")
        cursor.execute(
            "UPDATE safety_adverseevent"
            " SET created_at = onset_date + time '12:00', updated_at = onset_date + time '12:00'"
        )


def load() -> None:
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    if Participant.objects.exists():
        sys.exit(f"the `{DATABASE}` database is not empty: pass --reload")
    rng = random.Random(SEED)
    today = timezone.localdate()
    with transaction.atomic():
        sites = [Site.objects.create(code=code, name=f"Bench {code}") for code in SITES]
        coordinators = []
        coordinator_group = Group.objects.get(name=Role.COORDINATOR)
        for site in sites:
            user = User.objects.create_user(username=f"coord-{site.code.lower()}", password="bench-password")
            user.groups.set([coordinator_group])
            user.sites.set([site])
            coordinators.append(user)
        # Enrollment spread over 18 months; the two named SH01 participants are fixed.
        enrolled = sorted(today - timedelta(days=rng.randint(0, ENROLLMENT_DAYS)) for _ in range(PARTICIPANTS))
        data = eligible_screening_data()
        sequence = {s.code: 0 for s in sites}
        screenings, people = [], []
        for i, day in enumerate(enrolled):
            site = sites[i % len(sites)]
            sequence[site.code] += 1
            number = sequence[site.code]
            if (site.code, number) == ("SH01", 1):
                day = today - timedelta(days=ENROLLMENT_DAYS)
            elif (site.code, number) == ("SH01", 2):
                day = today - timedelta(days=60)
            fields = {**data, "screening_date": day - timedelta(days=3), "consent_date": day - timedelta(days=4)}
            screening = Screening(
                site=site,
                sequence=number,
                screening_number=f"{site.code}-S{number:04d}",
                created_by=coordinators[i % len(sites)],
                eligible=True,
                **fields,
            )
            screenings.append(screening)
            run_in = i < RUN_IN and number > 2
            people.append(
                Participant(
                    subject_id=f"{site.code}-{number:04d}",
                    site=site,
                    sequence=number,
                    screening=screening,
                    enrollment_date=day,
                    cohort="run_in" if run_in else "randomized",
                    arm=None if run_in else "AB"[i % 2],
                    randomized_at=None if run_in else timezone.make_aware(datetime.combine(day, dt_time(10))),
                    enrolled_by=coordinators[i % len(sites)],
                )
            )
        waiting = []
        for k, site in enumerate(sites):
            for n in range(15):
                sequence[site.code] += 1
                number = sequence[site.code]
                screened = today - timedelta(days=n + 1)
                waiting.append(
                    Screening(
                        site=site,
                        sequence=number,
                        screening_number=f"{site.code}-S{number:04d}",
                        created_by=coordinators[k],
                        eligible=True,
                        **{**data, "screening_date": screened, "consent_date": screened - timedelta(days=1)},
                    )
                )
        Screening.objects.bulk_create(screenings + waiting, batch_size=2000)
        Participant.objects.bulk_create(people, batch_size=2000)
        for site in sites:
            last = sequence[site.code]
            SiteCounter.objects.update_or_create(
                site=site,
                defaults={"last_screening": last, "last_subject": sum(p.site_id == site.pk for p in people)},
            )
        loader = Loader(today)
        by_site = {s.pk: u for s, u in zip(sites, coordinators, strict=True)}
        for person in people:
            loader.participant_records(person, by_site[person.site_id], steady=person.subject_id == LONG)
        loader.save()
        _adverse_events(people, rng, today)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        # Marked only once loaded: an interrupted load is dropped and loaded again next time.
        cursor.execute(f"COMMENT ON DATABASE \"{DATABASE}\" IS '{_marker()}'")
    print(
        f"loaded {Participant.objects.count():,} participants, {SystemicDose.objects.count():,} doses, "
        f"{TumourAssessment.objects.count():,} scans, {LesionResult.objects.count():,} lesion results, "
        f"{FollowUpContact.objects.count():,} contacts, {AdverseEvent.objects.count():,} AEs "
        f"in {time.perf_counter() - started:.1f} s",
        flush=True,
    )


# --- measure ---------------------------------------------------------------------------------


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def _get(client: Client, path: str):
    def run():
        response = client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path}: {response.status_code}")
        return response

    return run


def _machine() -> dict:
    with open("/proc/meminfo") as meminfo:
        total_kb = next(int(line.split()[1]) for line in meminfo if line.startswith("MemTotal:"))
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "ram_gib": round(total_kb / 2**20, 1),
        "load_average": os.getloadavg(),
        "python": platform.python_version(),
        "postgres": connection.pg_version,
    }


def _profile(name: str, call) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(5):
        call()
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(r"efficacy|scr_escc|enrollment|safety|template/(loader|base)", 25)
    stats.sort_stats("tottime").print_stats(15)
    print(f"\n### cProfile: {name} (5 calls)\n{out.getvalue()}")


def main() -> None:
    if MUST_LOAD:
        load()
    coordinator = User.objects.get(username="coord-sh01")
    long, short = Participant.objects.get(subject_id=LONG), Participant.objects.get(subject_id=SHORT)
    client = Client()
    client.force_login(coordinator)
    of_long = {
        "cycles": SystemicDose.objects.filter(participant=long).values("cycle").distinct().count(),
        "scans": TumourAssessment.objects.filter(participant=long, baseline=False).count(),
    }
    of_short = {
        "cycles": SystemicDose.objects.filter(participant=short).values("cycle").distinct().count(),
        "scans": TumourAssessment.objects.filter(participant=short, baseline=False).count(),
    }
    cases = {
        "worklist_for(coordinator SH01)": lambda: worklist_for(coordinator),
        "GET / (home, worklist panel)": _get(client, "/"),
        "GET /worklist/": _get(client, "/worklist/"),
        f"efficacy_summary({LONG}: {of_long['cycles']} cycles, {of_long['scans']} scans)": lambda: efficacy_summary(
            long
        ),
        f"GET /participants/{LONG}/": _get(client, f"/participants/{LONG}/"),
        f"efficacy_summary({SHORT}: {of_short['cycles']} cycles, {of_short['scans']} scans)": lambda: efficacy_summary(
            short
        ),
        f"GET /participants/{SHORT}/": _get(client, f"/participants/{SHORT}/"),
    }
    panel_work = worklist_for(coordinator)
    cases["render worklist_panel.html alone (worklist computed before)"] = lambda: render_to_string(
        "efficacy/worklist_panel.html", {"work": panel_work, "home": True}
    )
    for call in cases.values():  # warm the caches once, untimed
        call()
    times = {name: [] for name in cases}
    for _ in range(ARGS.repeat):
        for name, call in cases.items():
            started = time.perf_counter()
            call()
            times[name].append((time.perf_counter() - started) * 1000)
    queries = {}
    for name, call in cases.items():
        with CaptureQueriesContext(connection) as captured:
            call()
        queries[name] = {
            "count": len(captured.captured_queries),
            "sql_ms": sum(float(q["time"]) for q in captured.captured_queries) * 1000,
        }
    work = worklist_for(coordinator)
    in_scope = Participant.objects.filter(site__code="SH01", status="on_study").count()
    result = {
        "when": datetime.now().astimezone().isoformat(timespec="minutes"),
        "command": "python -m config.devstack bench bench/worklist_bench.py"
        + (f" --repeat {ARGS.repeat}" if ARGS.repeat != 20 else ""),
        "repeat": ARGS.repeat,
        "machine": _machine(),
        "data": {
            "participants": Participant.objects.count(),
            "sh01_on_study": in_scope,
            "doses": SystemicDose.objects.count(),
            "sh01_doses": SystemicDose.objects.filter(participant__site__code="SH01").count(),
            "scans": TumourAssessment.objects.count(),
            "lesion_results": LesionResult.objects.count(),
            "contacts": FollowUpContact.objects.count(),
            "aes": AdverseEvent.objects.count(),
            "worklist_items": {
                "assessments": len(work.assessments),
                "follow_ups": len(work.follow_ups),
                "cycles": len(work.cycles),
                "stale_aes": len(work.stale_aes),
                "screenings": len(work.screenings),
            },
        },
        "cases": {
            name: {
                "p50_ms": statistics.median(values),
                "p95_ms": _percentile(values, 95),
                "queries": queries[name]["count"],
                "sql_ms": queries[name]["sql_ms"],
            }
            for name, values in times.items()
        },
    }
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    (ROOT / "bench" / "results" / "worklist.json").write_text(json.dumps(result, indent=2, default=str))
    print(f"\n{json.dumps(result['data'])}\nmachine: {json.dumps(result['machine'], default=str)}\n")
    print("| | p50 ms | p95 ms | queries | SQL ms (of one run) |")
    print("|---|---:|---:|---:|---:|")
    for name, r in result["cases"].items():
        print(f"| {name} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['queries']} | {r['sql_ms']:.1f} |")
    if ARGS.profile:
        for name in ("worklist_for(coordinator SH01)", "GET / (home, worklist panel)", f"GET /participants/{LONG}/"):
            with CaptureQueriesContext(connection) as captured:
                cases[name]()
            print(f"\n### queries: {name}, slowest first (ms, SQL)")
            for q in sorted(captured.captured_queries, key=lambda q: -float(q["time"]))[:12]:
                print(f"{float(q['time']) * 1000:7.1f}  {q['sql'][:300]}")
        _profile("worklist_for", cases["worklist_for(coordinator SH01)"])
        _profile(f"efficacy_summary({LONG})", lambda: efficacy_summary(long))
        _profile("GET /", cases["GET / (home, worklist panel)"])
        _profile(f"GET /participants/{LONG}/", cases[f"GET /participants/{LONG}/"])


if __name__ == "__main__":
    main()
