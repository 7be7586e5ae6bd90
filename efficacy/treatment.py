"""Treatment given: systemic doses per cycle and radiotherapy courses. Pages and API call these.

The first dose of each intervention (the AE attribution scale's pd1, chemo, ldrt, cfrt) is read
by safety through the hook registered in EfficacyConfig.ready(): an AE that began before it
cannot be attributed as related to it. The reverse is checked here: a dose that moves the first
dose after such an AE's onset is refused.
"""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Min
from django.utils.translation import gettext as _

from efficacy import records
from efficacy.models import AGENT_INTERVENTION, Agent, DoseChange, RadiotherapyCourse, SystemicDose
from enrollment.models import Arm, Cohort, Participant
from safety.models import INTERVENTION_SHORT, RELATED_ATTRIBUTIONS, AdverseEvent
from scr_escc.audit import create_record
from scr_escc.transactions import retry_on_conflict

DOSE_FIELDS = ("cycle", "agent", "administered_on", "dose", "unit", "change", "change_reason")
COURSE_FIELDS = ("modality", "start_date", "end_date", "total_dose_gy", "fractions", "target_site")


def first_doses(participant: Participant, *, pending=None) -> dict[str, date | None]:
    """The first day each intervention was given (omitted doses do not count), by attribution code.

    `pending` is a dose or course about to be saved (or voided): counted as it is in memory.
    """
    doses = SystemicDose.objects.filter(participant=participant, voided=False).exclude(change=DoseChange.OMITTED)
    courses = RadiotherapyCourse.objects.filter(participant=participant, voided=False)
    if isinstance(pending, SystemicDose) and pending.pk:
        doses = doses.exclude(pk=pending.pk)
    if isinstance(pending, RadiotherapyCourse) and pending.pk:
        courses = courses.exclude(pk=pending.pk)
    pairs = [
        (AGENT_INTERVENTION[agent], day)
        for agent, day in doses.values("agent").annotate(d=Min("administered_on")).values_list("agent", "d")
    ]
    pairs += list(courses.values("modality").annotate(d=Min("start_date")).values_list("modality", "d"))
    if isinstance(pending, SystemicDose) and not pending.voided and pending.change != DoseChange.OMITTED:
        pairs.append((AGENT_INTERVENTION[pending.agent], pending.administered_on))
    if isinstance(pending, RadiotherapyCourse) and not pending.voided:
        pairs.append((pending.modality, pending.start_date))
    firsts: dict[str, date | None] = {"pd1": None, "chemo": None, "ldrt": None, "cfrt": None}
    for code, day in pairs:
        if day is not None:
            firsts[code] = day if firsts[code] is None else min(firsts[code], day)
    return firsts


def start_of_treatment(participant: Participant) -> date | None:
    """The first dose of any study treatment (cycle 1 day 1)."""
    return min(filter(None, first_doses(participant).values()), default=None)


def _related_ae_errors(participant: Participant, record) -> None:
    """Refuse treatment data that would put a related AE's onset before that intervention's first dose."""
    firsts = first_doses(participant, pending=record)
    field = "administered_on" if isinstance(record, SystemicDose) else "start_date"
    for ae in AdverseEvent.objects.filter(participant=participant, voided=False).order_by("onset_date", "pk"):
        for code, first in firsts.items():
            if (
                first is not None
                and ae.onset_date < first
                and getattr(ae, f"attribution_{code}") in RELATED_ATTRIBUTIONS
            ):
                raise ValidationError(
                    {
                        field: _(
                            "AE #%(ae)s (%(term)s, onset %(onset)s) is attributed as related to %(i)s, whose first "
                            "dose would then be %(first)s, after that onset. Correct the AE's attribution or this date."
                        )
                        % {
                            "ae": ae.pk,
                            "term": ae.term,
                            "onset": ae.onset_date.isoformat(),
                            "i": INTERVENTION_SHORT[code],
                            "first": first.isoformat(),
                        }
                    }
                )


def _start_errors(participant: Participant, day: date | None, field: str) -> dict:
    start = records.start_of_study_treatment(participant)
    if start is None:
        return {
            field: [
                _("Treatment is recorded after randomization; %(s)s is not randomized yet.")
                % {"s": participant.subject_id}
            ]
        }
    return records.date_errors(participant, day, field, not_before=start)


