"""Adverse events and the stopping rule (SPEC §4, §5). Pages and API both call these.

Every create, edit and void locks the study row first, then recomputes the stopping-rule
count in the same transaction: two Grade 5 AEs saved at the same moment are counted one
after the other, so they cannot both miss the threshold.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from enrollment.models import Cohort, Participant
from enrollment.services import mark_deceased, revert_death
from safety import selectors
from safety.models import AdverseEvent, CtcaeTerm, Intervention
from safety.rules import adverse_event_errors, is_treatment_related
from scr_escc.alerts import queue_alert
from scr_escc.audit import lock_for_change, require_reason
from scr_escc.models import Alert, Study
from scr_escc.services import lock_study, record_stopping_rule_count

AE_FIELDS = (
    "ctcae_term other_specify grade onset_date end_date ongoing serious seriousness_criteria attribution_pd1 "
    "attribution_chemo attribution_ldrt attribution_cfrt action_taken outcome death_date"
).split()


def receives_radiotherapy(participant: Participant) -> bool | None:
    if participant.cohort == Cohort.RUN_IN:
        return True
    from randomization.selectors import arm_of

    arm = arm_of(participant)
    return None if arm is None else arm == "A"


def _validate(ae: AdverseEvent, participant: Participant) -> None:
    values = {f: getattr(ae, f) for f in AE_FIELDS if f != "ctcae_term"}
    values["ctcae_term"] = ae.ctcae_term if ae.ctcae_term_id else None
    others = AdverseEvent.objects.filter(participant=participant, voided=False).exclude(pk=ae.pk)
    other_grade5 = others.filter(grade=5)
    own_death_recorded_by_this_ae = ae.pk and AdverseEvent.objects.filter(pk=ae.pk, grade=5, voided=False).exists()
    other_death = None if own_death_recorded_by_this_ae else participant.death_date
    errors = adverse_event_errors(
        values,
        today=timezone.localdate(),
        consent_date=participant.screening.consent_date,
        receives_radiotherapy=receives_radiotherapy(participant),
        other_death_date=other_death,
        has_other_grade5=other_grade5.exists(),
        latest_other_onset=others.aggregate(latest=Max("onset_date"))["latest"] if ae.death_date else None,
    )
    if ae.ctcae_term_id is None:
        errors.setdefault("ctcae_term", []).append(_("Choose a CTCAE v5.0 term."))
    if errors:
        raise ValidationError(errors)


def _derive(ae: AdverseEvent) -> None:
    term = ae.ctcae_term
    ae.soc = term.soc
    ae.term = ae.other_specify.strip() if term.is_other_specify else term.term
    if not term.is_other_specify:
        ae.other_specify = ""
    ae.treatment_related = is_treatment_related(ae.attributions)


def record_adverse_event(*, participant: Participant, data: dict, user) -> AdverseEvent:
    with transaction.atomic():
        study = lock_study()
        participant = Participant.objects.select_for_update().select_related("screening", "site").get(pk=participant.pk)
        ae = AdverseEvent(participant=participant, created_by=user)
        for field in AE_FIELDS:
            if field in data:
                setattr(ae, field, data[field])
        _validate(ae, participant)
        _derive(ae)
        ae.full_clean(validate_constraints=False)
        ae._history_user = user
        ae._change_reason = _("Initial entry")
        ae.save()
        _after_change(study=study, ae=ae, previous=None, user=user)
    return ae


def update_adverse_event(
    *, ae: AdverseEvent, data: dict, user, reason: str | None, expected_version: int | None = None
) -> AdverseEvent:
    reason = require_reason(reason)
    with transaction.atomic():
        study = lock_study()
        current = lock_for_change(ae, expected_version=expected_version)
        if current.voided:
            raise ValidationError({"reason_for_change": _("A voided AE cannot be edited.")})
        previous = AdverseEvent.objects.get(pk=current.pk)
        participant = (
            Participant.objects.select_for_update().select_related("screening", "site").get(pk=current.participant_id)
        )
        for field in AE_FIELDS:
            if field in data:
                setattr(current, field, data[field])
        _validate(current, participant)
        _derive(current)
        current.full_clean(validate_constraints=False)
        current.version += 1
        current._history_user = user
        current._change_reason = reason
        current.save()
        _after_change(study=study, ae=current, previous=previous, user=user)
    return current


def void_adverse_event(*, ae: AdverseEvent, user, reason: str | None, expected_version: int | None = None):
    reason = require_reason(reason, field="reason")
    with transaction.atomic():
        study = lock_study()
        current = lock_for_change(ae, expected_version=expected_version)
        if current.voided:
            raise ValidationError({"reason": _("This AE is already voided.")})
        previous = AdverseEvent.objects.get(pk=current.pk)
        current.voided = True
        current.void_reason = reason
        current.voided_at = timezone.now()
        current.version += 1
        current._history_user = user
        current._change_reason = _("Voided: %(reason)s") % {"reason": reason}
        current.save()
        _after_change(study=study, ae=current, previous=previous, user=user)
    return current


def _after_change(*, study: Study, ae: AdverseEvent, previous: AdverseEvent | None, user) -> None:
    """Inside the AE transaction: participant status, stopping-rule count, phase, alerts."""
    participant = ae.participant
    is_death = ae.grade == 5 and not ae.voided
    was_death = previous is not None and previous.grade == 5 and not previous.voided
    if is_death:
        mark_deceased(
            participant=participant,
            death_date=ae.death_date,
            user=user,
            reason=_("Grade 5 AE: %(term)s") % {"term": ae.term},
        )
    elif was_death:
        revert_death(
            participant=participant,
            user=user,
            reason=_("The Grade 5 AE %(term)s was corrected or voided") % {"term": previous.term},
        )

    before = study.treatment_related_grade5
    events = selectors.stopping_rule_events()
    count = len({e.participant_id for e in events})
    cause = f"{participant.subject_id}, {ae.term}"
    halted = record_stopping_rule_count(study=study, count=count, user=user, cause=cause)

    if halted:
        halts = study_halt_number()
        queue_alert(
            kind=Alert.Kind.STOPPING_RULE_TRIGGERED,
            key=f"stopping_rule_triggered:{halts}",
            subject=_("STOPPING RULE TRIGGERED — study halted (%(n)s of %(t)s)")
            % {"n": count, "t": study.stopping_threshold},
            body=_stopping_rule_body(
                study,
                ae,
                events,
                headline=_(
                    "The stopping rule of SCR-ESCC-01 is met: the study is HALTED. Enrollment and randomization are "
                    "blocked. The PI must confirm termination, or an admin may resume only if a correction brings the "
                    "count below the threshold."
                ),
            ),
            link=f"/adverse-events/{ae.pk}/",
        )
    elif 0 < count < study.stopping_threshold and count > before:
        subjects = ",".join(sorted({e.participant.subject_id for e in events}))
        queue_alert(
            kind=Alert.Kind.STOPPING_RULE_WARNING,
            key=f"stopping_rule_warning:{subjects}",
            subject=_("Stopping-rule warning: %(n)s of %(t)s treatment-related Grade 5 in run-in")
            % {"n": count, "t": study.stopping_threshold},
            body=_stopping_rule_body(
                study,
                ae,
                events,
                headline=_(
                    "A run-in participant has a treatment-related Grade 5 adverse event. One more reaches the stopping "
                    "rule and halts the study."
                )
                if count == study.stopping_threshold - 1
                else _("The count of run-in participants with a treatment-related Grade 5 AE went up."),
            ),
            link=f"/adverse-events/{ae.pk}/",
        )

    became_serious = ae.serious and not ae.voided and (previous is None or not previous.serious)
    if became_serious:
        queue_alert(
            kind=Alert.Kind.SAE_REPORTED,
            key=f"sae_reported:{ae.pk}",
            subject=_("SAE reported: %(subject)s at %(site)s — %(term)s, grade %(grade)s")
            % {"subject": participant.subject_id, "site": participant.site.code, "term": ae.term, "grade": ae.grade},
            body=_ae_facts(study, ae) + "\n" + _("Sites report every SAE within 24 hours."),
            link=f"/adverse-events/{ae.pk}/",
        )


def study_halt_number() -> int:
    from scr_escc.models import PhaseTransition

    return PhaseTransition.objects.filter(to_phase=Study.Phase.HALTED).count()


def _ae_facts(study: Study, ae: AdverseEvent) -> str:
    participant = ae.participant
    attribution = ", ".join(f"{Intervention(k).label}: {v}" for k, v in ae.attributions.items())
    criteria = ", ".join(ae.seriousness_criteria) or "—"
    return "\n".join(
        [
            f"Study: SCR-ESCC-01 (NCT05978193), phase: {study.get_phase_display()}",
            f"Subject: {participant.subject_id} ({participant.get_cohort_display()}), site {participant.site}",
            f"Event: {ae.term} [{ae.soc}], CTCAE grade {ae.grade}",
            f"Onset: {ae.onset_date.isoformat()}"
            + (f", end: {ae.end_date.isoformat()}" if ae.end_date else "")
            + (f", date of death: {ae.death_date.isoformat()}" if ae.death_date else ""),
            f"Serious: {'yes' if ae.serious else 'no'} ({criteria}); outcome: {ae.get_outcome_display()}",
            f"Attribution: {attribution}",
            f"Treatment-related: {'yes' if ae.treatment_related else 'no'}",
            f"Stopping rule: {study.treatment_related_grade5} of {study.stopping_threshold} run-in participants "
            f"with a treatment-related Grade 5 AE",
        ]
    )


def _stopping_rule_body(study: Study, ae: AdverseEvent, events, *, headline: str) -> str:
    lines = [headline, "", _ae_facts(study, ae), "", "Events behind the count:"]
    for event in events:
        lines.append(
            f"  - {event.participant.subject_id} ({event.participant.site.code}): {event.term}, "
            f"death {event.death_date.isoformat() if event.death_date else '?'}"
        )
    return "\n".join(lines)


def ctcae_term_by_name(name: str) -> CtcaeTerm | None:
    return CtcaeTerm.objects.filter(term__iexact=(name or "").strip()).first()
