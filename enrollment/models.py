from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from enrollment.eligibility import CRITERIA, Verdict, consistency_errors, evaluate
from scr_escc.audit import AuditedModel, VoidableModel
from scr_escc.models import Site


class Sex(models.TextChoices):
    MALE = "male", _("Male")
    FEMALE = "female", _("Female")


class Histology(models.TextChoices):
    SQUAMOUS = "squamous", _("Squamous cell carcinoma (pure)")
    NON_SQUAMOUS = "non_squamous", _("Non-squamous")
    MIXED = "mixed", _("ESCC mixed with other types")


class Cohort(models.TextChoices):
    RUN_IN = "run_in", _("Safety run-in")
    RANDOMIZED = "randomized", _("Randomized phase")


class ParticipantStatus(models.TextChoices):
    ON_STUDY = "on_study", _("On study")
    COMPLETED = "completed", _("Completed")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    DECEASED = "deceased", _("Deceased")


class Arm(models.TextChoices):
    A = "A", _("Arm A (experimental): PD-1 inhibitor + paclitaxel/platinum + LDRT + CFRT")
    B = "B", _("Arm B (control): PD-1 inhibitor + paclitaxel/platinum")


class SiteCounter(models.Model):
    """Per-site numbering. Its row lock makes screening numbers and subject IDs gap-free
    and unique under concurrent use: a number is taken and used in the same transaction."""

    site = models.OneToOneField(Site, on_delete=models.PROTECT, primary_key=True, related_name="counter")
    last_screening = models.PositiveIntegerField(default=0)
    last_subject = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.site_id}: screening {self.last_screening}, subject {self.last_subject}"


def _criterion_field(criterion):
    return models.BooleanField(
        criterion.code,
        help_text=str(criterion.text),
    )


class Screening(AuditedModel, VoidableModel):
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="screenings", verbose_name=_("site"))
    sequence = models.PositiveIntegerField(editable=False)
    screening_number = models.CharField(_("screening number"), max_length=20, unique=True, editable=False)
    previous_screening = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rescreening",
        verbose_name=_("earlier screening"),
        help_text=_("Set when a screen-failed patient is screened again."),
    )
    initials = models.CharField(
        _("patient initials"),
        max_length=4,
        validators=[RegexValidator(r"^[A-Za-z]{2,4}$", _("Initials are 2 to 4 letters (A–Z), no digits or spaces."))],
        help_text=_("2–4 letters, e.g. ZWL (pinyin initials)."),
    )
    date_of_birth = models.DateField(_("date of birth"))
    sex = models.CharField(_("sex"), max_length=10, choices=Sex.choices)
    consent_date = models.DateField(_("informed consent date"), help_text=_("On or before the screening date."))
    screening_date = models.DateField(_("screening date"))
    ecog = models.PositiveSmallIntegerField(
        _("ECOG performance status"),
        validators=[MaxValueValidator(4, _("ECOG is 0 to 4."))],
        help_text=_("0–4. INC3 requires 0 or 1."),
    )
    pgsga_score = models.PositiveSmallIntegerField(
        _("PG-SGA score"),
        validators=[MaxValueValidator(60, _("A PG-SGA score above 60 is not possible."))],
        help_text=_("Whole number ≥ 0. A score of 9 or more excludes (EXC6)."),
    )
    histology = models.CharField(
        _("histology"), max_length=20, choices=Histology.choices, help_text=_("EXC1 applies unless pure squamous.")
    )
    inc1, inc2, inc3, inc4, inc5 = (_criterion_field(c) for c in CRITERIA[:5])
    exc1, exc2, exc3, exc4, exc5, exc6, exc7, exc8, exc9, exc10, exc11, exc12 = (
        _criterion_field(c) for c in CRITERIA[5:]
    )
    notes = models.TextField(_("notes"), blank=True)
    # Written by the service from eligibility.evaluate() on every save, for lists and exports.
    eligible = models.BooleanField(_("eligible"), editable=False, default=False)
    failed_criteria = ArrayField(models.CharField(max_length=10), default=list, blank=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False)

    class Meta:
        ordering = ["-screening_date", "-pk"]
        verbose_name = _("screening")
        verbose_name_plural = _("screenings")
        constraints = [
            models.UniqueConstraint(fields=["site", "sequence"], name="screening_sequence_unique_per_site"),
            models.CheckConstraint(condition=models.Q(ecog__lte=4), name="screening_ecog_0_4"),
        ]

    def __str__(self) -> str:
        return self.screening_number or _("new screening")

    def clean(self) -> None:
        if self.initials:
            self.initials = self.initials.strip().upper()
        values = {f.name: getattr(self, f.attname) for f in self._meta.concrete_fields}
        errors = consistency_errors(values, today=timezone.localdate())
        if errors:
            raise ValidationError(errors)

    def verdict(self) -> Verdict:
        return evaluate(
            {c.field: getattr(self, c.field) for c in CRITERIA},
            consent_date=self.consent_date,
            screening_date=self.screening_date,
        )


class Participant(AuditedModel):
    subject_id = models.CharField(_("subject ID"), max_length=20, unique=True, editable=False)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="participants", editable=False)
    sequence = models.PositiveIntegerField(editable=False)
    screening = models.OneToOneField(Screening, on_delete=models.PROTECT, related_name="participant", editable=False)
    enrollment_date = models.DateField(_("enrollment date"), editable=False)
    cohort = models.CharField(_("cohort"), max_length=20, choices=Cohort.choices, editable=False)
    status = models.CharField(
        _("status"), max_length=20, choices=ParticipantStatus.choices, default=ParticipantStatus.ON_STUDY
    )
    withdrawal_date = models.DateField(_("withdrawal date"), null=True, blank=True)
    withdrawal_reason = models.TextField(_("withdrawal reason"), blank=True)
    completion_date = models.DateField(_("completion date"), null=True, blank=True)
    death_date = models.DateField(_("date of death"), null=True, blank=True)
    # Set when the death is recorded directly (e.g. progression), not through a Grade 5 AE.
    death_cause = models.TextField(_("cause of death"), blank=True)
    # Set once, by randomization.services.randomize() through record_randomization(); null until then.
    arm = models.CharField(_("arm"), max_length=1, choices=Arm.choices, null=True, blank=True, editable=False)
    randomized_at = models.DateTimeField(_("randomized at"), null=True, blank=True, editable=False)
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )

    class Meta:
        ordering = ["subject_id"]
        verbose_name = _("participant")
        verbose_name_plural = _("participants")
        constraints = [
            models.UniqueConstraint(fields=["site", "sequence"], name="subject_sequence_unique_per_site"),
            models.CheckConstraint(
                condition=~models.Q(status="withdrawn") | models.Q(withdrawal_date__isnull=False),
                name="withdrawn_has_date",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="deceased") | models.Q(death_date__isnull=False),
                name="deceased_has_death_date",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="completed") | models.Q(completion_date__isnull=False),
                name="completed_has_date",
            ),
        ]

    def __str__(self) -> str:
        return self.subject_id
