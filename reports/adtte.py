"""ADaM time-to-event datasets (ADTTE) of the CSV exports: `pfs` and `os`, one row per participant.

Built in Python from `efficacy.endpoint_data.endpoint_rows()` — the same derivation the Efficacy
page analyses — so a statistician who feeds this file to lifelines (or SAS, R) gets the page's
numbers. Without direct identifiers, STARTDT and ADT move by the participant's own date offset
(AVAL, a difference, stays true).
"""

from collections.abc import Iterator
from datetime import timedelta

from django.utils.translation import gettext_lazy as _

from efficacy.endpoint_data import endpoint_rows
from enrollment.exports import ARM_NAMES
from enrollment.models import Cohort, Participant
from reports.audit_trail import deidentification_key
from scr_escc.csvexport import (
    CODE,
    DATE,
    INTEGER,
    TEXT,
    Column,
    Dataset,
    date_offset,
    lazy_text,
    patient_pseudonym,
    studyid,
)

PARAMS = {
    "pfs": ("PFS", "Progression-free survival (days)"),
    "os": ("OS", "Overall survival (days)"),
}
# The parameter as the dictionary names it, in the reader's language (PARAM cells stay English).
PARAM_TITLES = {"pfs": _("Progression-free survival (days)"), "os": _("Overall survival (days)")}
RUN_IN_ARM = "Run-in cohort (LDRT + CFRT + PD-1 inhibitor + paclitaxel/platinum), not randomized"


def _rows(endpoint: str):
    def rows(deidentified: bool) -> Iterator[list]:
        key = deidentification_key() if deidentified else b""
        paramcd, param = PARAMS[endpoint]
        studyid = _studyid()
        for cohort in (Cohort.RANDOMIZED, Cohort.RUN_IN):
            for row in endpoint_rows(cohort=cohort):
                tte = getattr(row, endpoint)
                usubjid = patient_pseudonym({"SUBJID": row.subject_id})
                shift = date_offset(usubjid, key=key) if deidentified else 0
                arm = ARM_NAMES.get(row.arm, "") if row.arm else RUN_IN_ARM
                yield [
                    studyid,
                    usubjid,
                    row.site,
                    row.cohort,
                    row.arm or "",
                    arm,
                    row.stratum,
                    paramcd,
                    param,
                    (tte.start + _days(shift)).isoformat(),
                    (tte.end + _days(shift)).isoformat(),
                    tte.days,
                    0 if tte.event else 1,
                    tte.event_description,
                    tte.censor_description,
                ]

    return rows


def _days(n: int) -> timedelta:
    return timedelta(days=n)


def _studyid() -> str:
    return studyid().values


def _count() -> int:
    randomized = Participant.objects.filter(cohort=Cohort.RANDOMIZED, randomized_at__isnull=False).count()
    return randomized + Participant.objects.filter(cohort=Cohort.RUN_IN).count()


def _columns(endpoint: str) -> tuple[Column, ...]:
    paramcd, param = PARAMS[endpoint]
    return (
        Column("STUDYID", _("Study identifier."), CODE, ""),
        Column("USUBJID", _("Unique subject identifier: STUDYID-SUBJID."), TEXT, ""),
        Column("SITEID", _("Study site code."), CODE, ""),
        Column("COHORT",
               _("randomized: the analysis set of the randomized phase; run_in: reported separately."), CODE, "",
               "randomized, run_in"),
        Column("ARMCD", _("Randomized arm code; empty for the run-in cohort."), CODE, "", "A, B"),
        Column("ARM", _("Arm with its regimen."), TEXT, ""),
        Column("STRATA", _("Randomization stratum (the allocation list's); empty for the run-in cohort."), CODE, ""),
        Column("PARAMCD", _("Parameter code."), CODE, "", paramcd),
        Column("PARAM", _("Parameter."), TEXT, "", param),
        Column("STARTDT", _("Start date: randomization (run-in cohort: enrollment)."), DATE, ""),
        Column("ADT", _("Date of the event or of censoring (docs/ENDPOINTS.md)."), DATE, ""),
        Column("AVAL", _("Days from STARTDT to ADT, STARTDT being day 1 (ADT - STARTDT + 1)."), INTEGER, ""),
        Column("CNSR", _("0 event, 1 censored."), INTEGER, "", "0, 1"),
        Column("EVNTDESC", _("The event (empty when censored)."), TEXT, ""),
        Column("CNSDTDSC", _("Where the censoring date comes from (empty for an event)."), TEXT, ""),
    )  # fmt: skip


def _dataset(endpoint: str) -> Dataset:
    paramcd, _param = PARAMS[endpoint]
    return Dataset(
        name=endpoint,
        title=lazy_text(_("ADTTE: %(param)s"), param=PARAM_TITLES[endpoint]),
        description=lazy_text(
            _(
                "ADaM time-to-event, PARAMCD %(paramcd)s: one row per randomized participant (from "
                "randomization) and per run-in participant (from enrollment), derived by efficacy/endpoints.py with "
                "the censoring rules of docs/ENDPOINTS.md; the same rows the Efficacy page analyses. Comparative by "
                "arm: data managers only."
            ),
            paramcd=paramcd,
        ),
        voided=_("Derived from records that are not voided; voided records never set a date."),
        queryset=lambda: Participant.objects.none(),
        rows=_rows(endpoint),
        rows_shift_dates=True,
        count=_count,
        columns=_columns(endpoint),
    )


PFS = _dataset("pfs")
OS = _dataset("os")
DATASETS = (PFS, OS)
