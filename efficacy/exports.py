"""The efficacy datasets of the CSV exports, shaped as SDTM TR, RS, EX and DS."""

from django.db.models import Case, CharField, F, Q, Value, When
from django.db.models.functions import Cast, Concat
from django.utils.translation import gettext_lazy as _

from efficacy.models import (
    NON_TARGET_CHOICES,
    RESPONSE_CHOICES,
    Agent,
    ClinicalProgression,
    Disposition,
    DoseChange,
    Exposure,
    FollowUpContact,
    Lesion,
    LesionResult,
    Method,
    Modality,
    NewAnticancerTherapy,
    RadiotherapyCourse,
    SystemicDose,
    TumourAssessment,
)
from enrollment.exports import arm_columns
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
    lazy_text,
    safe_text,
    studyid,
    usubjid,
)

RESPONSES = codes(RESPONSE_CHOICES)


def _visit(baseline_path: str) -> Case:
    return Case(
        When(**{baseline_path: True}, then=Value("BASELINE")), default=Value("FOLLOW-UP"), output_field=CharField()
    )


def _text(path: str) -> Cast:
    return Cast(F(path), output_field=CharField())


TR = Dataset(
    name="tr",
    title=_("Tumour results (TR)"),
    description=_(
        "One row per lesion per tumour assessment (SDTM TR): the diameter of each target lesion "
        "(longest; short axis for a lymph node) and the state of each non-target lesion, as entered."
    ),
    voided=_("Rows of a voided assessment are included and flagged VOIDFL = Y; they are not scored."),
    queryset=lambda: LesionResult.objects.order_by(
        "assessment__participant__subject_id", "assessment__assessment_date", "-lesion__target", "lesion__number"
    ),
    columns=(
        studyid(),
        usubjid("assessment__participant__subject_id"),
        Column("SITEID", _("Study site code."), CODE, "assessment__participant__site__code"),
        Column("TRGRPID", _("Record identifier of the assessment in this system."), INTEGER, "assessment_id"),
        Column(
            "TRLNKID",
            _("Lesion identifier: T1–T5 target, NT1… non-target, as chosen at baseline."),
            CODE,
            Concat(
                Case(When(lesion__target=True, then=Value("T")), default=Value("NT")),
                Cast("lesion__number", CharField()),
                output_field=CharField(),
            ),
        ),
        Column(
            "TRTESTCD",
            _("LDIAM longest diameter, SAXIS short axis (lymph node), TUMSTATE non-target state."),
            CODE,
            Case(
                When(lesion__target=False, then=Value("TUMSTATE")),
                When(lesion__lymph_node=True, then=Value("SAXIS")),
                default=Value("LDIAM"),
                output_field=CharField(),
            ),
            "LDIAM, SAXIS, TUMSTATE",
        ),
        Column(
            "TRORRES",
            _("Result: millimetres for a target (empty = not assessed), the state code for a non-target."),
            TEXT,
            Case(
                When(lesion__target=True, then=_text("diameter_mm")),
                default=F("status"),
                output_field=CharField(),
            ),
            lazy_text(_("mm, or %(codes)s"), codes=codes(NON_TARGET_CHOICES)),
        ),
        Column(
            "TRORRESU",
            _("Unit of TRORRES."),
            CODE,
            Case(When(lesion__target=True, then=Value("mm")), default=Value(""), output_field=CharField()),
        ),
        Column("TRLOC", _("Organ of the lesion, as typed."), TEXT, safe_text("lesion__organ"), free_text=True),
        Column("TRLOCDTL", _("Location in the organ, as typed."), TEXT, safe_text("lesion__location"), free_text=True),
        Column("TRMETHOD", _("Imaging method."), CODE, "assessment__method", codes(Method.choices)),
        Column("VISIT", _("BASELINE or FOLLOW-UP."), CODE, _visit("assessment__baseline"), "BASELINE, FOLLOW-UP"),
        Column("TRDTC", _("Date of the assessment (imaging)."), DATE, iso_date("assessment__assessment_date")),
        Column("VOIDFL", _("The assessment is voided."), FLAG, flag("assessment__voided"), "Y, N"),
    ),
)

