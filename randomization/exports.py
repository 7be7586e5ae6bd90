"""The allocations dataset of the CSV exports (SPEC §8).

Only allocations made are exported; unused entries of the list never leave the database
through an export (SPEC §6 concealment).
"""

from django.utils.translation import gettext_lazy as _

from enrollment.exports import arm_columns
from randomization.models import Allocation
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

ALLOCATIONS = Dataset(
    name="allocations",
    title=_("Allocations"),
    description=_(
        "One row per randomized participant: stratum, list sequence, arm, who and when. "
        "Unused entries of the allocation list are never exported."
    ),
    voided=_("Allocations cannot be changed or voided."),
    queryset=lambda: Allocation.objects.order_by("randomized_at", "pk"),
    columns=(
        studyid(),
        usubjid("participant__subject_id"),
        Column("SITEID", _("Study site code."), CODE, "participant__site__code"),
        Column("STRATUM", _("Randomization stratum (ECOG, and site when stratified by site)."), TEXT, "stratum"),
        Column("RANDSEQ", _("Sequence number of the entry used, within its stratum."), INTEGER, "sequence"),
        *arm_columns("arm"),
        Column("RANDDTC", _("When the participant was randomized (UTC)."), DATETIME, iso_datetime("randomized_at")),
        Column("RANDBY", _("User who randomized."), TEXT, safe_text("randomized_by__username")),
    ),
)

DATASETS = (ALLOCATIONS,)
