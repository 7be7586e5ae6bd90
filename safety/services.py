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

from enrollment.models import Arm, Cohort, Participant
from enrollment.services import mark_deceased, revert_death
from safety import selectors
from safety.models import AdverseEvent, CtcaeTerm, Intervention
from safety.rules import adverse_event_errors, is_treatment_related
from scr_escc.alerts import queue_alert
from scr_escc.audit import create_record, lock_for_change, require_reason, save_audited, void_audited
from scr_escc.models import Alert, PhaseTransition, Study
from scr_escc.services import lock_study, record_stopping_rule_count

AE_FIELDS = (
    "ctcae_term other_specify grade onset_date end_date ongoing serious seriousness_criteria attribution_pd1 "
    "attribution_chemo attribution_ldrt attribution_cfrt action_taken outcome death_date"
).split()


def receives_radiotherapy(participant: Participant) -> bool | None:
    """True for the run-in and Arm A, False for Arm B, None before randomization."""
    if participant.cohort == Cohort.RUN_IN:
        return True
    return None if participant.arm is None else participant.arm == Arm.A


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


def resolve_reported_term(*, term: str, soc: str | None = None) -> tuple[CtcaeTerm, str]:
    """The CTCAE term for a reported term, and the "Other, specify" text when it is none.

    An exact CTCAE v5.0 term (any case) is coded as itself. Free text is recorded under its
    system organ class's "Other, specify" term, which needs `soc`.
    """
    text = (term or "").strip()
    coded = selectors.ctcae_term_by_name(text)
    if coded is not None:
        return coded, ""
    other = CtcaeTerm.objects.filter(soc__iexact=(soc or "").strip(), term__endswith="- Other, specify").first()
    if other is None:
        raise ValidationError(
            {
                "term": _(
                    "“%(t)s” is not a CTCAE v5.0 term. To record it as “Other, specify”, "
                    "give its system organ class (soc)."
                )
                % {"t": text}
            }
        )
    return other, text


def _apply(ae: AdverseEvent, data: dict) -> None:
    """Copy the entered values onto the AE; a reported `term` (+ `soc`) is resolved here."""
    if "term" in data:
        ae.ctcae_term, ae.other_specify = resolve_reported_term(term=data["term"], soc=data.get("soc"))
    for field in AE_FIELDS:
        if field in data:
            setattr(ae, field, data[field])


def record_adverse_event(*, participant: Participant, data: dict, user) -> AdverseEvent:
    """First entry of an AE. The returned AE carries `halted_study`: whether this save halted the study."""
    data = {"seriousness_criteria": [], "end_date": None, "death_date": None, **data}
    # Not said either way: ongoing unless it has an end date or is a death.
    data.setdefault("ongoing", data["end_date"] is None and data.get("grade") != 5)
    with transaction.atomic():
        study = lock_study()
        participant = _lock_participant(participant.pk)
        ae = AdverseEvent(participant=participant, created_by=user)
        _apply(ae, data)
        _validate(ae, participant)
        _derive(ae)
        create_record(ae, user=user, reason=_("Initial entry"), validate_constraints=False)
        ae.halted_study = _after_change(study=study, ae=ae, previous=None, user=user)
    return ae


def update_adverse_event(
    *, ae: AdverseEvent, data: dict, user, reason: str | None, expected_version: int | None = None
) -> AdverseEvent:
    """Correct an AE (reason required). The returned AE carries `halted_study`."""
    reason = require_reason(reason)
    with transaction.atomic():
        study = lock_study()
        current = lock_for_change(ae, expected_version=expected_version)
        previous = AdverseEvent.objects.get(pk=current.pk)
        participant = _lock_participant(current.participant_id)
        _apply(current, data)
        _validate(current, participant)
        _derive(current)
        current.full_clean(validate_constraints=False)
        save_audited(current, user=user, reason=reason)
        current.halted_study = _after_change(study=study, ae=current, previous=previous, user=user)
    return current


def void_adverse_event(*, ae: AdverseEvent, user, reason: str | None, expected_version: int | None = None):
    reason = require_reason(reason, field="reason")
    with transaction.atomic():
        study = lock_study()
        current = lock_for_change(ae, expected_version=expected_version)
        previous = AdverseEvent.objects.get(pk=current.pk)
        void_audited(current, user=user, reason=reason)
        current.halted_study = _after_change(study=study, ae=current, previous=previous, user=user)
    return current


