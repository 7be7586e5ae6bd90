"""The study phase state machine (SPEC §5), enforced on the server for pages and API alike.

    run_in ──(PI e-signs "open randomization")──▶ randomization
    run_in / randomization ──(stopping-rule count reaches the threshold, automatically)──▶ halted
    halted ──(PI e-signs "confirm termination")──▶ terminated
    halted ──(data manager's reason + PI e-signature; count below the threshold in force
              at the halt)──▶ the phase before the halt

Run-in limits and the stopping threshold are fixed from the first enrollment; after that a
protocol amendment the PI e-signs changes them and re-evaluates the rule at once.
Every decision locks the study row, so it is taken against the latest committed state.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from scr_escc.alerts import queue_alert
from scr_escc.audit import require_reason, save_audited
from scr_escc.exceptions import PhaseTransitionRefused, StudyHalted
from scr_escc.models import Alert, ESignature, PhaseTransition, ProtocolAmendment, Study
from scr_escc.signatures import printed_name, record_signature, verify_signing_password

Phase = Study.Phase
Action = ESignature.Action
LIMIT_FIELDS = ("run_in_min", "run_in_max", "stopping_threshold")


def lock_study() -> Study:
    """Lock the study row: the one small row that serializes every phase-dependent decision."""
    return Study.objects.select_for_update(of=("self",)).get(pk=1)


@contextmanager
def _locked() -> Iterator[Study]:
    with transaction.atomic():
        yield lock_study()


def ensure_study_open(study: Study, *, action: str) -> None:
    """Halted and terminated block enrollment and randomization (SPEC §5); one rule for both.

    Called with the study row locked, inside the transaction of the action, so a halt that
    commits first blocks a request already in flight.
    """
    if study.phase == Phase.HALTED:
        raise StudyHalted(_("%(action)s refused: the study is halted by the stopping rule.") % {"action": action})
    if study.phase == Phase.TERMINATED:
        raise StudyHalted(_("%(action)s refused: the study is terminated.") % {"action": action})


def count_run_in_enrollment(*, study: Study, subject_id: str, user) -> None:
    """One more run-in participant, on the locked study row, with its own history row."""
    study.run_in_enrolled += 1
    save_audited(study, user=user, reason=_("Run-in enrollment: %(subject)s") % {"subject": subject_id})


def decisions_available(study: Study) -> set[str]:
    """The decisions the study's state allows now; the decisions page offers only these."""
    available = set()
    if study.phase == Phase.RUN_IN:
        available.add("open_randomization")
    if study.phase == Phase.HALTED:
        available |= {"confirm_termination", "sign_resume" if study.resume_requested_at else "request_resume"}
    if study.phase != Phase.TERMINATED:
        available.add("amend_protocol")
    return available


def _require(study: Study, decision: str, message: str) -> None:
    if decision not in decisions_available(study):
        raise PhaseTransitionRefused(message % {"phase": study.get_phase_display()})


def _signed_state(study: Study, **extra) -> dict:
    """What a phase decision signs: the study's state as the signer saw it, locked."""
    return {
        "protocol": study.protocol,
        "phase": study.phase,
        "run_in_enrolled": study.run_in_enrolled,
        "treatment_related_grade5": study.treatment_related_grade5,
        "stopping_threshold": study.stopping_threshold,
        **extra,
    }


def halt_number() -> int:
    return PhaseTransition.objects.filter(to_phase=Phase.HALTED).count()


def _transition(study: Study, *, to_phase: str, user, reason: str, signature=None) -> PhaseTransition:
    """Move the locked study row to `to_phase`, with history, a transition row and an alert."""
    from_phase = study.phase
    study.phase = to_phase
    save_audited(study, user=user, reason=reason)
    transition = PhaseTransition.objects.create(
        from_phase=from_phase, to_phase=to_phase, by=user, reason=reason, signature=signature
    )
    at = f"{timezone.localtime(transition.at):%Y-%m-%d %H:%M %Z}"
    by = printed_name(user) if user else None
    count, threshold = study.treatment_related_grade5, study.stopping_threshold

    def render() -> tuple[str, str]:  # in each recipient's language (scr_escc.alerts)
        labels = f"{Phase(from_phase).label} → {Phase(to_phase).label}"
        lines = [
            _("Study: %(study)s") % {"study": "SCR-ESCC-01 (NCT05978193)"},
            _("Phase: %(labels)s") % {"labels": labels},
            _("When: %(at)s") % {"at": at},
            _("By: %(who)s") % {"who": by or _("automatic")},
            *(
                [_("E-signed by %(who)s: “%(meaning)s”") % {"who": signature.signer_name, "meaning": signature.meaning}]
                if signature
                else []
            ),
            _("Reason: %(reason)s") % {"reason": reason},
            _("Treatment-related Grade 5 in run-in: %(n)s of %(t)s") % {"n": count, "t": threshold},
        ]
        return _("Study phase changed: %(labels)s") % {"labels": labels}, "\n".join(lines)

    queue_alert(
        kind=Alert.Kind.PHASE_CHANGED, key=f"phase_changed:{transition.pk}", render=render, link="/study/history/"
    )
    return transition


