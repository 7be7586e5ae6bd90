"""The load benchmark's data: `seed` builds the trial once, `prepare` hands out sign-ins per run.

    python -m bench.load.data seed             # DATABASE_URL = the template database (load_seed)
    python -m bench.load.data prepare OUT.json # DATABASE_URL = the run's copy (load)

Run by bench/load_bench.py, never by hand in the `bench` database of bench/export_bench.py.

`seed`: 3 sites, 2,000 participants (enrolled from eligible screenings, plus screen failures),
20,000 AEs, the users of every role, the study in the randomization phase with an active
allocation list and every randomized-cohort participant already randomized. The bulk goes in
with bulk_create (no history rows for it); the site counters, the study's run-in count and
the allocation list are kept consistent, so screenings, enrollments and randomizations made
through the API during the run get the next gap-free numbers and the next list entries.

`prepare`: in the run's copy, a server-side session (with the second factor passed, for the
PI and the data manager) and an API token for every simulated person, and what the load
generator needs to know (sites, participants on study with their arm, terms), as JSON.
"""

import json
import random
import secrets
import string
import sys
import time
from datetime import date, datetime, timedelta
from datetime import time as dt_time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))

import django  # noqa: E402

django.setup()

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Count, Q  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_otp import DEVICE_ID_SESSION_KEY  # noqa: E402
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402
from knox.models import AuthToken  # noqa: E402

from enrollment.eligibility import CRITERIA  # noqa: E402
from enrollment.models import Participant, Screening, SiteCounter  # noqa: E402
from randomization.lists import extend_stratum, generate_allocation_list  # noqa: E402
from randomization.models import Allocation, AllocationEntry, Stratum  # noqa: E402
from safety.models import AdverseEvent, CtcaeTerm  # noqa: E402
from safety.rules import is_treatment_related  # noqa: E402
from scr_escc import services  # noqa: E402
from scr_escc.models import ESignature, PhaseTransition, Role, Site, Study, User  # noqa: E402

SITES = [("SH01", "Shanghai Chest Hospital"), ("SH02", "Bench hospital 2"), ("SH03", "Bench hospital 3")]
PATIENTS = 2000
AES = 20_000
SCREEN_FAILURES = 400
RUN_IN = 25
DEATHS = 40
# Enough list entries per stratum (ECOG 0 / 1) for the seeded participants and many runs' new ones.
PER_STRATUM = 1600
MIN_FREE_ENTRIES = 300
COORDINATORS_PER_SITE = 6
INVESTIGATORS_PER_SITE = 2
MONITORS = 20
# Dashboard viewers: browser sessions of the PI and of the data manager (both with the second factor).
PI_SESSIONS = 4
ADMIN_SESSIONS = 2
PASSWORD = "Bench-Escc-2026"  # noqa: S105 — throw-away bench data
SEED_VERSION = 1


def marker() -> str:
    """What the template database holds; a different marker makes load_bench.py rebuild it."""
    return f"scr-load v{SEED_VERSION} sites={len(SITES)} patients={PATIENTS} aes={AES}"


def usernames() -> dict[str, list[str]]:
    staff = {
        code: [f"coord-{code.lower()}-{n}" for n in range(1, COORDINATORS_PER_SITE + 1)]
        + [f"inv-{code.lower()}-{n}" for n in range(1, INVESTIGATORS_PER_SITE + 1)]
        for code, _name in SITES
    }
    return {
        "staff": [name for names in staff.values() for name in names],
        "monitor": [f"monitor-{n}" for n in range(1, MONITORS + 1)],
        "pi": ["pi"],
        "admin": ["dm"],
    }


# --- seed -------------------------------------------------------------------------------------


def _users(sites: dict[str, Site]) -> dict[str, User]:
    password = make_password(PASSWORD)  # hashed once: PBKDF2 per user would take a second each
    groups = {g.name: g for g in Group.objects.all()}
    made = {}

    def make(username, role, site_codes=()):
        user = User.objects.create(
            username=username,
            email=f"{username}@bench.scr-escc.invalid",
            first_name=username.split("-")[0].title(),
            last_name=username,
            password=password,
            is_staff=role == Role.ADMIN,
        )
        user.groups.set([groups[role]])
        user.sites.set([sites[c] for c in site_codes])
        made[username] = user

    for code, _name in SITES:
        for n in range(1, COORDINATORS_PER_SITE + 1):
            make(f"coord-{code.lower()}-{n}", Role.COORDINATOR, [code])
        for n in range(1, INVESTIGATORS_PER_SITE + 1):
            make(f"inv-{code.lower()}-{n}", Role.INVESTIGATOR, [code])
    for n in range(1, MONITORS + 1):
        make(f"monitor-{n}", Role.MONITOR)
    make("pi", Role.PI)
    make("dm", Role.ADMIN)
    for username in ("pi", "dm"):
        TOTPDevice.objects.create(user=made[username], name="authenticator", confirmed=True)
    return made


