"""A record's values as plain text, the one form in which monitoring compares and stores them
(SDV's verified values, the casebook a signature covers, a correction's old and new value).

Raw codes, not translated labels: the same data gives the same text in every language, so a
hash over it does not move when someone changes language.
"""

import datetime
import hashlib
import json
from decimal import Decimal

from efficacy.models import LesionResult, TumourAssessment

# Never part of what is compared: bookkeeping, and columns computed from the audited values.
SKIPPED = {
    "id",
    "version",
    "created_at",
    "updated_at",
    "created_by",
    "sequence",
    "enrolled_by",
    "sum_mm",
    "nadir_mm",
    "change_from_baseline_pct",
    "change_from_nadir_pct",
    "target_response",
    "non_target_response",
    "computed_response",
    "eligible",
    "failed_criteria",
    "treatment_related",
    "soc",
    "term",
}


def as_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        # Normalised: 4.5 typed on a form and 4.50 read back from a decimal column are one value.
        return format(value.normalize(), "f")
    if isinstance(value, list | tuple):
        return ", ".join(as_text(v) for v in value)
    return str(value)


def field_text(record, field: str) -> str:
    model_field = record._meta.get_field(field)
    return as_text(getattr(record, model_field.attname))


def record_values(record, fields) -> dict[str, str]:
    values = {field: field_text(record, field) for field in fields}
    if isinstance(record, TumourAssessment):
        values.update(lesion_values(record))
    return values


def all_fields(record) -> list[str]:
    return [f.name for f in record._meta.concrete_fields if f.name not in SKIPPED and not f.name.endswith("_signature")]


def lesion_values(assessment: TumourAssessment) -> dict[str, str]:
    """The lesions measured at a scan, e.g. {"lesion T1 (liver)": "23"} (baseline or follow-up)."""
    results = LesionResult.objects.filter(assessment=assessment).select_related("lesion")
    values = {}
    for result in results.order_by("lesion__target", "lesion__number"):
        lesion = result.lesion
        label = f"lesion {'T' if lesion.target else 'NT'}{lesion.number} ({lesion.organ})"
        values[label] = as_text(result.diameter_mm) if lesion.target else result.status
    return values


def diff(old: dict[str, str], new: dict[str, str]) -> list[dict[str, str]]:
    """[{"field", "old", "new"}] for every key whose text differs (added or gone keys too)."""
    return [
        {"field": key, "old": old.get(key, ""), "new": new.get(key, "")}
        for key in sorted(set(old) | set(new))
        if old.get(key, "") != new.get(key, "")
    ]


def content_hash(content: dict) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
