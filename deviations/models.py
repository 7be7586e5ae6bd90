"""The protocol deviation log: what happened against the protocol, at which site, for whom."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from enrollment.models import Participant
from scr_escc.audit import AuditedModel, VoidableModel
from scr_escc.models import Site


class DeviationCategory(models.TextChoices):
    ELIGIBILITY = "eligibility", _("Eligibility (enrolled without meeting a criterion)")
    CONSENT = "consent", _("Informed consent")
    TREATMENT = "treatment", _("Study treatment (dose, schedule, regimen)")
    RANDOMIZATION = "randomization", _("Randomization")
    VISIT_SCHEDULE = "visit_schedule", _("Visit or assessment schedule")
    SAFETY_REPORTING = "safety_reporting", _("Safety reporting (e.g. an SAE reported late)")
    PROCEDURE = "procedure", _("Other study procedure")
    OTHER = "other", _("Other")


class ProtocolDeviation(AuditedModel, VoidableModel):
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="deviations", verbose_name=_("site"))
    participant = models.ForeignKey(
        Participant,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="deviations",
        verbose_name=_("participant"),
        help_text=_("Leave empty for a deviation of the site (e.g. a screening or storage procedure)."),
    )
    deviation_date = models.DateField(_("date of the deviation"))
    category = models.CharField(_("category"), max_length=30, choices=DeviationCategory.choices)
    important = models.BooleanField(
        _("important deviation"),
        default=False,
        help_text=_(
            "ICH E3: may affect the completeness, accuracy or reliability of key data, or a patient's "
            "rights, safety or well-being."
        ),
    )
    description = models.TextField(_("what happened"))
    corrective_action = models.TextField(_("corrective and preventive action"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False)

    class Meta:
        ordering = ["-deviation_date", "-pk"]
        verbose_name = _("protocol deviation")
        verbose_name_plural = _("protocol deviations")

    def __str__(self) -> str:
        return f"{self.site_id} {self.get_category_display()} {self.deviation_date}"
