"""Source-data verification: the study's SDV level per record type, a monitor's marks, and the
reset when a verified value changes (a change listener on every audited write)."""

import datetime
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from enrollment.models import Participant
from monitoring.models import MonitoringSettings, Query, SdvLevel, SdvMark
from monitoring.record_types import RECORD_TYPES, RecordType, owner_of, participant_id_of, site_id_of, type_of
from monitoring.values import diff, record_values
from scr_escc.audit import StaleEdit, ensure_not_voided, save_audited
from scr_escc.exceptions import DomainError
from scr_escc.scoping import scope_to_user

VERIFY = "scr_escc.verify_source_data"
SETTINGS = "scr_escc.lock_casebook"

# The monitoring plan until the data manager sets it: key fields of what decides eligibility,
# safety and the primary endpoint; treatment and follow-up records on request.
DEFAULT_LEVELS = {
    "screening": SdvLevel.KEY,
    "participant": SdvLevel.KEY,
    "ae": SdvLevel.ALL,
    "dose": SdvLevel.NONE,
    "radiotherapy": SdvLevel.NONE,
    "assessment": SdvLevel.KEY,
    "clinical-progression": SdvLevel.KEY,
    "new-therapy": SdvLevel.KEY,
    "follow-up-contact": SdvLevel.NONE,
    "deviation": SdvLevel.KEY,
}
_RANK = {SdvLevel.NONE: 0, SdvLevel.KEY: 1, SdvLevel.ALL: 2}


class SdvRefused(DomainError):
    pass


def monitoring_settings() -> MonitoringSettings:
    row, _created = MonitoringSettings.objects.get_or_create(pk=1)
    return row


def levels(row: MonitoringSettings | None = None) -> dict[str, str]:
    stored = (row or monitoring_settings()).sdv_levels
    return {code: stored.get(code, DEFAULT_LEVELS[code]) for code in RECORD_TYPES}


