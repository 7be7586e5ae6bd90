"""The audit trail (SPEC §9) in one reusable piece.

A clinical model inherits `AuditedModel` (history of every change, a version for stale-edit
detection) and, if it may be voided, `VoidableModel`. Services lock a record with
`lock_for_change()` (stale and voided records refused), and write it only through
`save_audited()` / `create_record()` / `void_audited()`, so every write has a history row
with who, when and why. A void is the history row where `voided` turns true.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from scr_escc.exceptions import RecordVoided


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


# Hooks for the apps above the core (a registry filled in `AppConfig.ready()`): a write guard
# may refuse any audited write (raise a DomainError, e.g. a locked casebook) before it happens;
# a change listener learns of every audited write after it, in the same transaction (e.g. a
# source-data verification that no longer holds). Both get the record, the user and the reason.
WriteHook = Callable[..., None]
_WRITE_GUARDS: dict[str, WriteHook] = {}
_CHANGE_LISTENERS: dict[str, WriteHook] = {}


def register_write_guard(guard: WriteHook) -> None:
    _WRITE_GUARDS[f"{guard.__module__}.{guard.__qualname__}"] = guard


def register_change_listener(listener: WriteHook) -> None:
    _CHANGE_LISTENERS[f"{listener.__module__}.{listener.__qualname__}"] = listener


def save_audited(instance: AuditedModel, *, user, reason: str) -> AuditedModel:
    """The one audited write every service uses: a history row with who and why.

    A first entry is version 1; every later save raises the version, which is what the
    stale-edit check compares. The caller validates and holds the row lock. The registered
    write guards may refuse it first; the change listeners hear of it after.
    """
    for guard in _WRITE_GUARDS.values():
        guard(instance, user=user, reason=reason)
    if not instance._state.adding:
        instance.version += 1
    instance._history_user = user
    instance._change_reason = reason
    instance.save()
    for listener in _CHANGE_LISTENERS.values():
        listener(instance, user=user, reason=reason)
    return instance


def create_record(instance: AuditedModel, *, user, reason: str, validate_constraints: bool = True) -> AuditedModel:
    """First entry of a record: validated, saved, history row 'created' with who and why."""
    instance.full_clean(validate_constraints=validate_constraints)
    return save_audited(instance, user=user, reason=reason)


def void_audited(instance: VoidableModel, *, user, reason: str) -> VoidableModel:
    """Void a locked record: it stays, flagged, and its history shows the void with the reason."""
    instance.voided = True
    instance.void_reason = reason
    instance.voided_at = timezone.now()
    return save_audited(instance, user=user, reason=reason)


def lock_for_change(instance: AuditedModel, *, expected_version: int | None) -> AuditedModel:
    """Lock the row for a change; refuse it if the row moved on since the user read it, or is voided.

    Must run inside a transaction. Returns the locked current row. Only this row is locked
    (`of=("self",)`), never rows a default join would add.
    """
    current = type(instance)._default_manager.select_for_update(of=("self",)).get(pk=instance.pk)
    if expected_version is not None and current.version != expected_version:
        raise StaleEdit()
    ensure_not_voided(current)
    return current


def ensure_not_voided(record) -> None:
    """A voided record is kept as it was: every change to it is refused (pages and API alike)."""
    if getattr(record, "voided", False):
        raise RecordVoided(
            _("This %(record)s is voided; a voided record cannot be changed.")
            % {"record": type(record)._meta.verbose_name}
        )


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


_KIND = {"+": _("Created"), "~": _("Changed"), "-": _("Deleted"), "void": _("Voided")}
HIDDEN_FIELDS = {"version", "updated_at", "created_at"}


def field_changes(record, previous) -> list[FieldChange]:
    """What one history row changed against the one before, field by field (old → new).

    Every tracked field counts, also those no form edits (phase, eligibility, treatment-related,
    voided, arm): simple-history's default diff would leave them out of the audit trail.
    """
    changes = []
    for field in record.tracked_fields:
        if field.name in HIDDEN_FIELDS:
            continue
        old, new = getattr(previous, field.attname), getattr(record, field.attname)
        if old != new:
            changes.append(FieldChange(field.name, old, new))
    m2m_fields = sorted(getattr(record, "_history_m2m_fields", ()), key=lambda f: f.name)
    for field in m2m_fields:  # e.g. a user's role (groups) and sites
        old, new = _m2m_labels(previous, field), _m2m_labels(record, field)
        if old != new:
            changes.append(FieldChange(field.name, ", ".join(old), ", ".join(new)))
    return changes


def _m2m_labels(record, field) -> list[str]:
    target = field.related_model
    ids = [getattr(row, f"{field.m2m_reverse_field_name()}_id") for row in getattr(record, field.name).all()]
    return sorted(str(obj) if not hasattr(obj, "code") else obj.code for obj in target.objects.filter(pk__in=ids))


def history_action(record, previous) -> str:
    """What a history row records: "+" created, "~" changed, "-" deleted, or "void".

    A void is the row where the record's `voided` flag turned true (records are never
    un-voided), read from the data, never from the wording of the reason.
    """
    if getattr(record, "voided", False) and not (previous is not None and previous.voided):
        return "void"
    if previous is None:
        return "+"  # the first row of a record's history is its creation, however it was saved
    return record.history_type


def history_entries(instance: AuditedModel) -> list[HistoryEntry]:
    """The record's history, newest first, each with the fields it changed (old → new)."""
    records = list(instance.history.select_related("history_user").order_by("history_date", "history_id"))
    entries = []
    previous = None
    for record in records:
        changes = field_changes(record, previous) if previous is not None else []
        entries.append(
            HistoryEntry(
                at=record.history_date,
                user=record.history_user.get_username() if record.history_user else _("system"),
                kind=_KIND[history_action(record, previous)],
                reason=record.history_change_reason or "",
                changes=changes,
            )
        )
        previous = record
    entries.reverse()
    return entries
