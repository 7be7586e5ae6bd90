"""What the trial measures: treatment given, tumour assessments (RECIST 1.1), progression and follow-up.

Computed values (sums, nadir, responses) are written by the services from `efficacy.recist`
on every change of a participant's assessments; nobody types them.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from efficacy.recist import NewLesion, NonTargetStatus, Response
from enrollment.models import Participant
from scr_escc.audit import AuditedModel, VoidableModel


class Agent(models.TextChoices):
    PD1 = "pd1", _("PD-1 inhibitor")
    PACLITAXEL = "paclitaxel", _("Paclitaxel")
    PLATINUM = "platinum", _("Platinum (cisplatin or carboplatin)")


# The intervention of the AE attribution scale (safety.models.Intervention) each agent belongs to.
AGENT_INTERVENTION = {Agent.PD1: "pd1", Agent.PACLITAXEL: "chemo", Agent.PLATINUM: "chemo"}


class DoseUnit(models.TextChoices):
    MG = "mg", "mg"
    MG_M2 = "mg/m2", "mg/m²"
    MG_KG = "mg/kg", "mg/kg"
    AUC = "AUC", _("AUC (mg/mL·min)")


class DoseChange(models.TextChoices):
    AS_PLANNED = "as_planned", _("Given as planned")
    REDUCED = "reduced", _("Dose reduced")
    DELAYED = "delayed", _("Delayed")
    OMITTED = "omitted", _("Omitted (not given)")


class Modality(models.TextChoices):
    LDRT = "ldrt", _("Low-dose radiotherapy (LDRT)")
    CFRT = "cfrt", _("Conventionally fractionated radiotherapy (CFRT)")


NEW_LESION_CHOICES = [
    (NewLesion.NO.value, _("No")),
    (NewLesion.YES.value, _("Yes, unequivocal")),
    (NewLesion.EQUIVOCAL.value, _("Equivocal (not progression until confirmed)")),
]
NON_TARGET_CHOICES = [
    (NonTargetStatus.PRESENT.value, _("Present (non-CR/non-PD)")),
    (NonTargetStatus.ABSENT.value, _("Absent (node < 10 mm)")),
    (NonTargetStatus.UNEQUIVOCAL_PROGRESSION.value, _("Unequivocal progression")),
    (NonTargetStatus.NOT_ASSESSED.value, _("Not assessed")),
]
RESPONSE_CHOICES = [
    (Response.CR.value, _("CR — complete response")),
    (Response.PR.value, _("PR — partial response")),
    (Response.SD.value, _("SD — stable disease")),
    (Response.PD.value, _("PD — progressive disease")),
    (Response.NE.value, _("NE — not evaluable")),
    (Response.NON_CR_NON_PD.value, _("Non-CR/non-PD (no target lesions)")),
]


class EfficacyRecord(AuditedModel, VoidableModel):
    """A participant's record, entered by site staff, audited, voided rather than deleted."""

    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="+", verbose_name=_("participant"), editable=False
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False)

    class Meta:
        abstract = True


class SystemicDose(EfficacyRecord):
    """One agent of one treatment cycle: given (with the dose), reduced, delayed or omitted."""

    cycle = models.PositiveSmallIntegerField(
        _("cycle"), validators=[MinValueValidator(1, _("Cycles are numbered from 1."))]
    )
    agent = models.CharField(_("agent"), max_length=20, choices=Agent.choices)
    administered_on = models.DateField(_("date"), help_text=_("Date given; for an omitted dose, the planned date."))
    dose = models.DecimalField(
        _("dose given"),
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Empty only when the dose was omitted."),
    )
    unit = models.CharField(_("unit"), max_length=10, choices=DoseUnit.choices, blank=True)
    change = models.CharField(
        _("dose change"), max_length=20, choices=DoseChange.choices, default=DoseChange.AS_PLANNED
    )
    change_reason = models.CharField(
        _("reason for the change"),
        max_length=300,
        blank=True,
        help_text=_("Required when reduced, delayed or omitted."),
    )

    class Meta:
        ordering = ["cycle", "agent"]
        verbose_name = _("systemic therapy dose")
        verbose_name_plural = _("systemic therapy doses")
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "cycle", "agent"], condition=Q(voided=False), name="one_dose_per_agent_cycle"
            ),
            models.CheckConstraint(condition=Q(dose__isnull=True) | Q(dose__gt=0), name="dose_positive"),
        ]

    def __str__(self) -> str:
        return f"C{self.cycle} {self.get_agent_display()}"