def _halt(study: Study, *, user, reason: str) -> None:
    study.phase_before_halt = study.phase
    study.threshold_at_halt = study.stopping_threshold
    _transition(study, to_phase=Phase.HALTED, user=user, reason=reason)


def _check_perm(user, codename: str) -> None:
    if not user.has_perm(f"scr_escc.{codename}"):
        raise PermissionDenied


def open_randomization(*, user, password: str | None, request=None) -> Study:
    """PI e-signs: run_in → randomization, when ≥ run-in minimum enrolled and count < threshold."""
    _check_perm(user, "open_randomization")
    verify_signing_password(user=user, password=password, request=request)
    with _locked() as study:
        _require(
            study,
            "open_randomization",
            _("Randomization can be opened only from the safety run-in (the study is %(phase)s)."),
        )
        if study.run_in_enrolled < study.run_in_min:
            raise PhaseTransitionRefused(
                _("Randomization cannot open: %(n)s run-in participants enrolled, the protocol needs at least %(min)s.")
                % {"n": study.run_in_enrolled, "min": study.run_in_min}
            )
        if study.treatment_related_grade5 >= study.stopping_threshold:
            raise PhaseTransitionRefused(_("Randomization cannot open: the stopping rule is met."))
        signature = record_signature(user=user, action=Action.OPEN_RANDOMIZATION, content=_signed_state(study))
        _transition(study, to_phase=Phase.RANDOMIZATION, user=user, reason=signature.meaning, signature=signature)
    return study


def confirm_termination(*, user, password: str | None, reason: str | None, request=None) -> Study:
    """PI e-signs: halted → terminated. Final."""
    _check_perm(user, "confirm_termination")
    reason = require_reason(reason, field="reason")
    verify_signing_password(user=user, password=password, request=request)
    with _locked() as study:
        _require(
            study,
            "confirm_termination",
            _("Termination is confirmed only for a halted study (the study is %(phase)s)."),
        )
        signature = record_signature(
            user=user, action=Action.CONFIRM_TERMINATION, content=_signed_state(study, reason=reason), reason=reason
        )
        _transition(study, to_phase=Phase.TERMINATED, user=user, reason=reason, signature=signature)
    return study


def _check_resume_allowed(study: Study) -> None:
    """Only while the count is below the threshold that was in force when the study halted —
    and below the threshold in force now (an amendment while halted may have lowered it)."""
    threshold = min(study.threshold_at_halt or study.stopping_threshold, study.stopping_threshold)
    if study.treatment_related_grade5 >= threshold:
        raise PhaseTransitionRefused(
            _(
                "The study cannot resume: the stopping-rule count is %(n)s, at or above the threshold of %(t)s "
                "(the threshold in force when it halted was %(h)s)."
            )
            % {"n": study.treatment_related_grade5, "t": threshold, "h": study.threshold_at_halt or threshold}
        )


def request_resume(*, user, reason: str | None) -> Study:
    """Data manager: ask to resume a halted study, with the reason; the PI's e-signature resumes it."""
    _check_perm(user, "resume_study")
    reason = require_reason(reason, field="reason")
    with _locked() as study:
        _require(
            study,
            "request_resume",
            _("Only a halted study without a pending request can be resumed (the study is %(phase)s)."),
        )
        _check_resume_allowed(study)
        study.resume_requested_by, study.resume_requested_at, study.resume_reason = user, timezone.now(), reason
        save_audited(study, user=user, reason=_("Resume requested: %(reason)s") % {"reason": reason})
    return study