def update_settings(*, user, levels_by_type: dict[str, str], query_digest_days: int, reason: str) -> MonitoringSettings:
    if not user.has_perm(SETTINGS):
        raise PermissionDenied
    errors = {
        f"sdv_{code}": [_("Choose none, key fields or 100%.")]
        for code, level in levels_by_type.items()
        if code not in RECORD_TYPES or level not in SdvLevel.values
    }
    if query_digest_days is None or not 1 <= query_digest_days <= 90:
        errors["query_digest_days"] = [_("Between 1 and 90 days.")]
    if not (reason or "").strip():
        errors["reason_for_change"] = [_("A reason for change is required.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        row = monitoring_settings()
        row = MonitoringSettings.objects.select_for_update().get(pk=row.pk)
        row.sdv_levels = {**levels(row), **levels_by_type}
        row.query_digest_days = query_digest_days
        save_audited(row, user=user, reason=reason.strip())
    return row


def covered_fields(record_type: RecordType, level: str) -> tuple[str, ...]:
    if level == SdvLevel.ALL:
        return record_type.fields
    if level == SdvLevel.KEY:
        return record_type.key_fields
    return ()


def verify(*, user, record, expected_version: int | None = None) -> SdvMark:
    """Mark `record` (already scoped) verified against the source at the study's level."""
    if not user.has_perm(VERIFY):
        raise PermissionDenied
    record_type = type_of(record)
    if record_type is None:
        raise ValidationError({"record_type": _("This kind of record is not source-data verified.")})
    level = levels()[record_type.code]
    if level == SdvLevel.NONE:
        raise SdvRefused(
            _("The monitoring plan sets no source-data verification for %(type)s records.")
            % {"type": record_type.label}
        )
    with transaction.atomic():
        current = record_type.model._default_manager.select_for_update(of=("self",)).get(pk=record.pk)
        if expected_version is not None and current.version != expected_version:
            raise StaleEdit()
        ensure_not_voided(current)
        mark = SdvMark.objects.select_for_update().filter(record_type=record_type.code, record_id=current.pk).first()
        mark = mark or SdvMark(record_type=record_type.code, record_id=current.pk)
        mark.site_id = site_id_of(current)
        mark.participant_id = participant_id_of(current)
        mark.level = level
        mark.status = SdvMark.Status.VERIFIED
        mark.verified_by = user
        mark.verified_at = timezone.now()
        mark.verified_values = record_values(current, covered_fields(record_type, level))
        mark.changes, mark.changed_at = [], None
        reason = _("Source data verified (%(level)s)") % {"level": mark.get_level_display()}
        save_audited(mark, user=user, reason=reason)
    return mark


def reset_on_change(instance, *, user, reason: str) -> None:
    """Change listener: a verified value that changed turns the mark to "changed since verified",
    with old → new of each covered field. Other fields' changes leave it verified."""
    owner = owner_of(instance)
    if owner is None:
        return
    record_type, record_id = owner
    mark = SdvMark.objects.filter(record_type=record_type.code, record_id=record_id).first()
    if mark is None:
        return
    record = instance if type_of(instance) is record_type else record_type.model._default_manager.get(pk=record_id)
    changes = diff(mark.verified_values, record_values(record, covered_fields(record_type, mark.level)))
    if changes == mark.changes:
        return
    if not changes:  # changed, then changed back to the values the monitor verified
        mark.status, mark.changes, mark.changed_at = SdvMark.Status.VERIFIED, [], None
        save_audited(mark, user=user, reason=_("Verified values restored: %(reason)s") % {"reason": reason})
        return
    mark.status = SdvMark.Status.CHANGED
    mark.changes = changes
    mark.changed_at = mark.changed_at or timezone.now()
    save_audited(mark, user=user, reason=_("Verified data changed: %(reason)s") % {"reason": reason})


def record_status(mark: SdvMark | None, level: str) -> str:
    """ "verified", "changed", "unverified" (never verified, or at a lower level), or "not required"."""
    if level == SdvLevel.NONE:
        return "not required"
    if mark is None or _RANK[mark.level] < _RANK[level]:
        return "unverified" if mark is None or mark.status == SdvMark.Status.VERIFIED else "changed"
    if mark.status == SdvMark.Status.CHANGED and _RANK[mark.level] > _RANK[level]:
        # Verified at a higher level than the plan now asks: only the fields the plan covers count.
        covered = set(covered_fields(RECORD_TYPES[mark.record_type], level))
        if not any(c["field"] in covered or c["field"].startswith("lesion ") for c in mark.changes):
            return SdvMark.Status.VERIFIED
    return mark.status


@dataclass
class ParticipantProgress:
    participant: Participant
    required: int = 0
    verified: int = 0
    changed: int = 0
    pending: list = field(default_factory=list)  # (record_type, record, status)

    @property
    def percent(self) -> int:
        return round(100 * self.verified / self.required) if self.required else 100


def _records_needing_sdv(participants: dict[int, Participant], current_levels: dict[str, str]):
    """(record_type, record, participant pk) of every live record that the plan asks to verify."""
    for code, level in current_levels.items():
        if level == SdvLevel.NONE:
            continue
        record_type = RECORD_TYPES[code]
        if code == "participant":
            rows = [(p, p.pk) for p in participants.values()]
        elif code == "screening":
            rows = [(p.screening, p.pk) for p in participants.values()]
        else:
            records = record_type.model._default_manager.filter(participant_id__in=participants, voided=False)
            rows = [(r, r.participant_id) for r in records.order_by("pk")]
        for record, participant_pk in rows:
            yield record_type, record, participant_pk


def _progress(participants_qs) -> tuple[dict[int, "ParticipantProgress"], list]:
    ordered = participants_qs.select_related("site", "screening").order_by("site__code", "sequence")
    participants = {p.pk: p for p in ordered}
    current_levels = levels()
    marks = {
        (m.record_type, m.record_id): m
        for m in SdvMark.objects.filter(participant_id__in=participants).select_related("verified_by")
    }
    progress = {pk: ParticipantProgress(p) for pk, p in participants.items()}
    rows = []
    for record_type, record, participant_pk in _records_needing_sdv(participants, current_levels):
        mark = marks.get((record_type.code, record.pk))
        level = current_levels[record_type.code]
        status = record_status(mark, level)
        row = progress[participant_pk]
        row.required += 1
        if status == "verified":
            row.verified += 1
        else:
            row.changed += status == "changed"
            row.pending.append((record_type, record, status, mark))
        rows.append((participants[participant_pk], record_type, record, level, status, mark))
    return progress, rows


def worklist(user, *, site=None, participant=None) -> list[ParticipantProgress]:
    """Per participant at the user's sites (or one site / one participant): records to verify,
    how many are verified, and the ones still to do or changed since verification."""
    participants_qs = scope_to_user(Participant.objects.all(), user)
    if site is not None:
        participants_qs = participants_qs.filter(site=site)
    if participant is not None:
        participants_qs = participants_qs.filter(pk=participant.pk)
    return list(_progress(participants_qs)[0].values())


@dataclass
class SdvRow:
    subject_id: str
    site: str
    record_type: str
    record_id: int
    level: str
    status: str
    verified_by: str
    verified_at: str | None
    changed_at: str | None
    changed_fields: list[str]


def _utc(moment) -> str | None:
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def worklist_rows(participants_qs):
    """One SdvRow per record to verify (the SDV export)."""
    for participant, record_type, record, level, status, mark in _progress(participants_qs)[1]:
        yield SdvRow(
            participant.subject_id,
            participant.site.code,
            record_type.code,
            record.pk,
            level,
            status,
            mark.verified_by.username if mark else "",
            _utc(mark.verified_at) if mark else None,
            _utc(mark.changed_at) if mark else None,
            [change["field"] for change in mark.changes] if mark else [],
        )


def mark_for(record) -> SdvMark | None:
    record_type = type_of(record)
    if record_type is None:
        return None
    marks = SdvMark.objects.filter(record_type=record_type.code, record_id=record.pk)
    return marks.select_related("verified_by").first()


def link_screening_records(instance, *, user, reason: str) -> None:
    """Change listener: when a screened patient is enrolled, the queries and SDV marks of their
    screening join the participant's casebook (counted, and blocking a lock, like the others).
    The link is derived from the enrollment, itself audited; the rows' own history is unchanged."""
    if not isinstance(instance, Participant) or instance.version != 1:
        return
    rows = {"record_type": "screening", "record_id": instance.screening_id, "participant__isnull": True}
    Query.objects.filter(**rows).update(participant=instance)
    SdvMark.objects.filter(**rows).update(participant=instance)