RS = Dataset(
    name="rs",
    title=_("Tumour response (RS)"),
    description=_(
        "One row per follow-up tumour assessment (SDTM RS): the time-point response computed by "
        "RECIST 1.1 from the measurements (RSORRES), the investigator's own response (RSINVRES) and whether "
        "they differ, with the sum of diameters, the nadir and the changes it was computed from."
    ),
    voided=_("Voided assessments are included and flagged VOIDFL = Y; they are not scored."),
    queryset=lambda: TumourAssessment.objects.filter(baseline=False).order_by(
        "participant__subject_id", "assessment_date", "pk"
    ),
    columns=(
        studyid(),
        usubjid("participant__subject_id"),
        Column("SITEID", _("Study site code."), CODE, "participant__site__code"),
        Column("RSGRPID", _("Record identifier of the assessment in this system."), INTEGER, "pk"),
        Column("COHORT", _("Cohort of the participant."), CODE, "participant__cohort", "run_in, randomized"),
        *arm_columns("participant__arm"),
        Column("RSTESTCD", _("Overall response at the time point."), CODE, Value("OVRLRESP"), "OVRLRESP"),
        Column(
            "RSORRES",
            _("Overall response computed by RECIST 1.1 (NN: non-CR/non-PD)."),
            CODE,
            "computed_response",
            RESPONSES,
        ),
        Column("RSTRGRES", _("Target lesion response (computed)."), CODE, "target_response", RESPONSES),
        Column("RSNTRGRS", _("Non-target lesion response (computed)."), CODE, "non_target_response", RESPONSES),
        Column("RSINVRES", _("The investigator's response."), CODE, "investigator_response", RESPONSES),
        Column(
            "RSDISCFL",
            _("The investigator's response differs from the computed one (flagged for review)."),
            FLAG,
            Case(
                When(~Q(investigator_response="") & ~Q(investigator_response=F("computed_response")), then=Value("Y")),
                default=Value("N"),
                output_field=CharField(),
            ),
            "Y, N",
        ),
        Column(
            "SUMDIAM", _("Sum of target diameters (mm); empty when a target was not assessed."), TEXT, _text("sum_mm")
        ),
        Column("NADIR", _("Smallest earlier sum, baseline included (mm)."), TEXT, _text("nadir_mm")),
        Column(
            "PCHGBL",
            _("Change of the sum from baseline (%, truncated to 1 decimal)."),
            TEXT,
            _text("change_from_baseline_pct"),
        ),
        Column(
            "PCHGNAD",
            _("Change of the sum from the nadir (%, truncated to 1 decimal)."),
            TEXT,
            _text("change_from_nadir_pct"),
        ),
        Column("NEWLES", _("New lesion."), CODE, "new_lesion", "no, yes, equivocal"),
        Column("RSDTC", _("Date of the assessment."), DATE, iso_date("assessment_date")),
        Column("VOIDFL", _("Voided record."), FLAG, flag("voided"), "Y, N"),
    ),
)

EX = Dataset(
    name="ex",
    title=_("Exposure (EX)"),
    description=_(
        "One row per systemic therapy dose (per agent per cycle) and per radiotherapy course "
        "(SDTM EX), as given: dose, unit, reductions, delays and omissions with their reason."
    ),
    voided=_("Voided records are included and flagged VOIDFL = Y with the reason in VOIDRSN."),
    queryset=lambda: Exposure.objects.order_by("participant__subject_id", "start_date", "id"),
    columns=(
        studyid(),
        usubjid("participant__subject_id"),
        Column("SITEID", _("Study site code."), CODE, "participant__site__code"),
        Column("EXSEQ", _("Record identifier: D<n> a dose, R<n> a radiotherapy course."), CODE, "id"),
        *arm_columns("participant__arm"),
        Column(
            "EXTRT",
            _("Treatment: an agent of the systemic therapy or a radiotherapy."),
            CODE,
            "treatment",
            codes(Agent.choices) + "; " + codes(Modality.choices),
        ),
        Column("EXCYCLE", _("Cycle of the systemic therapy; empty for radiotherapy."), INTEGER, "cycle"),
        Column("EXDOSE", _("Dose given; for radiotherapy the total dose."), TEXT, _text("dose")),
        Column("EXDOSU", _("Unit of EXDOSE."), CODE, "unit", "mg, mg/m2, mg/kg, AUC, Gy"),
        Column(
            "EXADJ", _("Dose given as planned, reduced, delayed or omitted."), CODE, "change", codes(DoseChange.choices)
        ),
        Column("EXADJRSN", _("Reason for the change, as typed."), TEXT, safe_text("change_reason"), free_text=True),
        Column("EXFRACT", _("Radiotherapy fractions."), INTEGER, "fractions"),
        Column("EXLOC", _("Radiotherapy target site, as typed."), TEXT, safe_text("target_site"), free_text=True),
        Column("EXSTDTC", _("Date given (radiotherapy: first fraction)."), DATE, iso_date("start_date")),
        Column(
            "EXENDTC", _("End date (radiotherapy: last fraction; empty while ongoing)."), DATE, iso_date("end_date")
        ),
        Column("VOIDFL", _("Voided record."), FLAG, flag("voided"), "Y, N"),
        Column("VOIDRSN", _("Reason the record was voided."), TEXT, safe_text("void_reason"), free_text=True),
    ),
)

