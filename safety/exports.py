"""The adverse events dataset of the CSV exports (SPEC §8), with SDTM AE variable names."""

from django.db.models import Case, CharField, F, Q, Value, When
from django.utils.translation import gettext_lazy as _

from enrollment.exports import arm_columns
from safety.models import ActionTaken, AdverseEvent, Attribution, Intervention, Outcome, Seriousness
from scr_escc.csvexport import (
    CODE,
    DATE,
    FLAG,
    INTEGER,
    TEXT,
    Column,
    Dataset,
    codes,
    contains,
    flag,
    iso_date,
    lazy_text,
    safe_text,
    studyid,
    usubjid,
)

_OTHER_SPECIFY = Q(ctcae_term__term__endswith="- Other, specify")
_SERIOUSNESS_FLAGS = (
    ("AESDTH", Seriousness.DEATH),
    ("AESLIFE", Seriousness.LIFE_THREATENING),
    ("AESHOSP", Seriousness.HOSPITALIZATION),
    ("AESDISAB", Seriousness.DISABILITY),
    ("AESCONG", Seriousness.CONGENITAL_ANOMALY),
    ("AESMIE", Seriousness.OTHER_IMPORTANT),
)
_RELATEDNESS = (
    ("AERELPD1", Intervention.PD1),
    ("AERELCHM", Intervention.CHEMO),
    ("AERELLDR", Intervention.LDRT),
    ("AERELCFR", Intervention.CFRT),
)


def _when_coded(path: str) -> Case:
    """The dictionary value, empty for an “Other, specify” term (not coded)."""
    return Case(When(_OTHER_SPECIFY, then=Value("")), default=F(path), output_field=CharField())


ADVERSE_EVENTS = Dataset(
    name="adverse_events",
    title=_("Adverse events"),
    description=_("One row per adverse event (SDTM AE), CTCAE v5.0 coded, with seriousness and attribution."),
    voided=_(
        "Voided AEs are included and flagged VOIDFL = Y with the reason in VOIDRSN; they do not count "
        "towards the stopping rule."
    ),
    queryset=lambda: AdverseEvent.objects.order_by("participant__subject_id", "onset_date", "pk"),
    columns=(
        studyid(),
        usubjid("participant__subject_id"),
        Column("SITEID", _("Study site code."), CODE, "participant__site__code"),
        Column("AEID", _("Record identifier of the AE in this system (stable; cite it in queries)."), INTEGER, "pk"),
        Column("COHORT", _("Cohort of the participant."), CODE, "participant__cohort", "run_in, randomized"),
        *arm_columns("participant__arm"),
        Column(
            "AETERM",
            _(
                "Reported term: the CTCAE term, or the specified text of an “Other, specify” (typed text: "
                "dropped without direct identifiers, where AEDECOD and AEBODSYS remain)."
            ),
            TEXT,
            safe_text("term"),
            free_text=True,
        ),
        Column(
            "AEDECOD",
            _("CTCAE v5.0 term when coded; empty for “Other, specify”."),
            TEXT,
            _when_coded("ctcae_term__term"),
        ),
        Column("AELLTCD", _("MedDRA code of the CTCAE term when coded."), TEXT, _when_coded("ctcae_term__meddra_code")),
        Column("AEBODSYS", _("System organ class (CTCAE/MedDRA SOC)."), TEXT, safe_text("soc")),
        Column("AETOXGR", _("CTCAE grade."), INTEGER, "grade", "1, 2, 3, 4, 5"),
        Column("AESER", _("Serious adverse event (ICH E2A)."), FLAG, flag("serious"), "Y, N"),
        *(
            Column(
                name,
                lazy_text(_("Seriousness criterion: %(criterion)s."), criterion=criterion.label),
                FLAG,
                contains("seriousness_criteria", criterion),
                "Y, N",
            )
            for name, criterion in _SERIOUSNESS_FLAGS
        ),
        *(
            Column(
                name,
                lazy_text(_("Attribution to %(intervention)s."), intervention=intervention.label),
                CODE,
                f"attribution_{intervention.value}",
                codes(Attribution.choices),
            )
            for name, intervention in _RELATEDNESS
        ),
        Column(
            "AEREL",
            _(
                "Treatment-related (derived): RELATED when any attribution is possible, probable or "
                "definite; this is what the stopping rule counts."
            ),
            CODE,
            Case(
                When(treatment_related=True, then=Value("RELATED")),
                default=Value("NOT RELATED"),
                output_field=CharField(),
            ),
            "RELATED, NOT RELATED",
        ),
        Column("AEACN", _("Action taken with study treatment."), CODE, "action_taken", codes(ActionTaken.choices)),
        Column("AEOUT", _("Outcome."), CODE, "outcome", codes(Outcome.choices)),
        Column("AESTDTC", _("Onset date."), DATE, iso_date("onset_date")),
        Column("AEENDTC", _("End date; empty while ongoing."), DATE, iso_date("end_date")),
        Column("AEONGO", _("Ongoing at the time of the export."), FLAG, flag("ongoing"), "Y, N"),
        Column("DTHDTC", _("Date of death (Grade 5 only)."), DATE, iso_date("death_date")),
        Column("VOIDFL", _("Voided record."), FLAG, flag("voided"), "Y, N"),
        Column("VOIDRSN", _("Reason the record was voided."), TEXT, safe_text("void_reason"), free_text=True),
    ),
)

DATASETS = (ADVERSE_EVENTS,)