def _screening_fields(rng: random.Random, screened: date, *, fail: str | None) -> dict:
    age = rng.randint(42, 78)
    ecog = rng.choice((0, 1))
    data = {
        "initials": "".join(rng.choice(string.ascii_uppercase) for _ in range(rng.choice((2, 3, 3, 4)))),
        "date_of_birth": screened - timedelta(days=365 * age + rng.randint(10, 300)),
        "sex": "male" if rng.random() < 0.7 else "female",
        "consent_date": screened - timedelta(days=rng.randint(0, 5)),
        "screening_date": screened,
        "ecog": ecog,
        "pgsga_score": rng.randint(0, 8),
        "histology": "squamous",
        "notes": "",
        **{c.field: c.inclusion for c in CRITERIA},
    }
    if fail == "EXC6":
        data.update(pgsga_score=rng.randint(9, 20), exc6=True)
    elif fail == "INC3":
        data.update(ecog=2, inc3=False)
    elif fail == "EXC3":
        data.update(exc3=True)
    return data


def seed() -> None:
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    if Participant.objects.exists():
        sys.exit("the seed database is not empty: load_bench.py drops and re-creates it (--reseed)")
    rng = random.Random(20261128)
    today = timezone.localdate()
    with transaction.atomic():
        sites = {code: services.create_site(code=code, name=name) for code, name in SITES}
        users = _users(sites)
        staff_of = {code: [u for u in users.values() if u.site_codes == [code]] for code in sites}
        # Enrollment spread over two years; the run-in is the first 25 participants.
        enrolled_on = sorted(today - timedelta(days=rng.randint(0, 720)) for _ in range(PATIENTS))
        sequence = {code: {"screening": 0, "subject": 0} for code in sites}
        screenings, people = [], []
        rows = [("patient", d) for d in enrolled_on] + [
            ("failure", today - timedelta(days=rng.randint(0, 720))) for _ in range(SCREEN_FAILURES)
        ]
        rows.sort(key=lambda row: row[1])
        for n, (kind, day) in enumerate(rows):
            code = SITES[n % len(SITES)][0]
            site = sites[code]
            screened = max(day - timedelta(days=rng.randint(0, 6)), today - timedelta(days=730))
            fail = None if kind == "patient" else rng.choice(("EXC6", "INC3", "EXC3"))
            sequence[code]["screening"] += 1
            number = sequence[code]["screening"]
            screening = Screening(
                site=site,
                sequence=number,
                screening_number=f"{code}-S{number:04d}",
                created_by=rng.choice(staff_of[code]),
                eligible=fail is None,
                failed_criteria=[fail] if fail else [],
                **_screening_fields(rng, screened, fail=fail),
            )
            screenings.append(screening)
            if kind == "patient":
                people.append((screening, day))
        Screening.objects.bulk_create(screenings, batch_size=2000)
        participants = []
        for n, (screening, day) in enumerate(people):
            code = screening.site.code
            sequence[code]["subject"] += 1
            number = sequence[code]["subject"]
            participants.append(
                Participant(
                    subject_id=f"{code}-{number:03d}",
                    site=screening.site,
                    sequence=number,
                    screening=screening,
                    enrollment_date=day,
                    cohort="run_in" if n < RUN_IN else "randomized",
                    enrolled_by=screening.created_by,
                )
            )
        for code, counts in sequence.items():
            SiteCounter.objects.update_or_create(
                site=sites[code], defaults={"last_screening": counts["screening"], "last_subject": counts["subject"]}
            )
        _open_randomization(users)
        _randomize(participants, users["dm"], rng)
        _statuses(participants, rng, today)
        Participant.objects.bulk_create(participants, batch_size=2000)
        _allocations(participants)
        _adverse_events(participants, rng, today)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(
        f"seeded {Participant.objects.count():,} participants, {Screening.objects.count():,} screenings, "
        f"{AdverseEvent.objects.count():,} AEs in {time.perf_counter() - started:.1f} s",
        flush=True,
    )