class RadiotherapyCourse(EfficacyRecord):
    modality = models.CharField(_("radiotherapy"), max_length=10, choices=Modality.choices)
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"), null=True, blank=True, help_text=_("Empty while the course goes on."))
    total_dose_gy = models.DecimalField(
        _("total dose (Gy)"), max_digits=6, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    fractions = models.PositiveSmallIntegerField(_("fractions"), validators=[MinValueValidator(1)])
    target_site = models.CharField(_("target site"), max_length=200, help_text=_("E.g. primary oesophageal tumour."))

    class Meta:
        ordering = ["start_date", "pk"]
        verbose_name = _("radiotherapy course")
        verbose_name_plural = _("radiotherapy courses")
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")), name="rt_end_after_start"
            ),
            models.CheckConstraint(condition=Q(total_dose_gy__gt=0) & Q(fractions__gt=0), name="rt_dose_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.get_modality_display()} {self.start_date}"


class Method(models.TextChoices):
    CT = "ct", _("CT")
    MRI = "mri", _("MRI")
    PET_CT = "pet_ct", _("PET-CT")
    OTHER = "other", _("Other imaging")


class TumourAssessment(EfficacyRecord):
    assessment_date = models.DateField(_("assessment date"), help_text=_("Date of the imaging."))
    baseline = models.BooleanField(_("baseline"), default=False, editable=False)
    method = models.CharField(_("method"), max_length=10, choices=Method.choices, default=Method.CT)
    new_lesion = models.CharField(
        _("new lesion"),
        max_length=10,
        choices=NEW_LESION_CHOICES,
        default=NewLesion.NO.value,
        help_text=_("Equivocal: not progression until a later scan confirms it."),
    )
    new_lesion_description = models.CharField(_("new lesion, where"), max_length=300, blank=True)
    investigator_response = models.CharField(
        _("investigator's response"),
        max_length=2,
        choices=RESPONSE_CHOICES,
        blank=True,
        help_text=_("The investigator's own reading; a difference from the computed response is flagged."),
    )
    comments = models.TextField(_("comments"), blank=True)
    # Written by efficacy.services from efficacy.recist on every change of the participant's assessments.
    sum_mm = models.DecimalField(max_digits=7, decimal_places=1, null=True, editable=False)
    nadir_mm = models.DecimalField(max_digits=7, decimal_places=1, null=True, editable=False)
    change_from_baseline_pct = models.DecimalField(max_digits=6, decimal_places=1, null=True, editable=False)
    change_from_nadir_pct = models.DecimalField(max_digits=6, decimal_places=1, null=True, editable=False)
    target_response = models.CharField(max_length=2, blank=True, editable=False)
    non_target_response = models.CharField(max_length=2, blank=True, editable=False)
    computed_response = models.CharField(_("computed response"), max_length=2, blank=True, editable=False)

    class Meta:
        ordering = ["assessment_date", "pk"]
        verbose_name = _("tumour assessment")
        verbose_name_plural = _("tumour assessments")
        constraints = [
            models.UniqueConstraint(
                fields=["participant"], condition=Q(baseline=True, voided=False), name="one_baseline_per_participant"
            ),
        ]

    def __str__(self) -> str:
        label = _("Baseline") if self.baseline else _("Assessment")
        return f"{label} {self.assessment_date}"

    @property
    def disagrees(self) -> bool:
        """The investigator's response differs from the computed one: flagged for review."""
        return bool(
            not self.baseline and self.investigator_response and self.investigator_response != self.computed_response
        )


class Lesion(AuditedModel):
    """A lesion chosen at baseline (target T1–T5 or non-target NT1…), followed by every later assessment."""

    baseline = models.ForeignKey("TumourAssessment", on_delete=models.PROTECT, related_name="lesions", editable=False)
    target = models.BooleanField(_("target lesion"))
    number = models.PositiveSmallIntegerField(editable=False)
    organ = models.CharField(_("organ"), max_length=80, help_text=_("E.g. liver, lung, lymph node."))
    location = models.CharField(_("location"), max_length=200, blank=True, help_text=_("E.g. segment VII."))
    lymph_node = models.BooleanField(
        _("lymph node"), default=False, help_text=_("A node is measured by its short axis.")
    )

    class Meta:
        ordering = ["-target", "number"]
        constraints = [
            models.UniqueConstraint(fields=["baseline", "target", "number"], name="lesion_number_unique"),
        ]

    @property
    def code(self) -> str:
        return f"{'T' if self.target else 'NT'}{self.number}"

    def __str__(self) -> str:
        return f"{self.code} {self.organ}"


class LesionResult(AuditedModel):
    """One lesion at one assessment: a diameter for a target (empty = not assessed), a status for a non-target."""

    assessment = models.ForeignKey(TumourAssessment, on_delete=models.PROTECT, related_name="results", editable=False)
    lesion = models.ForeignKey(Lesion, on_delete=models.PROTECT, related_name="results", editable=False)
    diameter_mm = models.DecimalField(
        _("diameter (mm)"),
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(999)],
    )
    status = models.CharField(max_length=15, choices=NON_TARGET_CHOICES, blank=True)

    class Meta:
        ordering = ["lesion__target", "lesion__number"]
        constraints = [models.UniqueConstraint(fields=["assessment", "lesion"], name="one_result_per_lesion")]


