"""factory_boy factories: valid objects; each test changes only what it is about."""

from datetime import timedelta

import factory
from django.contrib.auth.models import Group
from django.utils import timezone

from enrollment.eligibility import CRITERIA
from enrollment.models import Screening
from scr_escc.models import Site, User

PASSWORD = "Correct-Horse-42"


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"SH{n + 1:02d}")
    name = factory.LazyAttribute(lambda o: f"Hospital {o.code}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if extracted:
            self.groups.add(Group.objects.get(name=extracted))
            self.is_staff = extracted == "admin"
        self.save()

    @factory.post_generation
    def sites(self, create, extracted, **kwargs):
        if extracted:
            self.sites.set(extracted)


def eligible_screening_data(**changes) -> dict:
    """Every field of a screening that meets every criterion; override to fail one."""
    today = timezone.localdate()
    screened = today - timedelta(days=2)
    data = {
        "initials": "ZWL",
        "date_of_birth": screened - timedelta(days=365 * 60 + 30),
        "sex": "male",
        "consent_date": screened - timedelta(days=1),
        "screening_date": screened,
        "ecog": 1,
        "pgsga_score": 4,
        "histology": "squamous",
        "notes": "",
    }
    for criterion in CRITERIA:
        data[criterion.field] = criterion.inclusion
    data.update(changes)
    return data


def make_screening(*, site, user, **changes) -> Screening:
    from enrollment.services import create_screening

    return create_screening(site=site, data=eligible_screening_data(**changes), user=user)


def make_participant(*, site, user, enrollment_date=None, **changes):
    from enrollment.services import enroll_participant

    screening = make_screening(site=site, user=user, **changes)
    return enroll_participant(screening=screening, user=user, enrollment_date=enrollment_date)


def ae_data(*, term: str = "Pneumonitis", grade: int = 2, related: str | None = None, **changes) -> dict:
    """A valid AE for a run-in participant, as the service takes it.

    `related` sets the chemotherapy attribution (e.g. "possible"); the others are "unrelated".
    A Grade 5 AE gets outcome fatal, a date of death and the seriousness criterion death.
    """
    from safety.models import CtcaeTerm

    today = timezone.localdate()
    data = {
        "ctcae_term": CtcaeTerm.objects.get(term=term),
        "other_specify": "",
        "grade": grade,
        "onset_date": today - timedelta(days=1),
        "end_date": None,
        "ongoing": True,
        "serious": False,
        "seriousness_criteria": [],
        "attribution_pd1": "unrelated",
        "attribution_chemo": related or "unrelated",
        "attribution_ldrt": "unrelated",
        "attribution_cfrt": "unrelated",
        "action_taken": "none",
        "outcome": "not_recovered",
        "death_date": None,
    }
    if grade == 5:
        data.update(outcome="fatal", death_date=today, serious=True, seriousness_criteria=["death"], ongoing=False)
    data.update(changes)
    return data


def make_ae(*, participant, user, **kwargs):
    from safety.services import record_adverse_event

    return record_adverse_event(participant=participant, data=ae_data(**kwargs), user=user)


def strong_seed(name: str) -> str:
    """A typed allocation-list seed with the entropy the service demands (≥ 128 bits), fixed
    per name so a test's list is the same every run."""
    import hashlib

    return hashlib.sha256(name.encode()).hexdigest()[:40] + "Zq"


def give_authenticator(user):
    """A confirmed TOTP authenticator for the user (as if set up on their phone)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
        user=user, name="authenticator", confirmed=True
    )


def current_code(device) -> str:
    """The code the authenticator app would show now."""
    from django_otp.oath import totp

    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):0{device.digits}d}"


def pass_second_factor(client, user) -> None:
    """For a signed-in test client: the second factor given, when the user's role needs one."""
    from django_otp import DEVICE_ID_SESSION_KEY

    from scr_escc.accounts import two_factor_required

    if two_factor_required(user):
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = give_authenticator(user).persistent_id
        session.save()