def _open_randomization(users: dict[str, User]) -> None:
    """The run-in done (25 enrolled, no counting death), randomization opened by the PI's e-signature."""
    pi = users["pi"]
    study = Study.objects.get(pk=1)
    study.phase = Study.Phase.RANDOMIZATION
    study.run_in_enrolled = RUN_IN
    study.treatment_related_grade5 = 0
    study.safety_contact_emails = "safety@bench.scr-escc.invalid"
    study.save()
    signature = ESignature.objects.create(
        signer=pi,
        signer_name="Pi pi",
        meaning="I confirm the safety criteria for Phase IIb are met",
        action=ESignature.Action.OPEN_RANDOMIZATION,
        content_hash="0" * 64,
    )
    PhaseTransition.objects.create(
        from_phase=Study.Phase.RUN_IN,
        to_phase=Study.Phase.RANDOMIZATION,
        by=pi,
        reason="Run-in complete (bench data)",
        signature=signature,
    )


def _randomize(participants: list[Participant], admin: User, rng: random.Random) -> None:
    """An allocation list (the server draws the seed) and every randomized-cohort participant on it."""
    generate_allocation_list(per_stratum=PER_STRATUM, user=admin)
    entries = {
        stratum.code: list(stratum.entries.order_by("sequence"))
        for stratum in Stratum.objects.filter(allocation_list__active=True)
    }
    used = {code: 0 for code in entries}
    for person in participants:
        if person.cohort != "randomized":
            continue
        code = f"ECOG{person.screening.ecog}"
        entry = entries[code][used[code]]
        used[code] += 1
        person.arm = entry.arm
        at = datetime.combine(person.enrollment_date, dt_time(rng.randint(9, 17)))
        person.randomized_at = timezone.make_aware(at)
        person._entry = entry


def _statuses(participants: list[Participant], rng: random.Random, today: date) -> None:
    """Most on study; early participants completed, a few withdrawn (deaths come with Grade 5 AEs)."""
    for person in participants:
        if person.enrollment_date < today - timedelta(days=540) and rng.random() < 0.5:
            person.status = "completed"
            person.completion_date = person.enrollment_date + timedelta(days=rng.randint(360, 500))
        elif rng.random() < 0.04:
            person.status = "withdrawn"
            person.withdrawal_date = min(today, person.enrollment_date + timedelta(days=rng.randint(1, 120)))
            person.withdrawal_reason = "Consent withdrawn (bench data)"


def _allocations(participants: list[Participant]) -> None:
    Allocation.objects.bulk_create(
        Allocation(
            participant=p,
            entry=p._entry,
            stratum=p._entry.stratum.code,
            sequence=p._entry.sequence,
            arm=p._entry.arm,
            randomized_by=p.enrolled_by,
        )
        for p in participants
        if p.arm
    )
    with connection.cursor() as cursor:  # auto_now_add wrote the load time
        cursor.execute(
            "UPDATE randomization_allocation a SET randomized_at = p.randomized_at "
            "FROM enrollment_participant p WHERE p.id = a.participant_id"
        )


def _gradable_terms():
    """CTCAE terms with grades 1 to 4 all defined (no "Other, specify")."""
    terms = CtcaeTerm.objects.exclude(term__endswith="Other, specify")
    for grade in (1, 2, 3, 4):
        terms = terms.exclude(**{f"grade_{grade}": "-"})
    return terms


GRADES = [1] * 40 + [2] * 35 + [3] * 18 + [4] * 7


def _adverse_events(participants: list[Participant], rng: random.Random, today: date) -> None:
    """20,000 AEs (about 10 per participant), CTCAE-coded, attribution by arm; 40 deaths (Grade 5)
    in the randomized cohort, none in the run-in (so the stopping rule stays at 0)."""
    terms = list(_gradable_terms())
    fatal_terms = [t for t in terms if t.grade_5 != "-"]
    dying = set(rng.sample([p.pk for p in participants if p.cohort == "randomized" and p.status == "on_study"], DEATHS))
    per_person = {p.pk: [] for p in participants}
    order = [participants[i % len(participants)] for i in range(AES)]
    rng.shuffle(order)
    for person in order:
        last = person.completion_date or person.withdrawal_date or today
        onset = person.enrollment_date + timedelta(days=rng.randint(0, max(0, (last - person.enrollment_date).days)))
        per_person[person.pk].append(onset)
    batch = []
    for person in participants:
        onsets = sorted(per_person[person.pk])
        radiotherapy = person.cohort == "run_in" or person.arm == "A"
        death = onsets[-1] if person.pk in dying and onsets else None
        for k, onset in enumerate(onsets):
            fatal = death is not None and k == len(onsets) - 1
            grade = 5 if fatal else rng.choice(GRADES)
            term = rng.choice(fatal_terms if fatal else terms)
            attribution = {
                "pd1": rng.choice(("unrelated", "unlikely", "unlikely", "possible", "probable")),
                "chemo": rng.choice(("unrelated", "unlikely", "possible", "possible", "probable", "definite")),
                "ldrt": rng.choice(("unrelated", "unlikely", "possible")) if radiotherapy else "not_applicable",
                "cfrt": rng.choice(("unrelated", "unlikely", "possible")) if radiotherapy else "not_applicable",
            }
            serious = fatal or (grade >= 3 and rng.random() < 0.5)
            ongoing = not fatal and rng.random() < 0.3
            end = None
            if not ongoing and not fatal:
                end = onset + timedelta(days=rng.randint(0, 30))
                end = min(end, death or today, today)
                end = max(end, onset)
            batch.append(
                AdverseEvent(
                    participant=person,
                    ctcae_term=term,
                    term=term.term,
                    soc=term.soc,
                    grade=grade,
                    onset_date=onset,
                    end_date=end,
                    ongoing=ongoing,
                    serious=serious,
                    seriousness_criteria=["death"] if fatal else (["hospitalization"] if serious else []),
                    attribution_pd1=attribution["pd1"],
                    attribution_chemo=attribution["chemo"],
                    attribution_ldrt=attribution["ldrt"],
                    attribution_cfrt=attribution["cfrt"],
                    action_taken="withdrawn" if fatal else rng.choice(("none", "none", "dose_reduced", "interrupted")),
                    outcome="fatal" if fatal else ("not_recovered" if ongoing else "recovered"),
                    death_date=death if fatal else None,
                    treatment_related=is_treatment_related(attribution),
                    created_by=person.enrolled_by,
                )
            )
        if death is not None:
            person.status, person.death_date = "deceased", death
    AdverseEvent.objects.bulk_create(batch, batch_size=5000)
    Participant.objects.bulk_update(
        [p for p in participants if p.pk in dying], ["status", "death_date"], batch_size=1000
    )


