"""The screening log and participants datasets of the CSV exports (SPEC §8).

Column names follow CDISC SDTM (DM domain) where a variable exists; the rest are named in
the same style and documented in the data dictionary page.
"""

from django.db.models import Case, CharField, Q, Value, When
from django.utils.translation import gettext_lazy as _
from django.utils.translation import override

from enrollment.eligibility import CRITERIA
from enrollment.models import Arm, Cohort, Histology, Participant, ParticipantStatus, Screening, Sex
from scr_escc.csvexport import (
    CODE,
    DATE,
    DATETIME,
    FLAG,
    INTEGER,
    LIST,
    TEXT,
    Column,
    Dataset,
    codes,
    flag,
    iso_date,
    iso_datetime,
    joined,
    lazy_text,
    safe_text,
    studyid,
    usubjid,
    years_between,
)

# Cell values of the ARM column (and ADTTE's): English whatever the language of the request that
# happens to import this module, as analysis software expects.
with override("en"):
    ARM_NAMES = {code: str(label) for code, label in Arm.choices}


def arm_columns(path: str) -> tuple[Column, Column]:
    """ARMCD and ARM from the arm code at `path` (empty when not randomized); other datasets share them."""
    name = Case(
        *(When(**{path: code}, then=Value(text)) for code, text in ARM_NAMES.items()),
        default=Value(""),
        output_field=CharField(),
    )
    return (
        Column(
            "ARMCD",
            _("Randomized arm code; empty for the run-in cohort and before randomization."),
            CODE,
            path,
            ", ".join(ARM_NAMES),
        ),
        Column("ARM", _("Randomized arm with its regimen."), TEXT, name, "; ".join(ARM_NAMES.values())),
    )


SCREENING = Dataset(
    name="screening",
    title=_("Screening log"),
    description=_("One row per screening, eligible or not, with the criteria answers and the failed criteria codes."),
    voided=_("Voided screenings are included and flagged VOIDFL = Y with the reason in VOIDRSN."),
    queryset=lambda: Screening.objects.order_by("site__code", "sequence"),
    columns=(
        studyid(),
        Column("SITEID", _("Study site code."), CODE, "site__code"),
        Column("SCRNUM", _("Screening number, per site."), TEXT, "screening_number"),
        Column(
            "PRVSCRN",
            _("Screening number of this patient's earlier screen failure, when re-screened."),
            TEXT,
            "previous_screening__screening_number",
        ),
        Column("INITIALS", _("Patient initials (direct identifier)."), TEXT, safe_text("initials"), identifier=True),
        Column("BRTHDTC", _("Date of birth (direct identifier)."), DATE, iso_date("date_of_birth"), identifier=True),
        Column(
            "AGE",
            _("Age in completed years at the screening date."),
            INTEGER,
            years_between("date_of_birth", "screening_date"),
        ),
        Column("SEX", _("Sex."), CODE, "sex", codes(Sex.choices)),
        Column("RFICDTC", _("Date of informed consent."), DATE, iso_date("consent_date")),
        Column("SCRNDTC", _("Screening date."), DATE, iso_date("screening_date")),
        Column("ECOG", _("ECOG performance status."), INTEGER, "ecog", "0–4"),
        Column("PGSGA", _("PG-SGA score."), INTEGER, "pgsga_score", "0–60"),
        Column("HISTOL", _("Histology."), CODE, "histology", codes(Histology.choices)),
        *(
            Column(
                c.code,
                lazy_text(
                    _("Inclusion criterion %(code)s (%(text)s) answered yes.")
                    if c.inclusion
                    else _("Exclusion criterion %(code)s (%(text)s) answered yes."),
                    code=c.code,
                    text=c.text,
                ),
                FLAG,
                flag(c.field),
                "Y, N",
            )
            for c in CRITERIA
        ),
        Column(
            "ELIGFL",
            _("Eligible: every inclusion criterion met and no exclusion criterion."),
            FLAG,
            flag("eligible"),
            "Y, N",
        ),
        Column(
            "FAILCRIT",
            _("Failed criteria codes, in protocol order (the screen-failure reasons)."),
            LIST,
            joined("failed_criteria"),
            ", ".join(c.code for c in CRITERIA),
        ),
        Column(
            "SUBJID", _("Subject ID given at enrollment; empty when not enrolled."), TEXT, "participant__subject_id"
        ),
        Column("VOIDFL", _("Voided record."), FLAG, flag("voided"), "Y, N"),
        Column("VOIDRSN", _("Reason the record was voided."), TEXT, safe_text("void_reason"), free_text=True),
        Column("CRTDTC", _("When the screening was first entered."), DATETIME, iso_datetime("created_at")),
    ),
)


PARTICIPANTS = Dataset(
    name="participants",
    title=_("Participants"),
    description=_("One row per enrolled participant (SDTM DM-like): cohort, arm, status and key dates."),
    voided=_("Participants are never voided; a withdrawal or death is a status with its date."),
    queryset=lambda: Participant.objects.order_by("site__code", "sequence"),
    columns=(
        studyid(),
        usubjid(),
        Column("SUBJID", _("Subject ID within the study (site code and number)."), TEXT, "subject_id"),
        Column("SITEID", _("Study site code."), CODE, "site__code"),
        Column(
            "SCRNUM",
            _("Screening number of the screening that enrolled the participant."),
            TEXT,
            "screening__screening_number",
        ),
        Column(
            "INITIALS",
            _("Patient initials (direct identifier)."),
            TEXT,
            safe_text("screening__initials"),
            identifier=True,
        ),
        Column(
            "BRTHDTC",
            _("Date of birth (direct identifier)."),
            DATE,
            iso_date("screening__date_of_birth"),
            identifier=True,
        ),
        Column(
            "AGE",
            _("Age in completed years at the screening date."),
            INTEGER,
            years_between("screening__date_of_birth", "screening__screening_date"),
        ),
        Column("AGEU", _("Age unit."), CODE, Value("YEARS", output_field=CharField()), "YEARS"),
        Column("SEX", _("Sex."), CODE, "screening__sex", codes(Sex.choices)),
        Column("RFICDTC", _("Date of informed consent."), DATE, iso_date("screening__consent_date")),
        Column("ENRLDTC", _("Enrollment date."), DATE, iso_date("enrollment_date")),
        Column("COHORT", _("Cohort, fixed by the study phase at enrollment."), CODE, "cohort", codes(Cohort.choices)),
        *arm_columns("arm"),
        Column("RANDDTC", _("When the participant was randomized (UTC)."), DATETIME, iso_datetime("randomized_at")),
        Column("STATUS", _("Participant status."), CODE, "status", codes(ParticipantStatus.choices)),
        Column("WDDTC", _("Withdrawal date."), DATE, iso_date("withdrawal_date")),
        Column("WDREAS", _("Withdrawal reason."), TEXT, safe_text("withdrawal_reason"), free_text=True),
        Column("COMPLDTC", _("Date the participant completed the study."), DATE, iso_date("completion_date")),
        Column("DTHDTC", _("Date of death."), DATE, iso_date("death_date")),
        Column(
            "DTHCAUS",
            _("Cause of death when recorded directly (e.g. progression); empty when the death is a Grade 5 AE."),
            TEXT,
            safe_text("death_cause"),
            free_text=True,
        ),
        Column("DTHFL", _("Subject died."), FLAG, flag(Q(death_date__isnull=False)), "Y, N"),
    ),
)

DATASETS = (SCREENING, PARTICIPANTS)
