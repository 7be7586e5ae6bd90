"""The rules of SPEC §4 for one adverse event. Pure: the service supplies the facts it needs."""

from collections.abc import Mapping
from datetime import date

from django.utils.translation import gettext as _

from safety.models import RELATED_ATTRIBUTIONS, Attribution, Intervention, Outcome, Seriousness

RADIOTHERAPY = (Intervention.LDRT, Intervention.CFRT)


def is_treatment_related(attributions: Mapping[str, str]) -> bool:
    """Treatment-related = possible, probable or definite to any intervention (SPEC §4)."""
    return any(value in RELATED_ATTRIBUTIONS for value in attributions.values())


def adverse_event_errors(
    ae: Mapping,
    *,
    today: date,
    consent_date: date | None,
    receives_radiotherapy: bool | None,
    other_death_date: date | None,
    has_other_grade5: bool,
    latest_other_onset: date | None = None,
    enrollment_date: date | None = None,
    first_doses: Mapping[str, date | None] | None = None,
) -> dict[str, list[str]]:
    """Field errors for an AE's values.

    `receives_radiotherapy` is True for the run-in and Arm A, False for Arm B, None while a
    randomized-cohort participant has no arm yet. `other_death_date` is the participant's
    date of death recorded elsewhere; `has_other_grade5` tells whether another (not voided)
    Grade 5 AE exists for the participant. `latest_other_onset` is the latest onset among
    the participant's other (not voided) AEs: a death cannot be dated before it, nor before
    `enrollment_date`. `first_doses` gives each intervention's first dose (None: none recorded).
    """
    errors: dict[str, list[str]] = {}
    for part in (
        term_and_grade_errors(ae),
        death_errors(ae, has_other_grade5=has_other_grade5),
        date_errors(
            ae,
            today=today,
            consent_date=consent_date,
            other_death_date=other_death_date,
            latest_other_onset=latest_other_onset,
            enrollment_date=enrollment_date,
        ),
        seriousness_errors(ae),
        attribution_errors(ae, receives_radiotherapy=receives_radiotherapy),
        before_first_dose_errors(ae, first_doses=first_doses or {}),
    ):
        for field, messages in part.items():
            errors.setdefault(field, []).extend(messages)
    return errors


class _Errors(dict):
    def add(self, field: str, message: str) -> None:
        self.setdefault(field, []).append(message)


def term_and_grade_errors(ae: Mapping) -> dict[str, list[str]]:
    """The grade is 1–5 and defined for the CTCAE term; an "Other, specify" names the event."""
    errors = _Errors()
    grade, term = ae.get("grade"), ae.get("ctcae_term")
    if grade is not None and not 1 <= grade <= 5:
        errors.add("grade", _("The CTCAE grade is 1 to 5."))
    elif grade is not None and term is not None and not term.grade_defined(grade):
        errors.add("grade", _("Grade %(g)s is not defined for “%(t)s” in CTCAE v5.0.") % {"g": grade, "t": term.term})
    if term is not None and term.is_other_specify and not (ae.get("other_specify") or "").strip():
        errors.add("other_specify", _("Name the event: “Other, specify” needs the specified term."))
    return errors


def death_errors(ae: Mapping, *, has_other_grade5: bool) -> dict[str, list[str]]:
    """Grade 5 ⇔ outcome fatal and a date of death; a participant dies once."""
    errors = _Errors()
    grade, outcome, death = ae.get("grade"), ae.get("outcome"), ae.get("death_date")
    if grade == 5:
        if outcome != Outcome.FATAL:
            errors.add("outcome", _("A Grade 5 AE has the outcome “fatal”."))
        if death is None:
            errors.add("death_date", _("A Grade 5 AE needs the date of death."))
        if has_other_grade5:
            errors.add("grade", _("This participant already has a Grade 5 AE; a participant dies once."))
    else:
        if outcome == Outcome.FATAL:
            errors.add("outcome", _("Outcome “fatal” means Grade 5; set the grade to 5 or choose another outcome."))
        if death is not None:
            errors.add("death_date", _("A date of death belongs to a Grade 5 AE only."))
    return errors


