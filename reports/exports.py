"""CSV exports for data managers (SPEC §8): the datasets, and the one service pages and API call.

The clinical apps describe their own datasets (`enrollment/exports.py`, `safety/exports.py`,
`randomization/exports.py`); the trial-wide ones — alerts and the audit trail — are here.
`start_export()` checks the permission, writes the `ExportRecord` and returns the streamed bytes.
"""

from collections.abc import Iterator
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Case, CharField, Value, When
from django.http import Http404, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from deviations.exports import DATASETS as DEVIATION_DATASETS
from efficacy.exports import DATASETS as EFFICACY_DATASETS
from enrollment.exports import DATASETS as ENROLLMENT_DATASETS
from enrollment.models import Participant, Screening
from randomization.exports import DATASETS as RANDOMIZATION_DATASETS
from reports.adtte import DATASETS as ADTTE_DATASETS
from reports.audit_trail import AUDIT, deidentification_key
from reports.models import ExportRecord
from safety.exports import DATASETS as SAFETY_DATASETS
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
    patient_pseudonym,
    safe_text,
    stream_copy,
    stream_csv,
)
from scr_escc.models import Alert

EXPORT_PERMISSION = "scr_escc.export_data"

ALERTS = Dataset(
    name="alerts",
    title=_("Alerts"),
    description=_("One row per email alert in the outbox, with its delivery status."),
    voided=_("Alerts are never voided or deleted."),
    queryset=lambda: Alert.objects.order_by("created_at", "pk"),
    columns=(
        Column("ALERTID", _("Record identifier of the alert."), INTEGER, "pk"),
        Column("KIND", _("What the alert is about."), CODE, "kind", codes(Alert.Kind.choices)),
        Column("KEY", _("Unique key: one alert per cause."), TEXT, safe_text("key")),
        Column(
            "STATUS",
            _("Delivery status; a message being handed to the mail server is still pending."),
            CODE,
            Case(
                When(status=Alert.Status.SENDING, then=Value(Alert.Status.PENDING.value)),
                default="status",
                output_field=CharField(),
            ),
            "pending, sent, failed",
        ),
        Column("CRTDTC", _("When the alert was written (UTC)."), DATETIME, iso_datetime("created_at")),
        Column(
            "SENTDTC", _("When the mail server accepted it (UTC); empty until sent."), DATETIME, iso_datetime("sent_at")
        ),
        Column("ATTEMPTS", _("Delivery attempts so far."), INTEGER, "attempts"),
        Column("SUBJECT", _("Email subject."), TEXT, safe_text("subject"), free_text=True),
        Column("LINK", _("Page the alert points to."), TEXT, safe_text("link")),
        Column("LASTERR", _("The mail server's last error, if any."), TEXT, safe_text("last_error")),
    ),
)


DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in (
        *ENROLLMENT_DATASETS,
        *SAFETY_DATASETS,
        *RANDOMIZATION_DATASETS,
        *DEVIATION_DATASETS,
        *EFFICACY_DATASETS,
        *ADTTE_DATASETS,
        ALERTS,
        AUDIT,
    )
}
# The order data managers see on the Exports page and the data dictionary.
ORDER = [
    "screening",
    "participants",
    "adverse_events",
    "allocations",
    "deviations",
    "ex",
    "tr",
    "rs",
    "ds",
    "pfs",
    "os",
    "alerts",
    "audit",
]


def register_datasets(*datasets: Dataset) -> None:
    """For the apps above reports (e.g. monitoring): their datasets join the Exports page, the
    API and the data dictionary, before the alerts and the audit trail."""
    for dataset in datasets:
        if dataset.name not in DATASETS:
            ORDER.insert(ORDER.index("alerts"), dataset.name)
        DATASETS[dataset.name] = dataset


def get_dataset(name: str) -> Dataset:
    try:
        return DATASETS[name]
    except KeyError:
        raise Http404(gettext("No dataset %(name)s.") % {"name": repr(name)}) from None


def datasets_with_counts() -> list[tuple[Dataset, int]]:
    return [(DATASETS[name], DATASETS[name].row_count()) for name in ORDER]


@dataclass(frozen=True)
class Export:
    record: ExportRecord
    filename: str
    content: Iterator[bytes]


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
