"""Changes to the trial-wide core: study settings, the phase state machine, sites and users."""

from collections.abc import Callable

from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from scr_escc.alerts import queue_alert
from scr_escc.audit import lock_for_change, require_reason, save_audited
from scr_escc.exceptions import PhaseTransitionRefused, SignatureRefused, StudyHalted
from scr_escc.models import Alert, ESignature, PhaseTransition, Role, Site, Study, User

STUDY_SETTING_FIELDS = ("run_in_min", "run_in_max", "stopping_threshold", "safety_contact_emails", "stratify_by_site")


def lock_study() -> Study:
    """Lock the study row: the one small row that serializes every phase-dependent decision."""
    return Study.objects.select_for_update(of=("self",)).get(pk=1)


# Checks that apps above the core add to a settings change, filled in their
# AppConfig.ready() (e.g. randomization: stratification is fixed once a list exists).
StudySettingsCheck = Callable[..., None]
_SETTINGS_CHECKS: list[StudySettingsCheck] = []


def register_study_settings_check(check: StudySettingsCheck) -> None:
    """`check(*, before: dict, study: Study)` raises ValidationError to refuse the change."""
    if check not in _SETTINGS_CHECKS:
        _SETTINGS_CHECKS.append(check)


def update_study_settings(*, user, data: dict, reason: str | None, expected_version: int | None = None) -> Study:
    reason = require_reason(reason)
    with transaction.atomic():
        study = lock_for_change(Study(pk=1), expected_version=expected_version)
        before = {field: getattr(study, field) for field in STUDY_SETTING_FIELDS}
        for field in STUDY_SETTING_FIELDS:
            if field in data:
                setattr(study, field, data[field])
        for check in _SETTINGS_CHECKS:
            check(before=before, study=study)
        study.full_clean()
        save_audited(study, user=user, reason=reason)
    return study


def count_run_in_enrollment(*, study: Study, subject_id: str, user) -> None:
    """One more run-in participant, on the locked study row, with its own history row."""
    study.run_in_enrolled += 1
    save_audited(study, user=user, reason=_("Run-in enrollment: %(subject)s") % {"subject": subject_id})


def ensure_study_open(study: Study, *, action: str) -> None:
    """Halted and terminated block enrollment and randomization (SPEC §5); one rule for both.

    Called with the study row locked, inside the transaction of the action, so a halt that
    commits first blocks a request already in flight.
    """
    if study.phase == Study.Phase.HALTED:
        raise StudyHalted(_("%(action)s refused: the study is halted by the stopping rule.") % {"action": action})
    if study.phase == Study.Phase.TERMINATED:
        raise StudyHalted(_("%(action)s refused: the study is terminated.") % {"action": action})


def create_site(*, code: str, name: str, active: bool = True) -> Site:
    site = Site(code=code, name=name, active=active)
    site.full_clean()
    site.save()
    return site


def create_user(
    *,
    username: str,
    role: str,
    password: str,
    sites: list[Site] = (),
    email: str = "",
    first_name: str = "",
    last_name: str = "",
) -> User:
    """A user with one role; site staff must belong to at least one site."""
    if role not in Role.values:
        raise ValidationError({"role": _("Unknown role “%(role)s”.") % {"role": role}})
    if role in (Role.COORDINATOR, Role.INVESTIGATOR) and not sites:
        raise ValidationError({"sites": _("Site staff must belong to at least one site.")})
    user = User(username=username, email=email, first_name=first_name, last_name=last_name)
    # Data managers use Django's admin for users and sites.
    user.is_staff = role == Role.ADMIN
    validate_password(password, user)
    user.set_password(password)
    user.full_clean()
    with transaction.atomic():
        user.save()
        user.groups.set([Group.objects.get(name=role)])
        user.sites.set(sites)
    return user


# --- The study phase state machine (SPEC §5) -------------------------------------------

# The phase each decision starts from (SPEC §5): the services refuse any other, and the
# decisions page offers only the decisions the current phase allows.
DECISION_FROM_PHASE = {
    "open_randomization": Study.Phase.RUN_IN,
    "confirm_termination": Study.Phase.HALTED,
    "resume": Study.Phase.HALTED,
}

OPEN_RANDOMIZATION_MEANING = "I confirm the safety criteria for Phase IIb are met"
CONFIRM_TERMINATION_MEANING = "I confirm the termination of the study under the stopping rule"


def _check_signature(user, password: str | None) -> None:
    if not password or not user.check_password(password):
        raise SignatureRefused(_("E-signature refused: the password is not correct. Nothing was changed."))


