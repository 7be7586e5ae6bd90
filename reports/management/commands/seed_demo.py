import os
from base64 import b32encode
from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from efficacy.assessments import record_baseline
from efficacy.treatment import record_course, record_cycle
from enrollment.models import Participant, Screening
from enrollment.services import create_screening, enroll_participant
from safety.selectors import ctcae_term_by_name
from safety.services import record_adverse_event
from scr_escc import accounts, services
from scr_escc.models import Role, Site, User

DEMO_SITES = [("SH01", "Shanghai Chest Hospital"), ("SH02", "Demo partner hospital")]
# username, role, sites
DEMO_USERS = [
    ("coordinator", Role.COORDINATOR, ["SH01"]),
    ("coordinator2", Role.COORDINATOR, ["SH02"]),
    ("investigator", Role.INVESTIGATOR, ["SH01"]),
    ("pi", Role.PI, []),
    ("monitor", Role.MONITOR, []),
    ("admin", Role.ADMIN, []),
]
DEFAULT_PASSWORD = "Demo-Escc-2026"  # noqa: S105 — published in the README, demo data only


class Command(BaseCommand):
    help = "Demo sites SH01 and SH02, one user per role and a few screenings, for a first look. Safe to run twice."

    def handle(self, *args, **options):
        password = os.environ.get("SCR_DEMO_PASSWORD", DEFAULT_PASSWORD)
        with transaction.atomic():
            for code, name in DEMO_SITES:
                if not Site.objects.filter(code=code).exists():
                    services.create_site(code=code, name=name)
            for username, role, codes in DEMO_USERS:
                if not User.objects.filter(username=username).exists():
                    accounts.create_user(
                        username=username,
                        role=role,
                        password=password,
                        sites=list(Site.objects.filter(code__in=codes)),
                        email=f"{username}@demo.scr-escc.invalid",
                    )
            self._demo_records()
            key = self._demo_authenticator()
        self.stdout.write(self.style.SUCCESS("Demo sites: " + ", ".join(c for c, _ in DEMO_SITES)))
        self.stdout.write("Demo logins (all with password %s):" % password)
        for username, role, codes in DEMO_USERS:
            self.stdout.write(f"  {username:<13} {role.label}{' at ' + ', '.join(codes) if codes else ', all sites'}")
        self.stdout.write(
            f"pi and admin sign in with a second factor: add the key {key} to an authenticator app "
            "(demo only; real users set up their own at first sign-in)."
        )

    def _demo_authenticator(self) -> str:
        """One authenticator for the demo PI and data manager, so a first look needs one phone entry."""
        shared = TOTPDevice.objects.filter(user__username="pi", confirmed=True).first()
        if shared is None:
            shared = TOTPDevice.objects.create(user=User.objects.get(username="pi"), name="demo", confirmed=True)
        admin = User.objects.get(username="admin")
        if not TOTPDevice.objects.filter(user=admin, confirmed=True).exists():
            TOTPDevice.objects.create(user=admin, name="demo", key=shared.key, confirmed=True)
        return b32encode(shared.bin_key).decode()

    def _demo_records(self) -> None:

        if Screening.objects.exists():
            return
        today = timezone.localdate()
        coordinator = User.objects.get(username="coordinator")
        coordinator2 = User.objects.get(username="coordinator2")
        sh01, sh02 = Site.objects.get(code="SH01"), Site.objects.get(code="SH02")
        eligible = {
            "sex": "male",
            "ecog": 1,
            "pgsga_score": 4,
            "histology": "squamous",
            "inc1": True,
            "inc2": True,
            "inc3": True,
            "inc4": True,
            "inc5": True,
            **{f"exc{i}": False for i in range(1, 13)},
        }
        people = [  # (site, by, initials, age, screened days ago, answers)
            (sh01, coordinator, "ZWL", 61, 20, {}),
            (sh01, coordinator, "LHM", 58, 19, {"sex": "female", "ecog": 0}),
            (sh01, coordinator, "CJG", 70, 18, {"pgsga_score": 12, "exc6": True}),
            (sh02, coordinator2, "WXY", 66, 17, {}),
            (sh01, coordinator, "HQF", 63, 52, {}),
        ]
        for site, user, initials, age, days_ago, changes in people:
            screened = today - timedelta(days=days_ago)
            data = {
                **eligible,
                "initials": initials,
                "date_of_birth": screened - timedelta(days=365 * age + age // 4 + 40),
                "consent_date": screened - timedelta(days=1),
                "screening_date": screened,
                **changes,
            }
            screening = create_screening(site=site, data=data, user=user)
            if screening.eligible:
                enroll_participant(screening=screening, user=user, enrollment_date=screened)
        self._demo_adverse_events(today, coordinator)
        self._demo_efficacy(today, coordinator)

    def _demo_efficacy(self, today, coordinator) -> None:
        """SH01-001 treated and scanned (cycle 2 due soon); SH01-003 enrolled 52 days ago, its week-6
        scan not done: overdue on the coordinator's worklist."""
        participant = Participant.objects.get(subject_id="SH01-001")
        start = participant.enrollment_date + timedelta(days=1)
        given = {"administered_on": start, "change": "as_planned"}
        doses = {
            "pd1": {**given, "dose": 200, "unit": "mg"},
            "paclitaxel": {**given, "dose": 175, "unit": "mg/m2"},
            "platinum": {**given, "dose": 5, "unit": "AUC"},
        }
        record_cycle(participant=participant, cycle=1, doses=doses, user=coordinator)
        record_course(
            participant=participant,
            user=coordinator,
            data={
                "modality": "cfrt",
                "start_date": start,
                "end_date": None,
                "total_dose_gy": 50,
                "fractions": 25,
                "target_site": "Primary oesophageal tumour",
            },
        )
        record_baseline(
            participant=participant,
            user=coordinator,
            data={"assessment_date": participant.enrollment_date - timedelta(days=3), "method": "ct"},
            targets=[
                {"organ": "liver", "location": "segment VII", "lymph_node": False, "diameter_mm": 42},
                {"organ": "lung", "location": "right lower lobe", "lymph_node": False, "diameter_mm": 18},
                {"organ": "lymph node", "location": "left supraclavicular", "lymph_node": True, "diameter_mm": 21},
            ],
            non_targets=[{"organ": "bone", "location": "T8 vertebra", "lymph_node": False}],
        )

    def _demo_adverse_events(self, today, coordinator) -> None:
        """Two AEs of SH01-001, so the AE log and the dashboard have something to show."""

        participant = Participant.objects.get(subject_id="SH01-001")
        common = {
            "other_specify": "",
            "end_date": None,
            "ongoing": True,
            "action_taken": "none",
            "death_date": None,
            "attribution_ldrt": "unlikely",
            "attribution_cfrt": "unlikely",
        }
        record_adverse_event(
            participant=participant,
            user=coordinator,
            data={
                **common,
                "ctcae_term": ctcae_term_by_name("Nausea"),
                "grade": 2,
                "onset_date": today - timedelta(days=12),
                "serious": False,
                "seriousness_criteria": [],
                "attribution_pd1": "unlikely",
                "attribution_chemo": "probable",
                "outcome": "recovering",
            },
        )
        record_adverse_event(
            participant=participant,
            user=coordinator,
            data={
                **common,
                "ctcae_term": ctcae_term_by_name("Pneumonitis"),
                "grade": 3,
                "onset_date": today - timedelta(days=5),
                "serious": True,
                "seriousness_criteria": ["hospitalization"],
                "attribution_pd1": "possible",
                "attribution_chemo": "unlikely",
                "action_taken": "interrupted",
                "outcome": "not_recovered",
            },
        )
