"""CSV exports (SPEC §8): the dataset description, its SQL shaping and the streaming writer.

Each app describes its own datasets (`enrollment/exports.py`, `safety/exports.py`, …) as a
`Dataset`: documented `Column`s, each an ORM expression that PostgreSQL turns into the final
text of the cell — ISO 8601 dates, `Y`/`N` flags, `;`-joined lists, and free text with
formula-starting characters neutralised. PostgreSQL itself then writes the CSV
(`COPY (SELECT …) TO STDOUT WITH (FORMAT csv)`, `stream_copy`), and Python passes its bytes
through in chunks of about 1 MB: one CSV encoder, memory flat, the database's own speed.
The de-identified export shifts dates in that same SELECT (`Dataset.copy_query`), with the
offsets in a temporary table (`load_date_offsets`). Datasets
built in Python (the audit trail) go through `csv.writer` instead (`stream_csv`).

CSV injection (OWASP): a text cell starting with `=`, `+`, `-`, `@`, tab or carriage return
gets a leading apostrophe, so a spreadsheet shows it as text instead of running it.
Numeric and date columns are never touched, so `-3` stays a number.
"""

import csv
import hashlib
import hmac
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import connection
from django.db.models import Case, CharField, Expression, F, Func, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import Cast, Concat
from django.utils.functional import Promise, lazy
from django.utils.translation import gettext_lazy as _

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_REGEX = r"^[=+\-@\t\r]"
BOM = "\ufeff"
CHUNK_ROWS = 5000
COPY_CHUNK_BYTES = 1 << 20

TEXT, INTEGER, DATE, DATETIME, FLAG, CODE, LIST = "text", "integer", "date", "datetime", "Y/N", "code", "list"
TYPE_MEANINGS = {
    TEXT: _("Free text. Neutralised against spreadsheet formulas (a leading ' when it starts with = + - @)."),
    INTEGER: _("Whole number."),
    DATE: _("ISO 8601 date, YYYY-MM-DD."),
    DATETIME: _("ISO 8601 date and time in UTC, YYYY-MM-DDThh:mm:ssZ."),
    FLAG: _("Y or N."),
    CODE: _("One of the listed values."),
    LIST: _("Values separated by ';' (empty when none)."),
}


# The columns whose value picks a row's date offset: the participant (USUBJID, or SUBJID in the
# screening log), else the screening of a patient never enrolled.
PSEUDONYM_COLUMNS = ("USUBJID", "SUBJID", "SCRNUM")
MAX_DATE_SHIFT_DAYS = 30


def patient_pseudonym(values: dict) -> str:
    """The key of a patient's date offset: the same in every dataset (USUBJID, or the protocol and
    SUBJID, else the screening number of a patient never enrolled)."""
    if values.get("USUBJID"):
        return values["USUBJID"]
    if values.get("SUBJID"):
        return f"{_protocol()}-{values['SUBJID']}"
    return values.get("SCRNUM") or ""


def date_offset(pseudonym: str, *, key: bytes) -> int:
    """A participant's date shift in the de-identified exports: −30 … +30 days, the same in every
    dataset and every export (an HMAC of the subject under a server secret, so it cannot be
    recomputed from the subject ID alone)."""
    digest = hmac.new(key, pseudonym.encode("utf-8"), hashlib.sha256).digest()
    span = 2 * MAX_DATE_SHIFT_DAYS + 1
    return int.from_bytes(digest[:4], "big") % span - MAX_DATE_SHIFT_DAYS


def shift_iso(value: str | None, days: int) -> str | None:
    """An ISO 8601 date (YYYY-MM-DD) or UTC time (YYYY-MM-DDThh:mm:ssZ) moved by `days`."""
    if not value:
        return value
    moved = date.fromisoformat(value[:10]) + timedelta(days=days)
    return moved.isoformat() + value[10:]


def neutralize(value: str) -> str:
    """The Python twin of `safe_text()`, for cells computed outside the database."""
    if value and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


# ---- SQL shaping: each returns an expression whose value is the cell's final text -----------------


def as_text(expression) -> Expression:
    return Cast(expression, output_field=CharField())


def safe_text(path: str) -> Expression:
    """Free text from a field path, neutralised in SQL when it starts like a formula."""
    return Case(
        When(**{f"{path}__regex": _FORMULA_REGEX}, then=Concat(Value("'"), F(path), output_field=CharField())),
        default=F(path),
        output_field=CharField(),
    )


def iso_date(path: str) -> Expression:
    # A PostgreSQL date cast to text is ISO 8601 (DateStyle ISO, Django's connection default).
    return as_text(F(path))


def iso_datetime(path: str) -> Expression:
    # Django's connections run in UTC (USE_TZ), so this is the stored instant.
    return Func(F(path), Value('YYYY-MM-DD"T"HH24:MI:SS"Z"'), function="to_char", output_field=CharField())


