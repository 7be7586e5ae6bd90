"""The protocol's eligibility criteria (SPEC §1) and the one function that judges them.

Pure: no database, no request. The form, the API, the screening detail page and the export
all call `evaluate()`; the consistency checks of SPEC §3 are `consistency_errors()`.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Criterion:
    code: str
    field: str
    inclusion: bool
    text: str

    @property
    def failing_answer(self) -> bool:
        """Inclusion fails on "no"; exclusion fails on "yes"."""
        return not self.inclusion


INCLUSION = (
    Criterion("INC1", "inc1", True, _("Age ≥ 18")),
    Criterion("INC2", "inc2", True, _("Metastatic ESCC (stage IVB, M1) confirmed by pathology")),
    Criterion("INC3", "inc3", True, _("ECOG performance status 0–1")),
    Criterion("INC4", "inc4", True, _("No prior anti-tumor treatment")),
    Criterion(
        "INC5",
        "inc5",
        True,
        _(
            "Adequate hematologic, renal, hepatic and cardiac function for chemotherapy and immunotherapy, "
            "as assessed by the investigator"
        ),
    ),
)
EXCLUSION = (
    Criterion(
        "EXC1", "exc1", False, _("Non-squamous esophageal carcinoma, or ESCC mixed with other pathological types")
    ),
    Criterion("EXC2", "exc2", False, _("Potentially curable with surgery, as assessed by the investigator")),
    Criterion("EXC3", "exc3", False, _("Pleural metastasis or malignant pleural effusion, pericardial effusion")),
    Criterion(
        "EXC4",
        "exc4",
        False,
        _("Any prior anti-tumor therapy for esophageal cancer (surgery, radiotherapy, chemotherapy or immunotherapy)"),
    ),
    Criterion("EXC5", "exc5", False, _("High risk of gastrointestinal bleeding, esophageal fistula or perforation")),
    Criterion("EXC6", "exc6", False, _("PG-SGA (Patient-Generated Subjective Global Assessment) score ≥ 9")),
    Criterion("EXC7", "exc7", False, _("Unstable cardiac disease or symptoms")),
    Criterion(
        "EXC8",
        "exc8",
        False,
        _(
            "History of interstitial lung disease, non-infectious pneumonitis, pulmonary fibrosis, "
            "or other uncontrolled acute pulmonary disease"
        ),
    ),
    Criterion("EXC9", "exc9", False, _("Active autoimmune disease or history of autoimmune disease")),
    Criterion("EXC10", "exc10", False, _("Immunodeficiency, or active infection requiring systemic therapy")),
    Criterion("EXC11", "exc11", False, _("Pregnant or breastfeeding")),
    Criterion(
        "EXC12",
        "exc12",
        False,
        _(
            "Synchronous second primary cancer, or a malignancy within the past 5 years (except completely cured "
            "cervical carcinoma in situ, basal cell or squamous cell skin carcinoma)"
        ),
    ),
)
CRITERIA = INCLUSION + EXCLUSION
CRITERIA_BY_CODE = {c.code: c for c in CRITERIA}

# Not a protocol criterion but part of eligibility (SPEC §3): consent on or before screening.
CONSENT_CODE = "CONSENT"
CONSENT_TEXT = _("Informed consent signed on or before the screening date")

ADULT_AGE = 18
ECOG_ALLOWED = (0, 1)
PGSGA_EXCLUDING = 9
OLDEST_PLAUSIBLE_AGE = 110


@dataclass(frozen=True)
class Verdict:
    eligible: bool
    failed_criteria: tuple[str, ...]

    @property
    def failed_texts(self) -> list[tuple[str, str]]:
        return [(code, describe(code)) for code in self.failed_criteria]


def describe(code: str) -> str:
    if code == CONSENT_CODE:
        return str(CONSENT_TEXT)
    return str(CRITERIA_BY_CODE[code].text)


def evaluate(answers: Mapping[str, bool | None], *, consent_date: date | None, screening_date: date | None) -> Verdict:
    """Eligible iff every INC is yes, every EXC is no, and consent is on or before screening.

    An unanswered criterion (None) counts as failed: eligibility is never assumed.
    """
    failed = [c.code for c in CRITERIA if answers.get(c.field) is None or answers[c.field] == c.failing_answer]
    if consent_date is None or screening_date is None or consent_date > screening_date:
        failed.append(CONSENT_CODE)
    return Verdict(eligible=not failed, failed_criteria=tuple(failed))


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def consistency_errors(values: Mapping, *, today: date) -> dict[str, list[str]]:
    """Contradictions between answers and the values that support them (SPEC §3), by field.

    `values` holds the screening's fields; missing ones are skipped (their own field
    validation reports them).
    """
    errors: dict[str, list[str]] = {}
    for part in (_date_errors(values, today=today), _age_errors(values), _answer_errors(values)):
        for field, messages in part.items():
            errors.setdefault(field, []).extend(str(m) for m in messages)
    return errors


def _date_errors(values: Mapping, *, today: date) -> dict[str, list]:
    """No date in the future; consent on or before screening."""
    errors: dict[str, list] = {}
    for field, label in (
        ("date_of_birth", _("Date of birth")),
        ("consent_date", _("Consent date")),
        ("screening_date", _("Screening date")),
    ):
        day = values.get(field)
        if day is not None and day > today:
            errors.setdefault(field, []).append(_("%(label)s cannot be in the future.") % {"label": label})
    consent, screened = values.get("consent_date"), values.get("screening_date")
    if consent is not None and screened is not None and consent > screened:
        errors.setdefault("consent_date", []).append(
            _("Consent must be signed on or before the screening date; screening cannot start before consent.")
        )
    return errors


def _age_errors(values: Mapping) -> dict[str, list]:
    """The date of birth is before screening and plausible; INC1 agrees with the age at screening."""
    birth, screened = values.get("date_of_birth"), values.get("screening_date")
    if birth is None or screened is None:
        return {}
    if birth >= screened:
        return {"date_of_birth": [_("Date of birth must be before the screening date.")]}
    errors: dict[str, list] = {}
    age = age_on(birth, screened)
    if age > OLDEST_PLAUSIBLE_AGE:
        errors["date_of_birth"] = [
            _("Age %(age)s at screening is not plausible; check the date of birth.") % {"age": age}
        ]
    inc1 = values.get("inc1")
    if inc1 is True and age < ADULT_AGE:
        errors["inc1"] = [
            _("INC1 answered yes, but the patient is %(age)s at screening (date of birth).") % {"age": age}
        ]
    if inc1 is False and age >= ADULT_AGE:
        errors["inc1"] = [
            _("INC1 answered no, but the patient is %(age)s at screening (date of birth).") % {"age": age}
        ]
    return errors


def _answer_errors(values: Mapping) -> dict[str, list]:
    """INC3 agrees with ECOG, EXC6 with the PG-SGA score, EXC1 with the histology."""
    errors: dict[str, list] = {}
    ecog, inc3 = values.get("ecog"), values.get("inc3")
    if ecog is not None and inc3 is not None and inc3 != (ecog in ECOG_ALLOWED):
        errors["inc3"] = [
            _("INC3 answered yes, but ECOG is %(ecog)s; INC3 needs ECOG 0 or 1.") % {"ecog": ecog}
            if inc3
            else _("INC3 answered no, but ECOG is %(ecog)s, which meets INC3.") % {"ecog": ecog}
        ]
    score, exc6 = values.get("pgsga_score"), values.get("exc6")
    if score is not None and exc6 is not None and exc6 != (score >= PGSGA_EXCLUDING):
        errors["exc6"] = [
            _("EXC6 answered yes, but the PG-SGA score is %(score)s (below 9).") % {"score": score}
            if exc6
            else _("EXC6 answered no, but the PG-SGA score is %(score)s (9 or more excludes).") % {"score": score}
        ]
    histology, exc1 = values.get("histology"), values.get("exc1")
    if histology and exc1 is not None and exc1 != (histology != "squamous"):
        errors["exc1"] = [
            _("EXC1 answered yes, but the histology is squamous (pure ESCC).")
            if exc1
            else _("EXC1 answered no, but the histology is not pure squamous.")
        ]
    return errors
