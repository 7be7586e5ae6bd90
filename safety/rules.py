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
) -> dict[str, list[str]]:
    """Field errors for an AE's values.

    `receives_radiotherapy` is True for the run-in and Arm A, False for Arm B, None while a
    randomized-cohort participant has no arm yet. `other_death_date` is the participant's
    date of death recorded elsewhere; `has_other_grade5` tells whether another (not voided)
    Grade 5 AE exists for the participant. `latest_other_onset` is the latest onset among
    the participant's other (not voided) AEs: a death cannot be dated before it.
    """
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    grade, outcome, death = ae.get("grade"), ae.get("outcome"), ae.get("death_date")
    onset, end = ae.get("onset_date"), ae.get("end_date")
    term = ae.get("ctcae_term")

    if grade is not None and not 1 <= grade <= 5:
        add("grade", _("The CTCAE grade is 1 to 5."))
    elif grade is not None and term is not None and not term.grade_defined(grade):
        add("grade", _("Grade %(g)s is not defined for “%(t)s” in CTCAE v5.0.") % {"g": grade, "t": term.term})
    if term is not None and term.is_other_specify and not (ae.get("other_specify") or "").strip():
        add("other_specify", _("Name the event: “Other, specify” needs the specified term."))

    # Grade 5 ⇔ outcome fatal and a date of death.
    if grade == 5:
        if outcome != Outcome.FATAL:
            add("outcome", _("A Grade 5 AE has the outcome “fatal”."))
        if death is None:
            add("death_date", _("A Grade 5 AE needs the date of death."))
        if has_other_grade5:
            add("grade", _("This participant already has a Grade 5 AE; a participant dies once."))
    else:
        if outcome == Outcome.FATAL:
            add("outcome", _("Outcome “fatal” means Grade 5; set the grade to 5 or choose another outcome."))
        if death is not None:
            add("death_date", _("A date of death belongs to a Grade 5 AE only."))

    for field, label in (("onset_date", _("Onset")), ("end_date", _("End date")), ("death_date", _("Date of death"))):
        value = ae.get(field)
        if value is not None and value > today:
            add(field, _("%(label)s cannot be in the future.") % {"label": label})
    if onset is not None and consent_date is not None and onset < consent_date:
        add("onset_date", _("Onset cannot be before informed consent (%(d)s).") % {"d": consent_date.isoformat()})
    death_known = death or other_death_date
    if onset is not None and death_known is not None and onset > death_known:
        add("onset_date", _("Onset cannot be after the date of death (%(d)s).") % {"d": death_known.isoformat()})
    if death is not None and latest_other_onset is not None and death < latest_other_onset:
        add(
            "death_date",
            _("Another AE of this participant started on %(d)s; the date of death cannot be earlier.")
            % {"d": latest_other_onset.isoformat()},
        )
    if death is not None and other_death_date is not None and death != other_death_date:
        add(
            "death_date",
            _("The participant's date of death is already recorded as %(d)s.") % {"d": other_death_date.isoformat()},
        )
    if onset is not None and end is not None and end < onset:
        add("end_date", _("The end date cannot be before the onset."))
    if ae.get("ongoing") and end is not None:
        add("end_date", _("An ongoing AE has no end date; clear one of them."))
    if not ae.get("ongoing") and end is None and grade != 5:
        add("end_date", _("Give the end date, or mark the AE as ongoing."))

    criteria = list(ae.get("seriousness_criteria") or [])
    unknown = [c for c in criteria if c not in Seriousness.values]
    if unknown:
        add("seriousness_criteria", _("Unknown seriousness criteria: %(c)s.") % {"c": ", ".join(map(str, unknown))})
    if ae.get("serious") and not criteria:
        add("seriousness_criteria", _("A serious AE needs at least one seriousness criterion (ICH E2A)."))
    if not ae.get("serious") and criteria:
        add("serious", _("Seriousness criteria are given, so the AE is serious: answer “yes”."))
    if grade == 5 and (not ae.get("serious") or Seriousness.DEATH not in criteria):
        add("seriousness_criteria", _("A Grade 5 AE is serious with the criterion “results in death”."))

    for intervention in Intervention:
        field = f"attribution_{intervention.value}"
        value = ae.get(field)
        if value is None or value == "":
            add(field, _("Give the attribution to %(i)s.") % {"i": intervention.label})
        elif value not in Attribution.values:
            add(field, _("“%(v)s” is not on the attribution scale.") % {"v": value})
        elif value == Attribution.NOT_APPLICABLE:
            if intervention not in RADIOTHERAPY:
                add(field, _("Every participant receives %(i)s; rate the attribution.") % {"i": intervention.label})
            elif receives_radiotherapy:
                add(
                    field,
                    _("This participant receives radiotherapy; rate the attribution to %(i)s.")
                    % {"i": intervention.label},
                )
        elif intervention in RADIOTHERAPY and receives_radiotherapy is False:
            add(
                field,
                _("Arm B receives no radiotherapy: the attribution to %(i)s is “not applicable”.")
                % {"i": intervention.label},
            )
    return errors