def flag(condition: str | Q) -> Expression:
    """`Y`/`N` from a boolean field path, or from a condition."""
    if isinstance(condition, str):
        condition = Q(**{condition: True})
    return Case(When(condition, then=Value("Y")), default=Value("N"), output_field=CharField())


def joined(path: str, separator: str = ";") -> Expression:
    return Func(F(path), Value(separator), function="array_to_string", output_field=CharField())


def years_between(start: str, end: str) -> Expression:
    """Completed years from `start` to `end` (age at a date)."""
    age = Func(F(end), F(start), function="age")
    return as_text(Cast(Func(Value("year"), age, function="date_part"), output_field=IntegerField()))


def contains(path: str, item: str) -> Expression:
    """`Y` when the array field holds `item`."""
    return flag(Q(**{f"{path}__contains": [item]}))


def codes(choices) -> str:
    """The allowed values of a choices field, for the data dictionary."""
    return ", ".join(value for value, _label in choices)


def _interpolate(template, values: dict) -> str:
    return str(template) % {key: str(value) for key, value in values.items()}


# A translatable text with named placeholders, translated when shown (the data dictionary page, in
# the reader's language), not when the module is imported: `lazy_text(_("… %(code)s …"), code=…)`.
_lazy_interpolate = lazy(_interpolate, str)


def lazy_text(template, **values) -> Promise:
    return _lazy_interpolate(template, values)


def studyid() -> "Column":
    protocol = _protocol()
    return Column("STUDYID", _("Study identifier."), CODE, Value(protocol, output_field=CharField()), protocol)


def usubjid(path: str = "subject_id") -> "Column":
    return Column(
        "USUBJID",
        _("Unique subject identifier: STUDYID-SUBJID."),
        TEXT,
        Concat(Value(f"{_protocol()}-"), F(path), output_field=CharField()),
    )


def _protocol() -> str:
    from scr_escc.models import Study

    return Study._meta.get_field("protocol").default


# ---- Description ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    name: str  # the CSV header: the SDTM variable name where one exists
    meaning: str | Promise  # shown in the data dictionary, in the reader's language
    type: str
    source: Expression | str  # an ORM expression giving the cell's text, or a plain field path
    values: str | Promise = ""  # allowed values, for the data dictionary
    identifier: bool = False  # dropped from the export "without direct identifiers"
    free_text: bool = False  # typed by a person, may name a patient: dropped from that export too


@dataclass(frozen=True)
class Dataset:
    name: str
    title: str | Promise  # title, description and voided: shown in the reader's language
    description: str | Promise
    columns: tuple[Column, ...]
    queryset: Callable[[], QuerySet]  # all rows, ordered; the export adds the column expressions
    voided: str | Promise = ""  # how voided records appear, stated in the dictionary
    rows: Callable[[bool], Iterable[Iterable]] | None = None  # rows(deidentified) for datasets built in Python
    count: Callable[[], int] | None = None
    rows_shift_dates: bool = False  # a `rows` dataset that moves its own dates without identifiers

    def columns_for(self, *, deidentified: bool) -> list[Column]:
        return [c for c in self.columns if not (deidentified and (c.identifier or c.free_text))]

    def deidentified_treatment(self, column: Column) -> str:
        """What the export without direct identifiers does with a column (for the data dictionary)."""
        if column.identifier:
            return "dropped_identifier"
        if column.free_text:
            return "dropped_free_text"
        names = {c.name for c in self.columns}
        shifted_here = self.rows is None or self.rows_shift_dates
        if column.type in (DATE, DATETIME) and any(n in names for n in PSEUDONYM_COLUMNS) and shifted_here:
            return "shifted"
        return "kept"

    def row_count(self) -> int:
        return self.count() if self.count is not None else self.queryset().count()

    def cells(self, columns: list[Column]) -> QuerySet:
        """One query whose rows are the CSV's cells, already text (`copy_query` wraps it)."""
        cells = {
            f"c{i}": as_text(F(c.source)) if isinstance(c.source, str) else c.source for i, c in enumerate(columns)
        }
        return self.queryset().annotate(**cells).values_list(*cells)

    def copy_query(self, columns: list[Column], *, shift_dates: bool = False) -> tuple[str, list]:
        """The SELECT that `COPY … TO STDOUT` turns into the CSV rows, and its parameters.

        Empty cells are NULL, so they come out empty rather than as `""`. With `shift_dates`,
        every date and time of a row is moved by its patient's offset, read from the temporary
        table `load_date_offsets()` filled in the same transaction (never from the statement's
        text, which PostgreSQL may log). A pseudonym missing there blanks the row's dates instead
        of leaving them unshifted: missing data, never a leaked date.
        """
        sql, params = self.cells(columns).query.sql_with_params()
        params = list(params)
        names = [c.name for c in columns]
        dated = {i for i, c in enumerate(columns) if c.type in (DATE, DATETIME)}
        pseudonym, pseudonym_params = _pseudonym_sql(names)
        source = f"({sql}) AS cells"
        if shift_dates and dated and pseudonym:
            lookup = f"(SELECT o.days FROM {OFFSETS_TABLE} AS o WHERE o.pseudonym = {pseudonym})"
            shift = f"CASE WHEN {pseudonym} IS NULL THEN 0 ELSE {lookup} END AS shift"
            source = f"(SELECT cells.*, {shift} FROM {source}) AS cells"
            params = [*pseudonym_params, *pseudonym_params, *params]
        else:
            dated = set()
        cells = []
        for i in range(len(columns)):
            cell = f"NULLIF(cells.c{i}, '')"
            if i in dated:
                cell = f"to_char(left({cell}, 10)::date + cells.shift, 'YYYY-MM-DD') || substr({cell}, 11)"
            cells.append(cell)
        return f"SELECT {', '.join(cells)} FROM {source}", params