def _check_dose(participant: Participant, dose: SystemicDose) -> None:
    errors: dict[str, list[str]] = {}
    if not dose.voided:
        errors = records.merge(_start_errors(participant, dose.administered_on, "administered_on"))
        if dose.change == DoseChange.OMITTED:
            if dose.dose is not None:
                errors.setdefault("dose", []).append(_("An omitted dose has no dose given; leave it empty."))
        elif dose.dose is None:
            errors.setdefault("dose", []).append(_("Enter the dose given (or choose “omitted”)."))
        elif dose.dose <= 0:
            errors.setdefault("dose", []).append(_("The dose given must be more than 0."))
        elif not dose.unit:
            errors.setdefault("unit", []).append(_("Choose the unit of the dose."))
        if dose.change != DoseChange.AS_PLANNED and not dose.change_reason.strip():
            errors.setdefault("change_reason", []).append(
                _("Give the reason the dose was reduced, delayed or omitted.")
            )
        taken = SystemicDose.objects.filter(participant=participant, cycle=dose.cycle, agent=dose.agent, voided=False)
        if taken.exclude(pk=dose.pk).exists():
            errors.setdefault("agent", []).append(
                _("Cycle %(c)s already has a %(a)s dose; correct that one instead.")
                % {"c": dose.cycle, "a": dose.get_agent_display()}
            )
    records.raise_errors(errors)
    _related_ae_errors(participant, dose)


def record_dose(*, participant: Participant, data: dict, user) -> SystemicDose:
    return records.create(
        record=SystemicDose(),
        participant=participant,
        data=data,
        fields=DOSE_FIELDS,
        user=user,
        check=_check_dose,
        reason=_("Dose recorded"),
    )


@retry_on_conflict
def record_cycle(*, participant: Participant, cycle: int, doses: dict[str, dict], user) -> list[SystemicDose]:
    """The three agents of one cycle in one step: all saved, or none (errors keyed `<agent>__<field>`)."""
    records.check_writer(user, participant)
    saved = []
    with transaction.atomic():
        current = records.lock_participant(participant)
        errors: dict[str, list[str]] = {}
        for agent in Agent:
            dose = SystemicDose(participant=current, created_by=user, cycle=cycle, agent=agent)
            records.assign(dose, doses[agent.value], DOSE_FIELDS[2:])
            try:
                dose.full_clean(exclude=["participant", "created_by"], validate_constraints=False)
                _check_dose(current, dose)
                create_record(dose, user=user, reason=_("Cycle %(c)s recorded") % {"c": cycle})
                saved.append(dose)
            except ValidationError as error:
                for field, messages in error.message_dict.items():
                    errors.setdefault(f"{agent.value}__{field}", []).extend(messages)
        if errors:
            transaction.set_rollback(True)
            raise ValidationError(errors)
    return saved


def next_cycle_number(participant: Participant) -> int:
    last = SystemicDose.objects.filter(participant=participant, voided=False).order_by("-cycle").first()
    return 1 if last is None else last.cycle + 1


def update_dose(*, dose: SystemicDose, data: dict, user, reason, expected_version=None) -> SystemicDose:
    return records.update(
        record=dose,
        data=data,
        fields=DOSE_FIELDS,
        user=user,
        reason=reason,
        check=_check_dose,
        expected_version=expected_version,
    )


def void_dose(*, dose: SystemicDose, user, reason, expected_version=None) -> SystemicDose:
    return records.void(
        record=dose, user=user, reason=reason, expected_version=expected_version, check=_related_ae_errors
    )


def _check_course(participant: Participant, course: RadiotherapyCourse) -> None:
    if not course.voided:
        errors = records.merge(
            _start_errors(participant, course.start_date, "start_date"),
            records.date_errors(participant, course.end_date, "end_date", not_before=course.start_date),
        )
        no_rt = participant.cohort == Cohort.RANDOMIZED and participant.arm == Arm.B
        if no_rt:
            errors.setdefault("modality", []).append(_("Arm B (control) receives no radiotherapy."))
        records.raise_errors(errors)
    _related_ae_errors(participant, course)


def record_course(*, participant: Participant, data: dict, user) -> RadiotherapyCourse:
    return records.create(
        record=RadiotherapyCourse(),
        participant=participant,
        data=data,
        fields=COURSE_FIELDS,
        user=user,
        check=_check_course,
        reason=_("Radiotherapy course recorded"),
    )


def update_course(*, course: RadiotherapyCourse, data: dict, user, reason, expected_version=None):
    return records.update(
        record=course,
        data=data,
        fields=COURSE_FIELDS,
        user=user,
        reason=reason,
        check=_check_course,
        expected_version=expected_version,
    )


def void_course(*, course: RadiotherapyCourse, user, reason, expected_version=None):
    return records.void(
        record=course, user=user, reason=reason, expected_version=expected_version, check=_related_ae_errors
    )
