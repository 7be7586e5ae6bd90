"""The protocol deviations dataset of the CSV exports, with SDTM DV variable names."""

from django.db.models import Case, Value, When
from django.utils.translation import gettext_lazy as _

from deviations.models import DeviationCategory, ProtocolDeviation
from scr_escc.csvexport import (
    CODE,
    DATE,
    FLAG,
    INTEGER,
    TEXT,
    Column,
    Dataset,
    codes,
    flag,
    iso_date,
    safe_text,
    studyid,
    usubjid,
)

DEVIATIONS = Dataset(
    name="deviations",
    title=_("Protocol deviations"),
    description=_("One row per protocol deviation (SDTM DV), of a participant or of a site."),
    voided=_("Voided deviations are included and flagged VOIDFL = Y with the reason in VOIDRSN."),
    queryset=lambda: ProtocolDeviation.objects.order_by("site__code", "deviation_date", "pk"),
    columns=(
        studyid(),
        Column(
            "USUBJID",
            _("Unique subject identifier (STUDYID-SUBJID); empty for a deviation of the site."),
            TEXT,
            Case(When(participant__isnull=True, then=Value("")), default=usubjid("participant__subject_id").source),
        ),
        Column("SITEID", _("Study site code."), CODE, "site__code"),
        Column("DVID", _("Record identifier of the deviation."), INTEGER, "pk"),
        Column("DVSTDTC", _("Date of the deviation."), DATE, iso_date("deviation_date")),
        Column("DVCAT", _("Category of the deviation."), CODE, "category", codes(DeviationCategory.choices)),
        Column("DVIMPFL", _("Important deviation (ICH E3)."), FLAG, flag("important"), "Y, N"),
        Column("DVTERM", _("What happened, as reported."), TEXT, safe_text("description"), free_text=True),
        Column(
            "DVACTION", _("Corrective and preventive action."), TEXT, safe_text("corrective_action"), free_text=True
        ),
        Column("VOIDFL", _("Voided record."), FLAG, flag("voided"), "Y, N"),
        Column("VOIDRSN", _("Reason the record was voided."), TEXT, safe_text("void_reason"), free_text=True),
    ),
)

DATASETS = (DEVIATIONS,)
