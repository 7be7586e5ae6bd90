"""CSV exports for data managers (SPEC §8): the datasets, and the one service pages and API call.

The clinical apps describe their own datasets (`enrollment/exports.py`, `safety/exports.py`,
`randomization/exports.py`); the trial-wide ones — alerts and the audit trail — are here.
`start_export()` checks the permission, writes the `ExportRecord` and returns the streamed bytes.
"""

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Case, CharField, Value, When
from django.http import Http404, StreamingHttpResponse
from django.utils import timezone

from deviations.exports import DATASETS as DEVIATION_DATASETS
from deviations.models import ProtocolDeviation
from enrollment.exports import DATASETS as ENROLLMENT_DATASETS
from enrollment.models import Participant, Screening
from randomization.exports import DATASETS as RANDOMIZATION_DATASETS
from randomization.models import AllocationListChange
from reports.models import ExportRecord
from safety.exports import DATASETS as SAFETY_DATASETS
from safety.models import AdverseEvent
from scr_escc.audit import field_changes, history_action
from scr_escc.csvexport import (
    CODE,
    DATETIME,
    INTEGER,
    TEXT,
    Column,
    Dataset,
    codes,
    date_offset,
    iso_datetime,
    load_date_offsets,
    neutralize,
    patient_pseudonym,
    safe_text,
    shift_iso,
    stream_copy,
    stream_csv,
)
from scr_escc.models import Alert, PhaseTransition, Site, Study, User

EXPORT_PERMISSION = "scr_escc.export_data"

ALERTS = Dataset(
    name="alerts",
    title="Alerts",
    description="One row per email alert in the outbox, with its delivery status.",
    voided="Alerts are never voided or deleted.",
    queryset=lambda: Alert.objects.order_by("created_at", "pk"),
    columns=(
        Column("ALERTID", "Record identifier of the alert.", INTEGER, "pk"),
        Column("KIND", "What the alert is about.", CODE, "kind", codes(Alert.Kind.choices)),
        Column("KEY", "Unique key: one alert per cause.", TEXT, safe_text("key")),
        Column(
            "STATUS",
            "Delivery status; a message being handed to the mail server is still pending.",
            CODE,
            Case(
                When(status=Alert.Status.SENDING, then=Value(Alert.Status.PENDING.value)),
                default="status",
                output_field=CharField(),
            ),
            "pending, sent, failed",
        ),
        Column("CRTDTC", "When the alert was written (UTC).", DATETIME, iso_datetime("created_at")),
        Column(
            "SENTDTC", "When the mail server accepted it (UTC); empty until sent.", DATETIME, iso_datetime("sent_at")
        ),
        Column("ATTEMPTS", "Delivery attempts so far.", INTEGER, "attempts"),
        Column("SUBJECT", "Email subject.", TEXT, safe_text("subject"), free_text=True),
        Column("LINK", "Page the alert points to.", TEXT, safe_text("link")),
        Column("LASTERR", "The mail server's last error, if any.", TEXT, safe_text("last_error")),
    ),
)


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
}
AUDITED = (
    ("screening", Screening),
    ("participant", Participant),
    ("adverse_event", AdverseEvent),
    ("deviation", ProtocolDeviation),
    ("study", Study),
    ("user", User),
    ("site", Site),
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
    return row.protocol


class _Pseudonyms:
    """For the audit without direct identifiers: each row's patient, whose date offset moves the
    row's time as it moves the patient's dates in the other datasets."""

    def __init__(self, key: bytes):
        self.key = key
        self.subjects = dict(Participant.objects.values_list("pk", "subject_id"))
        self.enrolled = dict(Participant.objects.values_list("screening_id", "subject_id"))
        self.protocol = Study.objects.values_list("protocol", flat=True).first() or "SCR-ESCC-01"

    def of(self, record_type: str, row) -> str:
        subject = {
            "participant": getattr(row, "subject_id", None),
            "screening": self.enrolled.get(row.id) if record_type == "screening" else None,
        }.get(record_type) or self.subjects.get(getattr(row, "participant_id", None))
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
            transition.get_to_phase_display(),
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
    title="Audit trail",
    description="Every create, change and void of a clinical record, every phase change and every export: "
    "who, when, why and what changed (old → new). Ordered by record, then time.",
    voided="Voids appear as action voided, with their reason.",
    queryset=lambda: Study.history.none(),
    rows=_history_rows,
    count=_audit_count,
    columns=(
        Column("AUDITDTC", "When (UTC).", DATETIME, ""),
        Column("USERNAME", "Who (system for automatic changes such as the stopping-rule halt).", TEXT, ""),
        Column("ACTION", "What happened.", CODE, "", ACTIONS),
        Column(
            "RECTYPE",
            "Kind of record.",
            CODE,
            "",
            "screening, participant, adverse_event, deviation, study, user, site, allocation_list, export",
        ),
        Column("RECID", "Record identifier (the AEID, screening or participant record id, export id).", INTEGER, ""),
        Column("RECLABEL", "The record as users know it: screening number, subject ID, AE term, dataset.", TEXT, ""),
        Column("VERSION", "Record version after the change.", INTEGER, ""),
        Column(
            "REASON", "Reason for change, as entered (with the e-signature meaning for signed decisions).", TEXT, ""
        ),
        Column(
            "CHANGES",
            "Changed fields as “field: old → new”, separated by ';'. In the export without direct "
            "identifiers, changes of initials, date of birth or screening notes show as “(changed)”.",
            TEXT,
            "",
        ),
    ),
)

DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in (*ENROLLMENT_DATASETS, *SAFETY_DATASETS, *RANDOMIZATION_DATASETS, *DEVIATION_DATASETS, ALERTS, AUDIT)
}
# The order data managers see on the Exports page and the data dictionary.
ORDER = ("screening", "participants", "adverse_events", "allocations", "deviations", "alerts", "audit")


def get_dataset(name: str) -> Dataset:
    try:
        return DATASETS[name]
    except KeyError:
        raise Http404(f"No dataset {name!r}.") from None


def datasets_with_counts() -> list[tuple[Dataset, int]]:
    return [(DATASETS[name], DATASETS[name].row_count()) for name in ORDER]


@dataclass(frozen=True)
class Export:
    record: ExportRecord
    filename: str
    content: Iterator[bytes]


def deidentification_key() -> bytes:
    """The secret of the date shifts: DEIDENTIFICATION_KEY, else derived from SECRET_KEY."""
    configured = getattr(settings, "DEIDENTIFICATION_KEY", "")
    return (configured or hashlib.sha256(f"deidentification:{settings.SECRET_KEY}".encode()).hexdigest()).encode()


def pseudonym_offsets(*, key: bytes) -> dict[str, int]:
    """Every patient pseudonym a dataset can hold (`csvexport.patient_pseudonym`: USUBJID, which is
    STUDYID-SUBJID, or the screening number of a patient never enrolled) → its date offset."""
    pseudonyms = [patient_pseudonym({"SUBJID": s}) for s in Participant.objects.values_list("subject_id", flat=True)]
    pseudonyms += [
        patient_pseudonym({"SCRNUM": n}) for n in Screening.objects.values_list("screening_number", flat=True)
    ]
    return {p: date_offset(p, key=key) for p in pseudonyms}


def start_export(*, user, dataset: str, deidentified: bool, channel: str = ExportRecord.Channel.PAGE) -> Export:
    """Record the export in the audit trail and return its streamed CSV."""
    if not user.has_perm(EXPORT_PERMISSION):
        raise PermissionDenied
    data = get_dataset(dataset)
    record = ExportRecord.objects.create(
        user=user, dataset=data.name, options={"deidentified": deidentified}, channel=channel
    )

    def finish(row_count: int) -> None:
        ExportRecord.objects.filter(pk=record.pk).update(row_count=row_count, completed_at=timezone.now())

    columns = data.columns_for(deidentified=deidentified)
    header = [c.name for c in columns]

    def in_one_transaction() -> Iterator[bytes]:
        # One transaction: the offsets and the rows read together, a server-side cursor that
        # PostgreSQL streams (one outside a transaction is WITH HOLD, materialised first).
        with transaction.atomic():
            if data.rows is not None:
                yield from stream_csv(header, data.rows(deidentified), on_done=finish)
                return
            if deidentified:
                load_date_offsets(pseudonym_offsets(key=deidentification_key()))
            yield from stream_copy(header, data.copy_query(columns, shift_dates=deidentified), on_done=finish)

    stamp = timezone.localtime(record.started_at).strftime("%Y%m%d-%H%M")
    suffix = "-deidentified" if deidentified else ""
    return Export(
        record=record,
        filename=f"scr-escc-01_{data.name}{suffix}_{stamp}.csv",
        content=in_one_transaction(),
    )


def wants_deidentified(params) -> bool:
    """The `deidentified` query parameter, as pages and API spell it (1, true, yes, on)."""
    return params.get("deidentified", "").lower() in ("1", "true", "yes", "on")


def streaming_response(export: Export) -> StreamingHttpResponse:
    response = StreamingHttpResponse(export.content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    response["Cache-Control"] = "no-store"
    return response