def _transition(
    study: Study, *, to_phase: str, user, reason: str, signature: ESignature | None = None, alert: bool = True
) -> PhaseTransition:
    """Move the locked study row to `to_phase`, with history, a transition row and an alert."""
    from_phase = study.phase
    study.phase = to_phase
    save_audited(study, user=user, reason=reason)
    transition = PhaseTransition.objects.create(
        from_phase=from_phase, to_phase=to_phase, by=user, reason=reason, signature=signature
    )
    if alert:
        signed = (
            f"E-signed by {user.get_full_name() or user.get_username()}: “{signature.meaning}”\n" if signature else ""
        )
        queue_alert(
            kind=Alert.Kind.PHASE_CHANGED,
            key=f"phase_changed:{transition.pk}",
            subject=f"Study phase changed: {Study.Phase(from_phase).label} → {Study.Phase(to_phase).label}",
            body=(
                f"Study: SCR-ESCC-01 (NCT05978193)\n"
                f"Phase: {Study.Phase(from_phase).label} → {Study.Phase(to_phase).label}\n"
                f"When: {timezone.localtime(transition.at):%Y-%m-%d %H:%M %Z}\n"
                f"By: {(user.get_full_name() or user.get_username()) if user else 'automatic'}\n"
                f"{signed}Reason: {reason}\n"
                f"Treatment-related Grade 5 in run-in: {study.treatment_related_grade5} of {study.stopping_threshold}"
            ),
            link="/study/history/",
        )
    return transition


def open_randomization(*, user, password: str | None, meaning: str = OPEN_RANDOMIZATION_MEANING) -> Study:
    """PI e-signs: run_in → randomization, when ≥ run-in minimum enrolled and count < threshold."""
    if not user.has_perm("scr_escc.open_randomization"):
        raise PermissionDenied
    _check_signature(user, password)
    with transaction.atomic():
        study = lock_study()
        if study.phase != DECISION_FROM_PHASE["open_randomization"]:
            raise PhaseTransitionRefused(
                _("Randomization can be opened only from the safety run-in (the study is %(phase)s).")
                % {"phase": study.get_phase_display()}
            )
        enrolled = study.run_in_enrolled
        if enrolled < study.run_in_min:
            raise PhaseTransitionRefused(
                _("Randomization cannot open: %(n)s run-in participants enrolled, the protocol needs at least %(min)s.")
                % {"n": enrolled, "min": study.run_in_min}
            )
        if study.treatment_related_grade5 >= study.stopping_threshold:
            raise PhaseTransitionRefused(_("Randomization cannot open: the stopping rule is met."))
        signature = ESignature.objects.create(signer=user, meaning=meaning, action=ESignature.Action.OPEN_RANDOMIZATION)
        _transition(study, to_phase=Study.Phase.RANDOMIZATION, user=user, reason=meaning, signature=signature)
    return study


def confirm_termination(
    *, user, password: str | None, reason: str | None, meaning: str = CONFIRM_TERMINATION_MEANING
) -> Study:
    """PI e-signs: halted → terminated. Final."""
    if not user.has_perm("scr_escc.confirm_termination"):
        raise PermissionDenied
    reason = require_reason(reason, field="reason")
    _check_signature(user, password)
    with transaction.atomic():
        study = lock_study()
        if study.phase != DECISION_FROM_PHASE["confirm_termination"]:
            raise PhaseTransitionRefused(
                _("Termination is confirmed only for a halted study (the study is %(phase)s).")
                % {"phase": study.get_phase_display()}
            )
        signature = ESignature.objects.create(
            signer=user, meaning=meaning, action=ESignature.Action.CONFIRM_TERMINATION, reason=reason
        )
        _transition(study, to_phase=Study.Phase.TERMINATED, user=user, reason=reason, signature=signature)
    return study


def resume_study(*, user, reason: str | None) -> Study:
    """Admin: halted → the phase before the halt, only if the count is now below the threshold."""
    if not user.has_perm("scr_escc.resume_study"):
        raise PermissionDenied
    reason = require_reason(reason, field="reason")
    with transaction.atomic():
        study = lock_study()
        if study.phase != DECISION_FROM_PHASE["resume"]:
            raise PhaseTransitionRefused(_("Only a halted study can be resumed."))
        if study.treatment_related_grade5 >= study.stopping_threshold:
            raise PhaseTransitionRefused(
                _("The study cannot resume: the stopping-rule count is %(n)s of %(t)s.")
                % {"n": study.treatment_related_grade5, "t": study.stopping_threshold}
            )
        previous_phase = study.phase_before_halt or Study.Phase.RUN_IN
        study.phase_before_halt = ""
        _transition(study, to_phase=previous_phase, user=user, reason=reason)
    return study


def record_stopping_rule_count(*, study: Study, count: int, user, cause: str) -> bool:
    """Store the recomputed count on the locked study row; halt when it reaches the threshold.

    Called by the safety app inside the AE transaction, with `study` locked. Returns True when
    this call halted the study.
    """
    if study.treatment_related_grade5 != count:
        study.treatment_related_grade5 = count
        # Its own history row, so the change is never shown later under someone else's edit.
        save_audited(study, user=user, reason=_("Stopping-rule count recomputed (%(cause)s).") % {"cause": cause})
    if count >= study.stopping_threshold and study.phase in (Study.Phase.RUN_IN, Study.Phase.RANDOMIZATION):
        study.phase_before_halt = study.phase
        reason = _(
            "Stopping rule: %(n)s of %(t)s run-in participants with a treatment-related Grade 5 AE (%(cause)s)."
        ) % {"n": count, "t": study.stopping_threshold, "cause": cause}
        _transition(study, to_phase=Study.Phase.HALTED, user=user, reason=reason, alert=False)
        return True
    return False
