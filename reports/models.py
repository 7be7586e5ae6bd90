"""What the reports own: the record of every CSV export (SPEC §8 audit)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ExportRecord(models.Model):
    """One CSV export in the audit trail (SPEC §8): who, which dataset, with what options, how many rows, when.

    Written before the first byte leaves; `completed_at` and `row_count` are set when the
    last row is sent, so an interrupted download stays visible as incomplete.
    """

    class Channel(models.TextChoices):
        PAGE = "page", _("Exports page")
        API = "api", _("API")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="exports")
    dataset = models.CharField(max_length=40)
    options = models.JSONField(default=dict)
    started_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    row_count = models.PositiveIntegerField(null=True, blank=True)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.PAGE)

    class Meta:
        ordering = ["-started_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.dataset} by {self.user} at {self.started_at:%Y-%m-%d %H:%M}"
