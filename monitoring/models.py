"""Monitoring: data queries, source-data verification (SDV) and casebook sign-off and lock.

A query or SDV mark points at a record by its type code (monitoring.record_types) and pk: the
records live in the clinical apps below, which know nothing of monitoring.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from enrollment.models import Participant
from scr_escc.audit import AuditedModel
from scr_escc.models import ESignature, Site


class QueryStatus(models.TextChoices):
    OPEN = "open", _("open")
    ANSWERED = "answered", _("answered")
    CLOSED = "closed", _("closed")


class Query(AuditedModel):
    """A question about one record, or one field of it, to the record's site."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+", verbose_name=_("site"))
    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("participant")
    )
    record_type = models.CharField(_("record type"), max_length=30)
    record_id = models.PositiveIntegerField(_("record"))
    field = models.CharField(_("field"), max_length=60, blank=True)
    text = models.TextField(_("question"))
    status = models.CharField(_("status"), max_length=10, choices=QueryStatus.choices, default=QueryStatus.OPEN)
    # An automatic query names the rule that raised it; raised_by is then empty (the system).
    rule = models.CharField(_("rule"), max_length=40, blank=True)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    raised_at = models.DateTimeField(_("raised at"))
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        ordering = ["-raised_at", "-pk"]
        indexes = [
            models.Index(fields=["record_type", "record_id"]),
            models.Index(fields=["site", "status"]),
            models.Index(fields=["participant", "status"]),
        ]
        constraints = [
            # The system raises a rule's query on a record once; a person closes it.
            models.UniqueConstraint(
                fields=["rule", "record_type", "record_id"],
                condition=~models.Q(rule=""),
                name="one_automatic_query_per_rule_and_record",
            )
        ]

    def __str__(self) -> str:
        return f"Q-{self.pk}"

    @property
    def automatic(self) -> bool:
        return bool(self.rule)


class QueryStep(models.Model):
    """One step of a query's thread, timed and attributed (by None: the system)."""

    class Action(models.TextChoices):
        RAISED = "raised", _("raised")
        ANSWERED = "answered", _("answered")
        CLOSED = "closed", _("closed")
        REOPENED = "reopened", _("re-opened")

    query = models.ForeignKey(Query, on_delete=models.PROTECT, related_name="steps")
    action = models.CharField(max_length=10, choices=Action.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    at = models.DateTimeField()
    text = models.TextField(blank=True)
    # A correction made with an answer: {"field", "old", "new"} as shown to people.
    correction = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"Q-{self.query_id} {self.action}"


class SdvLevel(models.TextChoices):
    NONE = "none", _("none")
    KEY = "key", _("key fields")
    ALL = "all", _("all fields (100%)")


class MonitoringSettings(AuditedModel):
    """The study's monitoring plan (one row): SDV level per record type, query reminders."""

    sdv_levels = models.JSONField(_("SDV level per record type"), default=dict, blank=True)
    query_digest_days = models.PositiveSmallIntegerField(
        _("remind sites of queries older than (days)"),
        default=7,
        help_text=_("Each day, every site gets one e-mail listing its queries unanswered for this many days or more."),
    )


class SdvMark(AuditedModel):
    """A monitor's verification of a record against the hospital record, and what it covered."""

    class Status(models.TextChoices):
        VERIFIED = "verified", _("verified")
        CHANGED = "changed", _("changed since verified")

    record_type = models.CharField(max_length=30)
    record_id = models.PositiveIntegerField()
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    level = models.CharField(max_length=10, choices=SdvLevel.choices)
    status = models.CharField(max_length=10, choices=Status.choices)
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    verified_at = models.DateTimeField()
    # The covered fields' values as verified, and (once changed) [{"field", "old", "new"}].
    verified_values = models.JSONField(default=dict)
    changes = models.JSONField(default=list, blank=True)
    changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["record_type", "record_id"], name="one_sdv_mark_per_record")]
        indexes = [models.Index(fields=["site", "status"])]


class CasebookSignature(models.Model):
    """An investigator's e-signature over a participant's whole casebook at one moment."""

    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="+")
    signature = models.OneToOneField(ESignature, on_delete=models.PROTECT, related_name="+")
    content_hash = models.CharField(max_length=64)
    content = models.JSONField()  # the casebook as signed, to show what changed since
    superseded_at = models.DateTimeField(null=True, blank=True)
    superseded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    superseded_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-signature__signed_at", "-pk"]

    def __str__(self) -> str:
        return f"casebook signature {self.pk}"


class CasebookLock(AuditedModel):
    """The data manager's lock of a signed, query-free casebook: every change to it is refused."""

    participant = models.OneToOneField(Participant, on_delete=models.PROTECT, related_name="+")
    locked = models.BooleanField(default=True)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(blank=True)
