"""The audit-trail dataset: every history row of every audited record, built in Python (a change
is the difference between two versions), with phase changes, allocation-list changes and exports.

Without direct identifiers, each row's time is moved by its patient's date offset, as the
patient's dates are in the other datasets; typed text shows as "(changed)" / "(redacted)".
"""

import hashlib
from collections.abc import Iterator
from datetime import UTC, date, datetime

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import override

from deviations.models import ProtocolDeviation
from efficacy.exports import AUDITED as EFFICACY_AUDITED
from efficacy.exports import FREE_TEXT_FIELDS as EFFICACY_FREE_TEXT
from efficacy.exports import audit_label as efficacy_label
from efficacy.exports import audited_participant
from efficacy.models import TumourAssessment
from enrollment.models import Participant, Screening
from randomization.models import AllocationListChange
from reports.models import ExportRecord
from safety.models import AdverseEvent
from scr_escc.audit import field_changes, history_action
from scr_escc.csvexport import CODE, DATETIME, INTEGER, TEXT, Column, Dataset, date_offset, neutralize, shift_iso
from scr_escc.models import PhaseTransition, Site, Study, User


def deidentification_key() -> bytes:
    """The secret of the date shifts: DEIDENTIFICATION_KEY, else derived from SECRET_KEY."""
    configured = getattr(settings, "DEIDENTIFICATION_KEY", "")
    return (configured or hashlib.sha256(f"deidentification:{settings.SECRET_KEY}".encode()).hexdigest()).encode()


# ---- The audit trail: built in Python, since a change is the difference between two versions --------

# Values a de-identified audit export hides (it says they changed, not to what): the direct
# identifiers, and the screening notes, free text that may name the patient.
IDENTIFIER_FIELDS = {
    "term",
    "initials",
    "date_of_birth",
    "notes",
    "withdrawal_reason",
    "death_cause",
    "void_reason",
    "other_specify",
    "description",
    "corrective_action",
    "first_name",
    "last_name",
    "email",
    *EFFICACY_FREE_TEXT,
}
AUDITED = (
    ("screening", Screening),
    ("participant", Participant),
    ("adverse_event", AdverseEvent),
    ("deviation", ProtocolDeviation),
    ("study", Study),
    ("user", User),
    ("site", Site),
    *EFFICACY_AUDITED,
)
ACTIONS = (
    "created, changed, voided, deleted, phase_changed, exported, allocation_list_generated, "
    "allocation_list_imported, allocation_list_stratum_extended, allocation_list_strata_added"
)
_ACTION = {"+": "created", "~": "changed", "-": "deleted", "void": "voided"}


