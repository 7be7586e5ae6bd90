"""The audit trail (SPEC §9) in one reusable piece.

A clinical model inherits `AuditedModel` (history of every change, a version for stale-edit
detection) and, if it may be voided, `VoidableModel`. Services change it only through
`save_change()` / `void_record()`, which demand a reason and refuse a stale edit. Forms mix
in `ReasonForChangeFormMixin`; API serializers mix in `ReasonForChangeSerializerMixin`.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from simple_history.models import HistoricalRecords


class StaleEdit(Exception):
    """The record changed after the user opened it; saving would overwrite someone's change."""

    def __init__(self, message: str | None = None):
        super().__init__(
            message
            or _(
                "This record was changed by someone else after you opened it. "
                "Reload it, check their change, then edit again."
            )
        )
        self.message = str(self.args[0])


class AuditedModel(models.Model):
    """Keeps who/when/old/new/reason for every change (simple-history) and a version number."""

    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(inherit=True, cascade_delete_history=False)

    class Meta:
        abstract = True


class VoidableModel(models.Model):
    """Clinical records are never deleted; they are voided with a reason and stay in the history."""

    voided = models.BooleanField(_("voided"), default=False, editable=False)
    void_reason = models.TextField(_("void reason"), blank=True, editable=False)
    voided_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        abstract = True

    def delete(self, *args, **kwargs):
        raise ValidationError(_("Clinical records are voided with a reason, never deleted."))


def require_reason(reason: str | None, field: str = "reason_for_change") -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({field: _("A reason for change is required.")})
    return reason


def create_record(instance: AuditedModel, *, user, reason: str = "Initial entry") -> AuditedModel:
    """First entry of a record: validated, saved, history row 'created' with who and why."""
    instance.full_clean()
    instance._history_user = user
    instance._change_reason = reason
    instance.save()
    return instance


def lock_for_change(instance: AuditedModel, *, expected_version: int | None) -> AuditedModel:
    """Lock the row and refuse the change if it moved on since the user read it.

    Must run inside a transaction. Returns the locked current row.
    """
    current = type(instance)._default_manager.select_for_update().get(pk=instance.pk)
    if expected_version is not None and current.version != expected_version:
        raise StaleEdit()
    return current


def save_change(
    instance: AuditedModel, *, user, reason: str | None, expected_version: int | None = None, clean: bool = True
) -> AuditedModel:
    """An edit after first entry: reason required, stale edit refused, history row kept."""
    reason = require_reason(reason)
    with transaction.atomic():
        current = lock_for_change(instance, expected_version=expected_version)
        instance.version = current.version + 1
        if clean:
            instance.full_clean()
        instance._history_user = user
        instance._change_reason = reason
        instance.save()
    return instance


def void_record(instance: VoidableModel, *, user, reason: str | None, expected_version: int | None = None):
    reason = require_reason(reason, field="reason")
    with transaction.atomic():
        current = lock_for_change(instance, expected_version=expected_version)
        if current.voided:
            raise ValidationError({"reason": _("This record is already voided.")})
        instance.version = current.version + 1
        instance.voided = True
        instance.void_reason = reason
        instance.voided_at = timezone.now()
        instance._history_user = user
        instance._change_reason = f"Voided: {reason}"
        instance.save()
    return instance


class ReasonForChangeFormMixin(forms.Form):
    """Adds 'reason for change' (required when editing) and the version the user saw."""

    reason_for_change = forms.CharField(
        label=_("Reason for change"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required for every change after first entry; kept in the audit trail."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        instance = getattr(self, "instance", None)
        self.is_edit = bool(instance is not None and instance.pk)
        if self.is_edit:
            self.fields["reason_for_change"].required = True
            self.fields["version"].initial = instance.version
        else:
            del self.fields["reason_for_change"]
            del self.fields["version"]


class ReasonForChangeSerializerMixin(serializers.Serializer):
    """API twin of the form mixin: PATCH/PUT need `reason_for_change`; `version` is optional."""

    reason_for_change = serializers.CharField(write_only=True, required=False, allow_blank=True)
    version = serializers.IntegerField(required=False)

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if self.instance is not None and not (attrs.get("reason_for_change") or "").strip():
            raise serializers.ValidationError({"reason_for_change": [_("A reason for change is required.")]})
        return attrs


@dataclass
class FieldChange:
    field: str
    old: Any
    new: Any


@dataclass
class HistoryEntry:
    at: datetime
    user: str
    kind: str
    reason: str
    changes: list[FieldChange]


_KIND = {"+": _("Created"), "~": _("Changed"), "-": _("Deleted")}
HIDDEN_FIELDS = {"version", "updated_at", "created_at"}


def history_entries(instance: AuditedModel) -> list[HistoryEntry]:
    """The record's history, newest first, each with the fields it changed (old → new)."""
    records = list(instance.history.select_related("history_user").order_by("history_date", "history_id"))
    entries = []
    previous = None
    for record in records:
        changes = []
        if previous is not None:
            delta = record.diff_against(previous, excluded_fields=HIDDEN_FIELDS)
            changes = [FieldChange(c.field, c.old, c.new) for c in delta.changes]
        entries.append(
            HistoryEntry(
                at=record.history_date,
                user=record.history_user.get_username() if record.history_user else _("system"),
                kind=_KIND.get(record.history_type, record.history_type),
                reason=record.history_change_reason or "",
                changes=changes,
            )
        )
        previous = record
    entries.reverse()
    return entries
