"""The monitoring datasets of the CSV exports: data queries, and the SDV status of every record
the monitoring plan asks to verify."""

from django.db.models import Case, CharField, OuterRef, Q, Subquery, Value, When
from django.utils.translation import gettext_lazy as _

from enrollment.models import Screening
from monitoring.models import Query, QueryStatus, QueryStep, SdvLevel
from monitoring.record_types import RECORD_TYPES
from scr_escc.csvexport import (
    CODE,
    DATETIME,
    FLAG,
    INTEGER,
    LIST,
    TEXT,
    Column,
    Dataset,
    codes,
    flag,
    iso_datetime,
    safe_text,
    studyid,
    usubjid,
)


def _first_answer(field: str):
    steps = QueryStep.objects.filter(query=OuterRef("pk"), action=QueryStep.Action.ANSWERED).order_by("at", "pk")
    return Subquery(steps.values(field)[:1])


def _last_answer(field: str):
    steps = QueryStep.objects.filter(query=OuterRef("pk"), action=QueryStep.Action.ANSWERED).order_by("-at", "-pk")
    return Subquery(steps.values(field)[:1])


RECORD_TYPE_CODES = ", ".join(RECORD_TYPES)
_screening_number = Screening.objects.filter(pk=OuterRef("record_id")).values("screening_number")[:1]

QUERIES = Dataset(
    name="queries",
    title=_("Data queries"),
    description=_("One row per data query: the record and field it asks about, its status and its timeline."),
    queryset=lambda: Query.objects.annotate(
        first_answer_at=_first_answer("at"), last_answer_text=_last_answer("text")
    ).order_by("site__code", "raised_at", "pk"),
    columns=(
        studyid(),
        Column(
            "USUBJID",
            _("Unique subject identifier (STUDYID-SUBJID); empty for a screening not enrolled."),
            TEXT,
            Case(When(participant__isnull=True, then=Value("")), default=usubjid("participant__subject_id").source),
        ),
        Column(
            "SCRNUM",
            _("Screening number of a queried screening; empty for other records."),
            TEXT,
            # A screening never enrolled has no USUBJID: its screening number keys its date offset
            # in the export without identifiers, as in the screening dataset.
            Case(
                When(record_type="screening", then=Subquery(_screening_number)),
                default=Value(""),
                output_field=CharField(),
            ),
        ),
        Column("SITEID", _("Study site code."), CODE, "site__code"),
        Column("QRYID", _("Query identifier (Q-<QRYID> on the pages)."), INTEGER, "pk"),
        Column("RECTYPE", _("Type of the queried record."), CODE, "record_type", RECORD_TYPE_CODES),
        Column("RECID", _("Identifier of the queried record."), INTEGER, "record_id"),
        Column("FIELD", _("Queried field; empty for the whole record."), CODE, "field"),
        Column("QRYTEXT", _("The question."), TEXT, safe_text("text"), free_text=True),
        Column("QRYSTAT", _("Status of the query."), CODE, "status", codes(QueryStatus.choices)),
        Column("AUTOFL", _("Raised automatically by a data check."), FLAG, flag(~Q(rule="")), "Y, N"),
        Column("QRYRULE", _("The data check that raised it, for an automatic query."), CODE, "rule"),
        Column("RAISEDBY", _("User who raised it; empty for the system."), TEXT, safe_text("raised_by__username")),
        Column("RAISEDTC", _("Date and time raised."), DATETIME, iso_datetime("raised_at")),
        Column("ANS1DTC", _("Date and time of the first answer."), DATETIME, iso_datetime("first_answer_at")),
        Column("ANSTEXT", _("The latest answer."), TEXT, safe_text("last_answer_text"), free_text=True),
        Column("CLOSEDTC", _("Date and time closed."), DATETIME, iso_datetime("closed_at")),
    ),
)


def _sdv_rows(deidentified: bool):
    from enrollment.models import Participant
    from monitoring.sdv import worklist_rows
    from reports.audit_trail import deidentification_key
    from scr_escc.csvexport import date_offset, neutralize, patient_pseudonym, shift_iso

    key = deidentification_key() if deidentified else b""
    protocol = studyid().values
    for row in worklist_rows(Participant.objects.all()):
        usubjid = patient_pseudonym({"SUBJID": row.subject_id})
        shift = date_offset(usubjid, key=key) if deidentified else 0
        yield [
            protocol,
            usubjid,
            row.site,
            row.record_type,
            row.record_id,
            row.level,
            row.status,
            neutralize(row.verified_by),  # a username may begin with + - or @
            shift_iso(row.verified_at, shift),
            shift_iso(row.changed_at, shift),
            ";".join(row.changed_fields),
        ]


def _sdv_count() -> int:
    from enrollment.models import Participant
    from monitoring.sdv import worklist_rows

    return sum(1 for _row in worklist_rows(Participant.objects.all()))


SDV = Dataset(
    name="sdv",
    title=_("Source data verification status"),
    description=_(
        "One row per record the monitoring plan asks to verify (the SDV level of its record type is not none): "
        "verified, changed since verified, or unverified, with who verified it and when."
    ),
    voided=_("Voided records are not listed: they need no verification."),
    queryset=lambda: Query.objects.none(),
    rows=_sdv_rows,
    rows_shift_dates=True,
    count=_sdv_count,
    columns=(
        studyid(),
        usubjid(),
        Column("SITEID", _("Study site code."), CODE, "site__code"),
        Column("RECTYPE", _("Record type."), CODE, "record_type", RECORD_TYPE_CODES),
        Column("RECID", _("Record identifier."), INTEGER, "record_id"),
        Column(
            "SDVLEVEL",
            _("SDV level of the record type in the monitoring plan."),
            CODE,
            "level",
            codes(SdvLevel.choices),
        ),
        Column("SDVSTAT", _("SDV status."), CODE, "status", "verified, changed, unverified"),
        Column("VERIFBY", _("User who verified it."), TEXT, "verified_by"),
        Column("VERIFDTC", _("Date and time verified."), DATETIME, "verified_at"),
        Column("CHANGEDTC", _("Date and time a verified value first changed."), DATETIME, "changed_at"),
        Column("CHGFIELD", _("Fields changed since verification."), LIST, "changes"),
    ),
)

DATASETS = (QUERIES, SDV)