def _utc(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else ""


def _value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ";".join(map(str, value))
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _label(record_type: str, row, subjects: dict[int, str], deidentified: bool) -> str:
    """The record as users know it; without direct identifiers, no typed term and no real date."""
    if record_type == "screening":
        return row.screening_number
    if record_type == "participant":
        return row.subject_id
    if record_type == "adverse_event":
        term = f"AE #{row.id}" if deidentified else row.term
        return f"{subjects.get(row.participant_id, '?')} {term} (grade {row.grade})"
    if record_type == "user":
        return row.username
    if record_type == "site":
        return row.code
    if record_type == "deviation":
        when = "" if deidentified else f" {row.deviation_date}"
        return f"{subjects.get(row.participant_id, row.site_id)} {row.category}{when}"
    if record_type == "study":
        return row.protocol
    return efficacy_label(record_type, row, deidentified)


class _Pseudonyms:
    """For the audit without direct identifiers: each row's patient, whose date offset moves the
    row's time as it moves the patient's dates in the other datasets."""

    def __init__(self, key: bytes):
        self.key = key
        self.subjects = dict(Participant.objects.values_list("pk", "subject_id"))
        self.enrolled = dict(Participant.objects.values_list("screening_id", "subject_id"))
        self.protocol = Study.objects.values_list("protocol", flat=True).first() or "SCR-ESCC-01"
        self.assessments = dict(TumourAssessment.objects.values_list("pk", "participant_id"))

    def of(self, record_type: str, row) -> str:
        subject = {
            "participant": getattr(row, "subject_id", None),
            "screening": self.enrolled.get(row.id) if record_type == "screening" else None,
        }.get(record_type) or self.subjects.get(
            getattr(row, "participant_id", None) or audited_participant(record_type, row, self.assessments)
        )
        if subject:
            return f"{self.protocol}-{subject}"
        return row.screening_number if record_type == "screening" else ""

    def moved(self, record_type: str, row, moment) -> str:
        pseudonym = self.of(record_type, row)
        if not pseudonym:
            return _utc(moment)
        return shift_iso(_utc(moment), date_offset(pseudonym, key=self.key))


def _changes(row, same_record, deidentified: bool) -> str:
    changes = []
    for change in field_changes(row, same_record) if same_record is not None else []:
        if deidentified and (change.field in IDENTIFIER_FIELDS or isinstance(change.new or change.old, date)):
            changes.append(f"{change.field}: (changed)")
        else:
            changes.append(f"{change.field}: {_value(change.old)} → {_value(change.new)}")
    return neutralize("; ".join(changes))


def _record_rows(deidentified: bool) -> Iterator[list[str]]:
    """Every history row of every audited record, with what it changed (old → new)."""
    pseudonyms = _Pseudonyms(deidentification_key())
    for record_type, model in AUDITED:
        history = model.history.select_related("history_user").order_by("id", "history_date", "history_id")
        previous = None
        for row in history.iterator(chunk_size=2000):
            same_record = previous if previous is not None and previous.id == row.id else None
            reason = row.history_change_reason or ""
            yield [
                pseudonyms.moved(record_type, row, row.history_date) if deidentified else _utc(row.history_date),
                neutralize(row.history_user.get_username()) if row.history_user else "system",
                _ACTION[history_action(row, same_record)],
                record_type,
                str(row.id),
                neutralize(_label(record_type, row, pseudonyms.subjects, deidentified)),
                str(getattr(row, "version", "")),
                "(redacted)" if deidentified and reason else neutralize(reason),
                _changes(row, same_record, deidentified),
            ]
            previous = row


def _english(display) -> str:
    """A choice label as a cell: English, whatever the language of the user who exports."""
    with override("en"):
        return display()


def _user(user) -> str:
    return neutralize(user.get_username()) if user else "system"


def _event_rows(deidentified: bool) -> Iterator[list[str]]:
    """Phase changes, changes to the allocation list and exports: events that are not record edits."""

    def reason(text: str) -> str:
        return "(redacted)" if deidentified and text else neutralize(text)

    for transition in PhaseTransition.objects.select_related("by", "signature").order_by("at", "pk"):
        signed = f" Signed: {transition.signature.meaning}" if transition.signature_id else ""
        yield [
            _utc(transition.at),
            _user(transition.by),
            "phase_changed",
            "study",
            "1",
            _english(transition.get_to_phase_display),
            "",
            reason(transition.reason) + signed,
            f"phase: {transition.from_phase} → {transition.to_phase}",
        ]
    for change in AllocationListChange.objects.select_related("by").order_by("at", "pk"):
        yield [
            _utc(change.at),
            _user(change.by),
            f"allocation_list_{change.action}",
            "allocation_list",
            str(change.allocation_list_id),
            ", ".join(change.strata),
            "",
            reason(change.reason),
            f"{change.entries_added} entries; fingerprint {change.fingerprint}",
        ]
    for export in ExportRecord.objects.select_related("user").order_by("started_at", "pk"):
        options = ", ".join(f"{k}={v}" for k, v in sorted(export.options.items()))
        rows = "incomplete" if export.row_count is None else f"{export.row_count} rows"
        yield [
            _utc(export.started_at),
            _user(export.user),
            "exported",
            "export",
            str(export.pk),
            export.dataset,
            "",
            f"{options or 'all columns'}; {rows}; via {export.channel}",
            "",
        ]


def _history_rows(deidentified: bool) -> Iterator[list[str]]:
    yield from _record_rows(deidentified)
    yield from _event_rows(deidentified)


def _audit_count() -> int:
    return (
        sum(model.history.count() for _name, model in AUDITED)
        + PhaseTransition.objects.count()
        + AllocationListChange.objects.count()
        + ExportRecord.objects.count()
    )


AUDIT = Dataset(
    name="audit",
    title=_("Audit trail"),
    description=_(
        "Every create, change and void of a clinical record, every phase change and every export: "
        "who, when, why and what changed (old → new). Ordered by record, then time."
    ),
    voided=_("Voids appear as action voided, with their reason."),
    queryset=lambda: Study.history.none(),
    rows=_history_rows,
    count=_audit_count,
    columns=(
        Column("AUDITDTC", _("When (UTC)."), DATETIME, ""),
        Column("USERNAME", _("Who (system for automatic changes such as the stopping-rule halt)."), TEXT, ""),
        Column("ACTION", _("What happened."), CODE, "", ACTIONS),
        Column(
            "RECTYPE",
            _("Kind of record."),
            CODE,
            "",
            "screening, participant, adverse_event, deviation, study, user, site, systemic_dose, radiotherapy_course, "
            "tumour_assessment, lesion, lesion_result, clinical_progression, new_therapy, follow_up_contact, "
            "allocation_list, export",
        ),
        Column("RECID", _("Record identifier (the AEID, screening or participant record id, export id)."), INTEGER, ""),
        Column("RECLABEL", _("The record as users know it: screening number, subject ID, AE term, dataset."), TEXT, ""),
        Column("VERSION", _("Record version after the change."), INTEGER, ""),
        Column(
            "REASON", _("Reason for change, as entered (with the e-signature meaning for signed decisions)."), TEXT, ""
        ),
        Column(
            "CHANGES",
            _(
                "Changed fields as “field: old → new”, separated by ';'. In the export without direct "
                "identifiers, changes of initials, date of birth or screening notes show as “(changed)”."
            ),
            TEXT,
            "",
        ),
    ),
)