class ClinicalProgression(EfficacyRecord):
    """Progression judged clinically (symptoms, not imaging), dated, with the reason."""

    progression_date = models.DateField(_("date of progression"))
    reason = models.TextField(
        _("reason"), help_text=_("What showed the progression, e.g. new bone pain with fracture.")
    )

    class Meta:
        ordering = ["progression_date", "pk"]
        verbose_name = _("clinical progression")
        verbose_name_plural = _("clinical progressions")

    def __str__(self) -> str:
        label = _("Clinical progression")
        return f"{label} {self.progression_date}"


class TherapyKind(models.TextChoices):
    SYSTEMIC = "systemic", _("Systemic therapy")
    RADIOTHERAPY = "radiotherapy", _("Radiotherapy")
    SURGERY = "surgery", _("Surgery")
    OTHER = "other", _("Other")


class NewAnticancerTherapy(EfficacyRecord):
    start_date = models.DateField(_("start date"))
    kind = models.CharField(_("kind"), max_length=20, choices=TherapyKind.choices)
    therapy = models.CharField(_("therapy"), max_length=300, help_text=_("Regimen or procedure, e.g. irinotecan."))

    class Meta:
        ordering = ["start_date", "pk"]
        verbose_name = _("new anticancer therapy")
        verbose_name_plural = _("new anticancer therapies")

    def __str__(self) -> str:
        return f"{self.therapy} {self.start_date}"


class ContactMethod(models.TextChoices):
    VISIT = "visit", _("Clinic visit")
    PHONE = "phone", _("Telephone")
    RECORDS = "records", _("Medical records")


class FollowUpContact(EfficacyRecord):
    """A survival follow-up contact: the participant was known alive on that date."""

    contact_date = models.DateField(_("contact date"), help_text=_("The date the participant was known to be alive."))
    method = models.CharField(_("how"), max_length=10, choices=ContactMethod.choices)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        ordering = ["contact_date", "pk"]
        verbose_name = _("survival follow-up contact")
        verbose_name_plural = _("survival follow-up contacts")

    def __str__(self) -> str:
        label = _("Follow-up contact")
        return f"{label} {self.contact_date}"


# ---- Read-only views for the SDTM-shaped exports (created by migration 0002) -------------------


class Exposure(models.Model):
    """EX: one row per systemic dose and per radiotherapy course (a database view over both)."""

    id = models.CharField(primary_key=True, max_length=20)  # "D<pk>" for a dose, "R<pk>" for a course
    participant = models.ForeignKey(Participant, on_delete=models.DO_NOTHING, related_name="+")
    treatment = models.CharField(max_length=20)  # agent or modality code
    cycle = models.PositiveSmallIntegerField(null=True)
    start_date = models.DateField()
    end_date = models.DateField(null=True)
    dose = models.DecimalField(max_digits=8, decimal_places=2, null=True)
    unit = models.CharField(max_length=10)
    change = models.CharField(max_length=20)
    change_reason = models.CharField(max_length=300)
    fractions = models.PositiveSmallIntegerField(null=True)
    target_site = models.CharField(max_length=200)
    voided = models.BooleanField()
    void_reason = models.TextField()

    class Meta:
        managed = False
        db_table = "efficacy_exposure"

    def __str__(self) -> str:
        return f"{self.id} {self.treatment} {self.start_date}"


class Disposition(models.Model):
    """DS: progression (first RECIST PD, clinical progressions) and deaths (a database view)."""

    id = models.CharField(primary_key=True, max_length=20)
    participant = models.ForeignKey(Participant, on_delete=models.DO_NOTHING, related_name="+")
    event = models.CharField(max_length=20)  # progression_recist | progression_clinical | death
    event_date = models.DateField()
    detail = models.TextField()  # typed by a person (a reason or cause): dropped without identifiers
    defines_progression = models.BooleanField()  # the earliest progression: the progression date

    class Meta:
        managed = False
        db_table = "efficacy_disposition"

    def __str__(self) -> str:
        return f"{self.event} {self.event_date}"