OFFSETS_TABLE = "export_date_offsets"


def load_date_offsets(offsets: dict[str, int]) -> None:
    """Put the patients' date offsets (pseudonym → days) where `copy_query(shift_dates=True)`
    reads them: a temporary table of this connection, dropped when the transaction ends."""
    with connection.cursor() as wrapper:
        cursor = wrapper.cursor
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {OFFSETS_TABLE} (pseudonym text PRIMARY KEY, days integer NOT NULL) "
            "ON COMMIT DROP"
        )
        cursor.execute(f"TRUNCATE {OFFSETS_TABLE}")
        with cursor.copy(f"COPY {OFFSETS_TABLE} (pseudonym, days) FROM STDIN") as copy:
            for pseudonym, days in offsets.items():
                copy.write_row((pseudonym, days))
        cursor.execute(f"ANALYZE {OFFSETS_TABLE}")


def _pseudonym_sql(names: list[str]) -> tuple[str, list]:
    """SQL twin of `patient_pseudonym`: USUBJID, else the protocol and SUBJID, else SCRNUM."""
    parts, params = [], []
    if "USUBJID" in names:
        parts.append(f"NULLIF(cells.c{names.index('USUBJID')}, '')")
    if "SUBJID" in names:
        parts.append(f"%s || NULLIF(cells.c{names.index('SUBJID')}, '')")
        params.append(f"{_protocol()}-")
    if "SCRNUM" in names:
        parts.append(f"NULLIF(cells.c{names.index('SCRNUM')}, '')")
    return (f"COALESCE({', '.join(parts)})", params) if parts else ("", [])


def stream_copy(
    header: list[str], query: tuple[str, list], *, on_done: Callable[[int], None] | None = None
) -> Iterator[bytes]:
    """UTF-8 CSV with a BOM, written by PostgreSQL (`COPY (query) TO STDOUT`), in chunks of
    about `COPY_CHUNK_BYTES`; `on_done(row_count)` at the end. Run it inside a transaction."""
    yield (BOM + ",".join(header) + "\n").encode("utf-8")
    sql, params = query
    buffer = bytearray()
    with connection.cursor() as wrapper:
        cursor = wrapper.cursor  # psycopg's own cursor: copy() streams COPY TO STDOUT
        with cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params) as copy:
            for data in copy:
                buffer += data
                if len(buffer) >= COPY_CHUNK_BYTES:
                    yield bytes(buffer)
                    buffer.clear()
        row_count = cursor.rowcount
    if buffer:
        yield bytes(buffer)
    if on_done is not None:
        on_done(row_count)


class _Buffer(io.StringIO):
    """csv.writer writes into it (in C); the generator takes what accumulated and clears it."""

    def take(self) -> str:
        text = self.getvalue()
        self.seek(0)
        self.truncate()
        return text


def stream_csv(
    header: list[str],
    rows: Iterable[Iterable],
    *,
    on_done: Callable[[int], None] | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> Iterator[bytes]:
    """UTF-8 CSV with a BOM, in chunks of `chunk_rows` rows; `on_done(row_count)` at the end."""
    buffer = _Buffer()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    yield (BOM + buffer.take()).encode("utf-8")
    count = 0
    batch: list = []
    for row in rows:
        batch.append(row)
        if len(batch) >= chunk_rows:
            writer.writerows(batch)
            count += len(batch)
            batch.clear()
            yield buffer.take().encode("utf-8")
    if batch:
        writer.writerows(batch)
        count += len(batch)
        yield buffer.take().encode("utf-8")
    if on_done is not None:
        on_done(count)


def read_back(content: bytes) -> list[dict[str, str]]:
    """Parse an export as a spreadsheet or pandas would (for tests and the benchmark)."""
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"), newline="")))