def resume_study(*, user, password: str | None, request=None) -> Study:
    """PI e-signs the data manager's request: halted → the phase before the halt."""
    _check_perm(user, "sign_resume")
    verify_signing_password(user=user, password=password, request=request)
    with _locked() as study:
        _require(study, "sign_resume", _("There is no request to resume the study (the study is %(phase)s)."))
        if study.resume_requested_by_id == user.pk:
            raise PhaseTransitionRefused(_("A resume needs two people: the PI who signs cannot be the one who asked."))
        _check_resume_allowed(study)
        reason = _("%(reason)s (requested by %(who)s)") % {
            "reason": study.resume_reason,
            "who": printed_name(study.resume_requested_by),
        }
        signature = record_signature(
            user=user, action=Action.RESUME_STUDY, content=_signed_state(study, reason=reason), reason=reason
        )
        previous_phase = study.phase_before_halt or Phase.RUN_IN
        study.phase_before_halt, study.threshold_at_halt = "", None
        study.resume_requested_by, study.resume_requested_at, study.resume_reason = None, None, ""
        _transition(study, to_phase=previous_phase, user=user, reason=reason, signature=signature)
    return study


def amend_protocol(
    *, user, password: str | None, reference: str | None, changes: dict, reason: str | None, request=None
) -> ProtocolAmendment:
    """PI e-signs a protocol amendment of the run-in limits or the stopping threshold.

    The new threshold applies at once: if the count has reached it, the study halts now.
    """
    _check_perm(user, "amend_protocol")
    reason = require_reason(reason, field="reason")
    reference = (reference or "").strip()
    if not reference:
        raise ValidationError({"reference": _("Give the amendment's reference, e.g. the protocol version.")})
    verify_signing_password(user=user, password=password, request=request)
    with _locked() as study:
        _require(study, "amend_protocol", _("A terminated study cannot be amended (the study is %(phase)s)."))
        diff = _apply_limits(study, changes)
        signature = record_signature(
            user=user,
            action=Action.AMEND_PROTOCOL,
            content={"reference": reference, "changes": diff, "reason": reason},
            reason=reason,
        )
        amendment = ProtocolAmendment.objects.create(
            reference=reference, changes=diff, reason=reason, signature=signature
        )
        save_audited(
            study, user=user, reason=_("Protocol amendment %(ref)s: %(reason)s") % {"ref": reference, "reason": reason}
        )
        if _rule_met(study):
            _halt_by_amendment(study, user=user, reference=reference)
    return amendment


def _apply_limits(study: Study, changes: dict) -> dict:
    """Set the new limits on the locked row; {field: [old, new]} of what changed, validated."""
    diff = {}
    for field in LIMIT_FIELDS:
        new = changes.get(field)
        if new is not None and new != getattr(study, field):
            diff[field] = [getattr(study, field), new]
            setattr(study, field, new)
    if not diff:
        raise ValidationError(_("The amendment changes nothing: give a new run-in limit or stopping threshold."))
    study.full_clean()
    return diff


def _rule_met(study: Study) -> bool:
    return study.phase in (Phase.RUN_IN, Phase.RANDOMIZATION) and (
        study.treatment_related_grade5 >= study.stopping_threshold
    )


def _halt_by_amendment(study: Study, *, user, reference: str) -> None:
    count, threshold = study.treatment_related_grade5, study.stopping_threshold

    def reason() -> str:
        return _(
            "Stopping rule: %(n)s of %(t)s run-in participants with a treatment-related Grade 5 AE "
            "(threshold lowered by protocol amendment %(ref)s)."
        ) % {"n": count, "t": threshold, "ref": reference}

    _halt(study, user=user, reason=reason())

    def render() -> tuple[str, str]:  # in each recipient's language (scr_escc.alerts)
        subject = _("STOPPING RULE TRIGGERED — study halted (%(n)s of %(t)s)") % {"n": count, "t": threshold}
        return subject, reason() + "\n\n" + _("Enrollment and randomization are blocked.")

    queue_alert(
        kind=Alert.Kind.STOPPING_RULE_TRIGGERED,
        key=f"stopping_rule_triggered:{halt_number()}",
        render=render,
        link="/study/history/",
    )


def record_stopping_rule_count(*, study: Study, count: int, user, cause: str) -> bool:
    """Store the recomputed count on the locked study row; halt when it reaches the threshold.

    Called by the safety app inside the AE transaction, with `study` locked. Returns True when
    this call halted the study.
    """
    if study.treatment_related_grade5 != count:
        study.treatment_related_grade5 = count
        # Its own history row, so the change is never shown later under someone else's edit.
        save_audited(study, user=user, reason=_("Stopping-rule count recomputed (%(cause)s).") % {"cause": cause})
    if not _rule_met(study):
        return False
    reason = _("Stopping rule: %(n)s of %(t)s run-in participants with a treatment-related Grade 5 AE (%(cause)s).") % {
        "n": count,
        "t": study.stopping_threshold,
        "cause": cause,
    }
    _halt(study, user=user, reason=reason)
    return True