def _lock_participant(pk) -> Participant:
    return Participant.objects.select_for_update(of=("self",)).select_related("screening", "site").get(pk=pk)


def _after_change(*, study: Study, ae: AdverseEvent, previous: AdverseEvent | None, user) -> bool:
    """Inside the AE transaction: participant status, stopping-rule count, phase, alerts.

    Returns True when this change halted the study.
    """
    _update_vital_status(ae=ae, previous=previous, user=user)
    before = study.treatment_related_grade5
    events = selectors.stopping_rule_events()
    count = len({e.participant_id for e in events})
    cause = f"{ae.participant.subject_id}, {ae.term}"
    halted = record_stopping_rule_count(study=study, count=count, user=user, cause=cause)
    if halted:
        _alert_stopping_rule_triggered(study=study, ae=ae, events=events, count=count)
    elif 0 < count < study.stopping_threshold and count > before:
        _alert_stopping_rule_warning(study=study, ae=ae, events=events, count=count)
    if ae.serious and not ae.voided and (previous is None or not previous.serious):
        _alert_sae(study=study, ae=ae)
    return halted


def _update_vital_status(*, ae: AdverseEvent, previous: AdverseEvent | None, user) -> None:
    """A Grade 5 AE makes the participant deceased; correcting or voiding it undoes that."""
    is_death = ae.grade == 5 and not ae.voided
    was_death = previous is not None and previous.grade == 5 and not previous.voided
    if is_death:
        mark_deceased(
            participant=ae.participant,
            death_date=ae.death_date,
            user=user,
            reason=_("Grade 5 AE: %(term)s") % {"term": ae.term},
        )
    elif was_death:
        revert_death(
            participant=ae.participant,
            user=user,
            reason=_("The Grade 5 AE %(term)s was corrected or voided") % {"term": previous.term},
        )


def _alert_stopping_rule_triggered(*, study: Study, ae: AdverseEvent, events, count: int) -> None:
    _alert_stopping_rule(
        kind=Alert.Kind.STOPPING_RULE_TRIGGERED,
        key=f"stopping_rule_triggered:{study_halt_number()}",
        subject=_("STOPPING RULE TRIGGERED — study halted (%(n)s of %(t)s)"),
        headline=_(
            "The stopping rule of SCR-ESCC-01 is met: the study is HALTED. Enrollment and randomization are "
            "blocked. The PI must confirm termination, or an admin may resume only if a correction brings the "
            "count below the threshold."
        ),
        study=study,
        ae=ae,
        events=events,
        count=count,
    )


def _alert_stopping_rule_warning(*, study: Study, ae: AdverseEvent, events, count: int) -> None:
    one_more_halts = count == study.stopping_threshold - 1
    _alert_stopping_rule(
        kind=Alert.Kind.STOPPING_RULE_WARNING,
        key="stopping_rule_warning:" + ",".join(sorted({e.participant.subject_id for e in events})),
        subject=_("Stopping-rule warning: %(n)s of %(t)s treatment-related Grade 5 in run-in"),
        headline=_(
            "A run-in participant has a treatment-related Grade 5 adverse event. One more reaches the stopping "
            "rule and halts the study."
        )
        if one_more_halts
        else _("The count of run-in participants with a treatment-related Grade 5 AE went up."),
        study=study,
        ae=ae,
        events=events,
        count=count,
    )


def _alert_stopping_rule(
    *, kind: str, key: str, subject: str, headline: str, study: Study, ae: AdverseEvent, events, count: int
) -> None:
    queue_alert(
        kind=kind,
        key=key,
        subject=subject % {"n": count, "t": study.stopping_threshold},
        body=_stopping_rule_body(study, ae, events, headline=headline),
        link=f"/adverse-events/{ae.pk}/",
    )


def _alert_sae(*, study: Study, ae: AdverseEvent) -> None:
    participant = ae.participant
    queue_alert(
        kind=Alert.Kind.SAE_REPORTED,
        key=f"sae_reported:{ae.pk}",
        subject=_("SAE reported: %(subject)s at %(site)s — %(term)s, grade %(grade)s")
        % {"subject": participant.subject_id, "site": participant.site.code, "term": ae.term, "grade": ae.grade},
        body=_ae_facts(study, ae) + "\n" + _("Sites report every SAE within 24 hours."),
        link=f"/adverse-events/{ae.pk}/",
    )


def study_halt_number() -> int:
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
