from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

from enrollment.models import Participant
from scr_escc.audit import AuditedModel, VoidableModel


class CtcaeTerm(models.Model):
    """One NCI CTCAE v5.0 term (safety/data/ctcae_v5_terms.csv, loaded by a migration)."""

    meddra_code = models.CharField(max_length=8, unique=True)
    soc = models.CharField(_("system organ class"), max_length=120, db_index=True)
    term = models.CharField(max_length=200, unique=True)
    grade_1 = models.TextField()
    grade_2 = models.TextField()
    grade_3 = models.TextField()
    grade_4 = models.TextField()
    grade_5 = models.TextField()
    definition = models.TextField(blank=True)
    navigational_note = models.TextField(blank=True)

    class Meta:
        ordering = ["term"]
        verbose_name = _("CTCAE term")

    def __str__(self) -> str:
        return self.term

    @property
    def is_other_specify(self) -> bool:
        return self.term.endswith("- Other, specify")

    def grade_text(self, grade: int) -> str:
        return getattr(self, f"grade_{grade}")

    def grade_defined(self, grade: int) -> bool:
        """CTCAE writes '-' where a grade does not apply to the term (e.g. Alopecia grade 3)."""
        return 1 <= grade <= 5 and self.grade_text(grade) != "-"

    @property
    def grades(self) -> list[tuple[int, str]]:
        return [(g, self.grade_text(g)) for g in range(1, 6)]


class Attribution(models.TextChoices):
    UNRELATED = "unrelated", _("Unrelated")
    UNLIKELY = "unlikely", _("Unlikely")
    POSSIBLE = "possible", _("Possible")
    PROBABLE = "probable", _("Probable")
    DEFINITE = "definite", _("Definite")
    NOT_APPLICABLE = "not_applicable", _("Not applicable")


RELATED_ATTRIBUTIONS = frozenset({Attribution.POSSIBLE, Attribution.PROBABLE, Attribution.DEFINITE})


class Intervention(models.TextChoices):
    PD1 = "pd1", _("PD-1 inhibitor")
    CHEMO = "chemo", _("Chemotherapy (paclitaxel + platinum)")
    LDRT = "ldrt", _("Low-dose radiotherapy (LDRT)")
    CFRT = "cfrt", _("Conventionally fractionated radiotherapy (CFRT)")


INTERVENTION_SHORT = {"pd1": "PD-1", "chemo": "chemo", "ldrt": "LDRT", "cfrt": "CFRT"}


class Seriousness(models.TextChoices):
    DEATH = "death", _("Results in death")
    LIFE_THREATENING = "life_threatening", _("Life-threatening")
    HOSPITALIZATION = "hospitalization", _("Hospitalization or prolongation of hospitalization")
    DISABILITY = "disability", _("Persistent or significant disability/incapacity")
    CONGENITAL_ANOMALY = "congenital_anomaly", _("Congenital anomaly/birth defect")
    OTHER_IMPORTANT = "other_important", _("Other important medical event")


class Outcome(models.TextChoices):
    RECOVERED = "recovered", _("Recovered/resolved")
    RECOVERING = "recovering", _("Recovering/resolving")
    NOT_RECOVERED = "not_recovered", _("Not recovered/not resolved")
    RECOVERED_WITH_SEQUELAE = "recovered_with_sequelae", _("Recovered with sequelae")
    FATAL = "fatal", _("Fatal")
    UNKNOWN = "unknown", _("Unknown")


class ActionTaken(models.TextChoices):
    NONE = "none", _("None (dose not changed)")
    DOSE_REDUCED = "dose_reduced", _("Dose reduced")
    INTERRUPTED = "interrupted", _("Treatment interrupted")
    WITHDRAWN = "withdrawn", _("Treatment permanently discontinued")
    NOT_APPLICABLE = "not_applicable", _("Not applicable")


def _attribution_field(intervention: Intervention) -> models.CharField:
    return models.CharField(
        _("attribution to %(intervention)s") % {"intervention": intervention.label},
        max_length=20,
        choices=Attribution.choices,
    )