def date_errors(
    ae: Mapping,
    *,
    today: date,
    consent_date: date | None,
    other_death_date: date | None,
    latest_other_onset: date | None,
    enrollment_date: date | None = None,
) -> dict[str, list[str]]:
    """No date in the future; onset not before consent nor after death; a death not before
    enrollment; end ≥ onset and not after death; ongoing or ended."""
    errors = _Errors()
    onset, end, death = ae.get("onset_date"), ae.get("end_date"), ae.get("death_date")
    for field, label in (("onset_date", _("Onset")), ("end_date", _("End date")), ("death_date", _("Date of death"))):
        value = ae.get(field)
        if value is not None and value > today:
            errors.add(field, _("%(label)s cannot be in the future.") % {"label": label})
    if onset is not None and consent_date is not None and onset < consent_date:
        errors.add(
            "onset_date", _("Onset cannot be before informed consent (%(d)s).") % {"d": consent_date.isoformat()}
        )
    death_known = death or other_death_date
    if onset is not None and death_known is not None and onset > death_known:
        errors.add("onset_date", _("Onset cannot be after the date of death (%(d)s).") % {"d": death_known.isoformat()})
    if death is not None and latest_other_onset is not None and death < latest_other_onset:
        errors.add(
            "death_date",
            _("Another AE of this participant started on %(d)s; the date of death cannot be earlier.")
            % {"d": latest_other_onset.isoformat()},
        )
    if death is not None and other_death_date is not None and death != other_death_date:
        errors.add(
            "death_date",
            _("The participant's date of death is already recorded as %(d)s.") % {"d": other_death_date.isoformat()},
        )
    if death is not None and enrollment_date is not None and death < enrollment_date:
        errors.add(
            "death_date",
            _(
                "The date of death cannot be before enrollment (%(d)s): "
                "a patient who died before enrollment was never on study."
            )
            % {"d": enrollment_date.isoformat()},
        )
    if end is not None and death_known is not None and end > death_known:
        errors.add(
            "end_date", _("The end date cannot be after the date of death (%(d)s).") % {"d": death_known.isoformat()}
        )
    if onset is not None and end is not None and end < onset:
        errors.add("end_date", _("The end date cannot be before the onset."))
    if ae.get("ongoing") and end is not None:
        errors.add("end_date", _("An ongoing AE has no end date; clear one of them."))
    if not ae.get("ongoing") and end is None and ae.get("grade") != 5:
        errors.add("end_date", _("Give the end date, or mark the AE as ongoing."))
    return errors


def before_first_dose_errors(ae: Mapping, *, first_doses: Mapping[str, date | None]) -> dict[str, list[str]]:
    """An AE that began before an intervention's first dose cannot be related to it.

    Applies once the first dose is recorded; before that the treatment record is simply not
    entered yet, and the treatment services refuse a first dose dated after a related AE's onset.
    """
    errors = _Errors()
    onset = ae.get("onset_date")
    for intervention in Intervention:
        first = first_doses.get(intervention.value)
        field = f"attribution_{intervention.value}"
        if onset and first and onset < first and ae.get(field) in RELATED_ATTRIBUTIONS:
            errors.add(
                field,
                _(
                    "The AE began on %(onset)s, before the first dose of %(i)s (%(first)s): its attribution "
                    "to it cannot be “%(level)s”. Choose “unrelated” or “unlikely”."
                )
                % {
                    "onset": onset.isoformat(),
                    "i": intervention.label,
                    "first": first.isoformat(),
                    "level": Attribution(ae.get(field)).label.lower(),
                },
            )
    return errors


def seriousness_errors(ae: Mapping) -> dict[str, list[str]]:
    """A serious AE has ICH E2A criteria and criteria make it serious; a death is serious by death."""
    errors = _Errors()
    criteria = list(ae.get("seriousness_criteria") or [])
    unknown = [c for c in criteria if c not in Seriousness.values]
    if unknown:
        errors.add(
            "seriousness_criteria", _("Unknown seriousness criteria: %(c)s.") % {"c": ", ".join(map(str, unknown))}
        )
    if ae.get("serious") and not criteria:
        errors.add("seriousness_criteria", _("A serious AE needs at least one seriousness criterion (ICH E2A)."))
    if not ae.get("serious") and criteria:
        errors.add("serious", _("Seriousness criteria are given, so the AE is serious: answer “yes”."))
    if ae.get("grade") == 5 and (not ae.get("serious") or Seriousness.DEATH not in criteria):
        errors.add("seriousness_criteria", _("A Grade 5 AE is serious with the criterion “results in death”."))
    if Seriousness.DEATH in criteria and ae.get("outcome") != Outcome.FATAL:
        errors.add("outcome", _("The seriousness criterion “results in death” needs the outcome “fatal” (Grade 5)."))
    return errors


def attribution_errors(ae: Mapping, *, receives_radiotherapy: bool | None) -> dict[str, list[str]]:
    """Every intervention rated on the scale; "not applicable" only for radiotherapy not given (Arm B)."""
    errors = _Errors()
    for intervention in Intervention:
        field = f"attribution_{intervention.value}"
        value = ae.get(field)
        if value is None or value == "":
            errors.add(field, _("Give the attribution to %(i)s.") % {"i": intervention.label})
        elif value not in Attribution.values:
            errors.add(field, _("“%(v)s” is not on the attribution scale.") % {"v": value})
        elif value == Attribution.NOT_APPLICABLE:
            if intervention not in RADIOTHERAPY:
                errors.add(
                    field, _("Every participant receives %(i)s; rate the attribution.") % {"i": intervention.label}
                )
            elif receives_radiotherapy:
                errors.add(
                    field,
                    _("This participant receives radiotherapy; rate the attribution to %(i)s.")
                    % {"i": intervention.label},
                )
        elif intervention in RADIOTHERAPY and receives_radiotherapy is False:
            errors.add(
                field,
                _("Arm B receives no radiotherapy: the attribution to %(i)s is “not applicable”.")
                % {"i": intervention.label},
            )
    return errors
