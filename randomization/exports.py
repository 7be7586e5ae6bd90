"""The allocations dataset of the CSV exports (SPEC §8), and the arm columns other datasets share.

Only allocations made are exported; unused entries of the list never leave the database
through an export (SPEC §6 concealment).
"""

from django.db.models import Case, CharField, Value, When

from randomization.models import Allocation, Arm
from scr_escc.csvexport import (
    CODE,
    DATETIME,
    INTEGER,
    TEXT,
    Column,
    Dataset,
    iso_datetime,
    safe_text,
    studyid,
    usubjid,
)

ARM_NAMES = {code: str(label) for code, label in Arm.choices}


def arm_columns(path: str) -> tuple[Column, Column]:
    """ARMCD and ARM from the arm code at `path` (empty when not randomized)."""
    name = Case(
        *(When(**{path: code}, then=Value(text)) for code, text in ARM_NAMES.items()),
        default=Value(""),
        output_field=CharField(),
    )
    return (
        Column(
            "ARMCD",
            "Randomized arm code; empty for the run-in cohort and before randomization.",
            CODE,
            path,
            ", ".join(ARM_NAMES),
        ),
        Column("ARM", "Randomized arm with its regimen.", TEXT, name, "; ".join(ARM_NAMES.values())),
    )


ALLOCATIONS = Dataset(
    name="allocations",
    title="Allocations",
    description="One row per randomized participant: stratum, list sequence, arm, who and when. "
    "Unused entries of the allocation list are never exported.",
    voided="Allocations cannot be changed or voided.",
    queryset=lambda: Allocation.objects.order_by("randomized_at", "pk"),
    columns=(
        studyid(),
        usubjid("participant__subject_id"),
        Column("SITEID", "Study site code.", CODE, "participant__site__code"),
        Column("STRATUM", "Randomization stratum (ECOG, and site when stratified by site).", TEXT, "stratum"),
        Column("RANDSEQ", "Sequence number of the entry used, within its stratum.", INTEGER, "sequence"),
        *arm_columns("arm"),
        Column("RANDDTC", "When the participant was randomized (UTC).", DATETIME, iso_datetime("randomized_at")),
        Column("RANDBY", "User who randomized.", TEXT, safe_text("randomized_by__username")),
    ),
)

DATASETS = (ALLOCATIONS,)