class AdverseEvent(AuditedModel, VoidableModel):
    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="adverse_events")
    ctcae_term = models.ForeignKey(CtcaeTerm, on_delete=models.PROTECT, related_name="+", verbose_name=_("CTCAE term"))
    # AETERM: the reported term — the CTCAE term, or the free text of an "Other, specify".
    term = models.CharField(_("reported term"), max_length=200, editable=False)
    other_specify = models.CharField(
        _("specify"), max_length=200, blank=True, help_text=_("Required for an “Other, specify” term.")
    )
    soc = models.CharField(_("system organ class"), max_length=120, editable=False)
    grade = models.PositiveSmallIntegerField(_("CTCAE grade"))
    onset_date = models.DateField(_("onset date"))
    end_date = models.DateField(_("end date"), null=True, blank=True)
    ongoing = models.BooleanField(_("ongoing"), default=False)
    serious = models.BooleanField(_("serious"), default=False)
    seriousness_criteria = ArrayField(
        models.CharField(max_length=30, choices=Seriousness.choices),
        default=list,
        blank=True,
        verbose_name=_("seriousness criteria (ICH E2A)"),
    )
    attribution_pd1 = _attribution_field(Intervention.PD1)
    attribution_chemo = _attribution_field(Intervention.CHEMO)
    attribution_ldrt = _attribution_field(Intervention.LDRT)
    attribution_cfrt = _attribution_field(Intervention.CFRT)
    action_taken = models.CharField(
        _("action taken"), max_length=20, choices=ActionTaken.choices, default=ActionTaken.NONE
    )
    outcome = models.CharField(_("outcome"), max_length=30, choices=Outcome.choices)
    death_date = models.DateField(_("date of death"), null=True, blank=True)
    # Derived by safety.rules.is_treatment_related() on every save, for counting and filtering.
    treatment_related = models.BooleanField(_("treatment-related"), default=False, editable=False)
    # The investigator's (or PI's) e-signature of the attribution as it stands; cleared by any
    # change of attribution. Until signed, a run-in death counts for the stopping rule (SPEC §4).
    attribution_signature = models.ForeignKey(
        "scr_escc.ESignature",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        verbose_name=_("attribution sign-off"),
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False)

    class Meta:
        ordering = ["-onset_date", "-pk"]
        verbose_name = _("adverse event")
        verbose_name_plural = _("adverse events")
        constraints = [
            models.CheckConstraint(condition=models.Q(grade__gte=1, grade__lte=5), name="ae_grade_1_to_5"),
            models.UniqueConstraint(
                fields=["participant"],
                condition=models.Q(grade=5, voided=False),
                name="one_grade5_ae_per_participant",
            ),
            models.CheckConstraint(
                condition=models.Q(end_date__isnull=True) | models.Q(end_date__gte=models.F("onset_date")),
                name="ae_end_not_before_onset",
            ),
        ]
        indexes = [
            models.Index(
                fields=["grade", "treatment_related"], condition=models.Q(voided=False), name="ae_active_grade_related"
            ),
            # The dashboard's worst grade per participant, read from the index alone.
            models.Index(
                fields=["participant", "grade"], condition=models.Q(voided=False), name="ae_active_participant_grade"
            ),
            # The AE list's default order (newest onset first): its first page without sorting every AE.
            models.Index(fields=["-onset_date", "-id"], name="ae_newest_onset"),
        ]

    def __str__(self) -> str:
        return f"{self.term} (grade {self.grade})"

    @property
    def related_attributions(self) -> list[tuple[str, str]]:
        """(intervention, attribution) pairs that make the AE treatment-related, e.g. ("chemo", "probable")."""
        return [
            (INTERVENTION_SHORT[name], value)
            for name, value in self.attributions.items()
            if value in RELATED_ATTRIBUTIONS
        ]

    @property
    def attribution_pending(self) -> bool:
        """Attribution not yet signed off by an investigator (or the PI)."""
        return self.attribution_signature_id is None

    @property
    def attributions(self) -> dict[str, str]:
        return {i.value: getattr(self, f"attribution_{i.value}") for i in Intervention}