DS = Dataset(
    name="ds",
    title=_("Progression and death (DS)"),
    description=_(
        "Disposition events (SDTM DS) of the efficacy analysis: the first assessment scored PD by "
        "RECIST 1.1, every clinical progression, and every death (from a Grade 5 AE or recorded directly). "
        "PRGFL = Y marks the event that dates the participant's progression (the earliest)."
    ),
    voided=_("Voided records are left out: a voided progression is not an event."),
    queryset=lambda: Disposition.objects.order_by("participant__subject_id", "event_date", "id"),
    columns=(
        studyid(),
        usubjid("participant__subject_id"),
        Column("SITEID", _("Study site code."), CODE, "participant__site__code"),
        Column("DSSPID", _("Source record: A<n> assessment, C<n> clinical progression, P<n> participant."), CODE, "id"),
        Column(
            "DSDECOD",
            _("Standardized event."),
            CODE,
            Case(
                When(event="death", then=Value("DEATH")), default=Value("PROGRESSIVE DISEASE"), output_field=CharField()
            ),
            "PROGRESSIVE DISEASE, DEATH",
        ),
        Column(
            "DSSCAT",
            _("How the event was established."),
            CODE,
            "event",
            _("progression_recist (first PD computed by RECIST 1.1), progression_clinical, death"),
        ),
        Column(
            "DSTERM",
            _("Reason of a clinical progression or cause of death, as typed."),
            TEXT,
            safe_text("detail"),
            free_text=True,
        ),
        Column(
            "PRGFL", _("This event dates the participant's progression."), FLAG, flag("defines_progression"), "Y, N"
        ),
        Column("DSSTDTC", _("Date of the event."), DATE, iso_date("event_date")),
    ),
)

DATASETS = (TR, RS, EX, DS)

# ---- What the audit-trail export (reports) needs to know of the efficacy records ----------------

AUDITED = (
    ("systemic_dose", SystemicDose),
    ("radiotherapy_course", RadiotherapyCourse),
    ("tumour_assessment", TumourAssessment),
    ("lesion", Lesion),
    ("lesion_result", LesionResult),
    ("clinical_progression", ClinicalProgression),
    ("new_therapy", NewAnticancerTherapy),
    ("follow_up_contact", FollowUpContact),
)
# Typed text that may name a patient: the de-identified audit says it changed, not to what.
FREE_TEXT_FIELDS = (
    "organ",
    "change_reason",
    "target_site",
    "location",
    "comments",
    "new_lesion_description",
    "reason",
    "therapy",
)


def audited_participant(record_type: str, row, assessment_participants: dict[int, int]) -> int | None:
    """The participant of a lesion or lesion-result history row (they hang off an assessment)."""
    if record_type == "lesion":
        return assessment_participants.get(row.baseline_id)
    if record_type == "lesion_result":
        return assessment_participants.get(row.assessment_id)
    return None


def audit_label(record_type: str, row, deidentified: bool) -> str:
    """The record as users know it, without a real date in the export without identifiers."""
    if record_type == "lesion":
        return f"lesion {'T' if row.target else 'NT'}{row.number} of assessment #{row.baseline_id}"
    if record_type == "lesion_result":
        return f"lesion #{row.lesion_id} at assessment #{row.assessment_id}"
    return f"{record_type.replace('_', ' ')} #{row.id}"