# --- prepare ----------------------------------------------------------------------------------


def _session(user: User, device: TOTPDevice | None) -> str:
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    if device is not None:
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id  # the second factor, given
    session.create()
    return session.session_key


def _credentials(user: User, sessions: int = 1) -> list[dict]:
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    _instance, token = AuthToken.objects.create(user=user)
    return [
        {
            "username": user.username,
            "role": user.role,
            "sites": user.site_codes,
            "session": _session(user, device),
            # Django accepts the unmasked 32-character secret as the token of a form or header.
            "csrf": "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32)),
            "token": token,
        }
        for _ in range(sessions)
    ]


def _top_up_allocation_list(admin: User) -> None:
    """Randomization must never run dry during a run (it would be a refusal, not a measurement)."""
    free = (
        Stratum.objects.filter(allocation_list__active=True)
        .annotate(free=Count("entries", filter=Q(entries__allocation__isnull=True)))
        .values_list("code", "free")
    )
    for code, count in free:
        if count < MIN_FREE_ENTRIES:
            extend_stratum(code=code, entries=PER_STRATUM, user=admin, reason="Bench: stratum topped up")


def prepare(out: Path) -> None:
    call_command("migrate", verbosity=0)
    study = Study.objects.get(pk=1)
    if study.phase != Study.Phase.RANDOMIZATION:
        sys.exit(f"the load database is in phase {study.phase}, not randomization: rerun with --reseed")
    names = usernames()
    users = {u.username: u for u in User.objects.filter(username__in=sum(names.values(), []))}
    AuthToken.objects.filter(user__in=users.values()).delete()
    _top_up_allocation_list(users["dm"])
    on_study = Participant.objects.filter(status="on_study").select_related("site").order_by("subject_id")
    participants: dict[str, list] = {code: [] for code, _name in SITES}
    for p in on_study:
        participants[p.site.code].append([p.subject_id, p.cohort, p.arm])
    terms = list(_gradable_terms().order_by("term").values_list("term", flat=True))
    data = {
        "today": timezone.localdate().isoformat(),
        "sites": {s.code: s.pk for s in Site.objects.all()},
        "staff": [c for name in names["staff"] for c in _credentials(users[name])],
        "monitor": [c for name in names["monitor"] for c in _credentials(users[name])],
        "dashboard": _credentials(users["pi"], PI_SESSIONS) + _credentials(users["dm"], ADMIN_SESSIONS),
        "participants": participants,
        "terms": terms,
        "counts": {
            "participants": Participant.objects.count(),
            "screenings": Screening.objects.count(),
            "adverse_events": AdverseEvent.objects.count(),
            "free_allocation_entries": AllocationEntry.objects.filter(
                stratum__allocation_list__active=True, allocation__isnull=True
            ).count(),
        },
    }
    out.write_text(json.dumps(data, indent=1))


def main(argv: list[str]) -> None:
    if argv[:1] == ["seed"]:
        seed()
    elif argv[:1] == ["prepare"] and len(argv) == 2:
        prepare(Path(argv[1]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
