"""The CTCAE v5.0 term list shipped with the project (safety/data/, see its README)."""

import csv
from pathlib import Path

CSV_PATH = Path(__file__).resolve().parent / "data" / "ctcae_v5_terms.csv"
FIELDS = (
    "meddra_code",
    "soc",
    "term",
    "grade_1",
    "grade_2",
    "grade_3",
    "grade_4",
    "grade_5",
    "definition",
    "navigational_note",
)


def load_ctcae_terms(model=None) -> int:
    """Insert the terms that are missing; safe to run again. `model` lets a migration pass its own."""
    if model is None:
        from safety.models import CtcaeTerm as model
    with CSV_PATH.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    existing = set(model.objects.values_list("meddra_code", flat=True))
    created = model.objects.bulk_create(
        model(**{field: row[field] for field in FIELDS}) for row in rows if row["meddra_code"] not in existing
    )
    return len(created)
