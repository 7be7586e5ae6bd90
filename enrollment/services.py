"""Screening, enrollment and participant status (SPEC §3). Pages and API both call these."""

from collections.abc import Callable
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from enrollment.models import Cohort, Participant, ParticipantStatus, Screening, SiteCounter
from scr_escc.audit import create_record, lock_for_change, require_reason, save_audited, void_audited
from scr_escc.exceptions import DomainError
from scr_escc.models import Site, Study
from scr_escc.phases import count_run_in_enrollment, ensure_study_open, lock_study
from scr_escc.scoping import site_for_new_record
from scr_escc.transactions import retry_on_conflict

SCREENING_FIELDS = (
    "initials date_of_birth sex consent_date screening_date ecog pgsga_score histology notes "
    "inc1 inc2 inc3 inc4 inc5 exc1 exc2 exc3 exc4 exc5 exc6 exc7 exc8 exc9 exc10 exc11 exc12"
).split()


class EnrollmentRefused(DomainError):
    pass


def _lock_counter(site: Site) -> SiteCounter:
    SiteCounter.objects.get_or_create(site=site)
    return SiteCounter.objects.select_for_update(of=("self",)).get(site=site)


def _apply_verdict(screening: Screening) -> None:
    verdict = screening.verdict()
    screening.eligible = verdict.eligible
    screening.failed_criteria = list(verdict.failed_criteria)


def screening_site(*, user, site: Site | None, previous_screening: Screening | None) -> Site:
    """The site a new screening belongs to: a re-screening's site, the one named, or the
    user's only site. 404 for a site the user does not belong to (existence does not leak)."""
    return site_for_new_record(user, previous_screening.site if previous_screening is not None else site)


@retry_on_conflict
def create_screening(
    *, data: dict, user, site: Site | None = None, previous_screening: Screening | None = None
) -> Screening:
    """Record a screening; its number is the site's next (SH01-S0001…); eligibility computed."""
    site = screening_site(user=user, site=site, previous_screening=previous_screening)
    if not site.active:
        raise ValidationError({"site": _("Site %(code)s is inactive and cannot screen.") % {"code": site.code}})
    screening = Screening(site=site, created_by=user, previous_screening=previous_screening)
    for field in SCREENING_FIELDS:
        if field in data:
            setattr(screening, field, data[field])
    # Validate before taking a number, so a rejected screening consumes none.
    screening.full_clean(exclude=["previous_screening", "sequence", "screening_number"])
    with transaction.atomic():
        if previous_screening is not None:
            _check_rescreen_allowed(
                Screening.objects.select_for_update(of=("self",)).get(pk=previous_screening.pk), site
            )
        counter = _lock_counter(site)
        counter.last_screening += 1
        counter.save(update_fields=["last_screening"])
        screening.sequence = counter.last_screening
        screening.screening_number = f"{site.code}-S{counter.last_screening:04d}"
        _apply_verdict(screening)
        create_record(screening, user=user, reason=_("Screening entered"))
    return screening


def _check_rescreen_allowed(previous: Screening, site: Site) -> None:
    if previous.site_id != site.pk:
        raise ValidationError({"previous_screening": _("A re-screening must be at the site of the earlier screening.")})
    if previous.eligible and not previous.voided:
        raise ValidationError({"previous_screening": _("Only a screen-failed patient can be re-screened.")})
    if Screening.objects.filter(previous_screening=previous).exists():
        raise ValidationError(
            {
                "previous_screening": _("Screening %(number)s was already re-screened.")
                % {"number": previous.screening_number}
            }
        )


@retry_on_conflict
def update_screening(
    *, screening: Screening, data: dict, user, reason: str | None, expected_version: int | None = None
) -> Screening:
    """Correct a screening (reason required). An enrolled patient's screening must stay eligible."""
    reason = require_reason(reason)
    with transaction.atomic():
        current = lock_for_change(screening, expected_version=expected_version)
        for field in SCREENING_FIELDS:
            if field in data:
                setattr(current, field, data[field])
        current.full_clean()
        _apply_verdict(current)
        if not current.eligible and Participant.objects.filter(screening=current).exists():
            raise ValidationError(
                {
                    "reason_for_change": _(
                        "This patient is enrolled; the correction would make the screening ineligible (%(codes)s). "
                        "Record a protocol deviation and withdraw the participant instead."
                    )
                    % {"codes": ", ".join(current.failed_criteria)}
                }
            )
        save_audited(current, user=user, reason=reason)
    return current


@retry_on_conflict
def enroll_participant(*, screening: Screening, user, enrollment_date: date | None = None) -> Participant:
    """Enroll an eligible screening: next subject ID of the site, cohort from the study phase.

    The study row is locked first, so the phase and the run-in count are read after any
    halting AE or concurrent enrollment has committed; then the site counter row gives the
    next number, used in this same transaction (no gaps, no duplicates).
    """
    with transaction.atomic():
        study = lock_study()
        screening = Screening.objects.select_for_update(of=("self",)).select_related("site").get(pk=screening.pk)
        _check_enrollable(screening)
        cohort = _cohort_for(study)
        counter = _lock_counter(screening.site)
        counter.last_subject += 1
        counter.save(update_fields=["last_subject"])
        participant = Participant(
            subject_id=f"{screening.site.code}-{counter.last_subject:03d}",
            site=screening.site,
            sequence=counter.last_subject,
            screening=screening,
            enrollment_date=enrollment_date or timezone.localdate(),
            cohort=cohort,
            enrolled_by=user,
        )
        create_record(participant, user=user, reason=_("Enrolled"))
        if cohort == Cohort.RUN_IN:
            count_run_in_enrollment(study=study, subject_id=participant.subject_id, user=user)
    return participant


def _check_enrollable(screening: Screening) -> None:
    """The screening's own reasons to refuse: voided, superseded, enrolled, not eligible, site inactive."""
    number = screening.screening_number
    if screening.voided:
        raise EnrollmentRefused(_("Screening %(number)s is voided.") % {"number": number})
    later = Screening.objects.filter(previous_screening=screening).first()
    if later is not None:
        # The patient's current screening is the later one; enrolling this one would enroll them twice.
        raise EnrollmentRefused(
            _("Screening %(number)s was superseded by the re-screening %(later)s; enroll from that one.")
            % {"number": number, "later": later.screening_number}
        )
    enrolled = Participant.objects.filter(screening=screening).values_list("subject_id", flat=True).first()
    if enrolled is not None:
        raise EnrollmentRefused(
            _("Screening %(number)s is already enrolled as %(subject)s.") % {"number": number, "subject": enrolled}
        )
    verdict = screening.verdict()
    if not verdict.eligible:
        raise EnrollmentRefused(_("Not eligible: failed %(codes)s.") % {"codes": ", ".join(verdict.failed_criteria)})
    if not screening.site.active:
        raise EnrollmentRefused(_("Site %(code)s is inactive.") % {"code": screening.site.code})


def _cohort_for(study: Study) -> str:
    ensure_study_open(study, action=_("Enrollment"))
    if study.phase == Study.Phase.RANDOMIZATION:
        return Cohort.RANDOMIZED
    if study.run_in_enrolled >= study.run_in_max:
        raise EnrollmentRefused(
            _("Enrollment refused: the safety run-in is full (%(max)s of %(max)s). Randomization has not opened yet.")
            % {"max": study.run_in_max}
        )
    return Cohort.RUN_IN


@retry_on_conflict
def withdraw_participant(
    *, participant: Participant, withdrawal_date: date, reason: str | None, user, expected_version: int | None = None
) -> Participant:
    reason = require_reason(reason, field="withdrawal_reason")
    with transaction.atomic():
        current = lock_for_change(participant, expected_version=expected_version)
        if not can_withdraw(current):
            raise ValidationError(
                {
                    "withdrawal_date": _("Only a participant on study can be withdrawn (now: %(s)s).")
                    % {"s": current.get_status_display()}
                }
            )
        if withdrawal_date > timezone.localdate():
            raise ValidationError({"withdrawal_date": _("The withdrawal date cannot be in the future.")})
        if withdrawal_date < current.enrollment_date:
            raise ValidationError({"withdrawal_date": _("The withdrawal date cannot be before enrollment.")})
        current.status = ParticipantStatus.WITHDRAWN
        current.withdrawal_date = withdrawal_date
        current.withdrawal_reason = reason
        save_audited(current, user=user, reason=_("Withdrawn: %(reason)s") % {"reason": reason})
    return current


def can_withdraw(participant: Participant) -> bool:
    return participant.status == ParticipantStatus.ON_STUDY


def can_complete(participant: Participant) -> bool:
    return participant.status == ParticipantStatus.ON_STUDY


def may_record_deaths(user) -> bool:
    """Investigators (and the PI) record a death directly; coordinators record it as a Grade 5 AE."""
    return user.has_perm("scr_escc.sign_ae_attribution")


def can_record_death(participant: Participant, user) -> bool:
    return participant.status != ParticipantStatus.DECEASED and may_record_deaths(user)


def _check_status_date(participant: Participant, day: date, field: str) -> None:
    if day > timezone.localdate():
        raise ValidationError({field: _("The date cannot be in the future.")})
    if day < participant.enrollment_date:
        raise ValidationError(
            {field: _("The date cannot be before enrollment (%(d)s).") % {"d": participant.enrollment_date.isoformat()}}
        )


@retry_on_conflict
def complete_participant(
    *, participant: Participant, completion_date: date, user, expected_version: int | None = None
) -> Participant:
    """The participant completed the study as the protocol plans (status `completed`)."""
    with transaction.atomic():
        current = lock_for_change(participant, expected_version=expected_version)
        if not can_complete(current):
            raise ValidationError(
                {
                    "completion_date": _("Only a participant on study can complete it (now: %(s)s).")
                    % {"s": current.get_status_display()}
                }
            )
        _check_status_date(current, completion_date, "completion_date")
        current.status, current.completion_date = ParticipantStatus.COMPLETED, completion_date
        save_audited(current, user=user, reason=_("Completed the study"))
    return current


# Checks the apps above enrollment add to a death recorded directly (registry filled in their
# AppConfig.ready()): e.g. safety refuses a death dated before an AE's onset or end.
DeathCheck = Callable[..., dict]
_DEATH_CHECKS: list[DeathCheck] = []


def register_death_check(check: DeathCheck) -> None:
    """`check(*, participant, death_date) -> {field: [messages]}`."""
    if check not in _DEATH_CHECKS:
        _DEATH_CHECKS.append(check)


def death_check_errors(*, participant: Participant, death_date: date, skip=()) -> dict:
    """What the registered death checks say of a death on `death_date` (except those in `skip`);
    also run for a death recorded through a Grade 5 AE."""
    errors: dict = {}
    for check in _DEATH_CHECKS:
        if check not in skip:
            for field, messages in check(participant=participant, death_date=death_date).items():
                errors.setdefault(field, []).extend(messages)
    return errors


@retry_on_conflict
def record_death(
    *, participant: Participant, death_date: date, cause: str | None, user, expected_version: int | None = None
) -> Participant:
    """A death recorded directly (death from progression, or from any cause not an AE).

    Investigators (and the PI) only: a death kept out of the AE log is kept out of the stopping
    rule, so the site's investigator answers for it; coordinators record deaths as Grade 5 AEs.
    """
    if not may_record_deaths(user):
        raise PermissionDenied
    cause = require_reason(cause, field="death_cause")
    with transaction.atomic():
        current = lock_for_change(participant, expected_version=expected_version)
        if current.status == ParticipantStatus.DECEASED:
            raise ValidationError(
                {"death_date": _("The death is already recorded (%(d)s).") % {"d": current.death_date.isoformat()}}
            )
        _check_status_date(current, death_date, "death_date")
        errors = death_check_errors(participant=current, death_date=death_date)
        if errors:
            raise ValidationError(errors)
        current.status, current.death_date, current.death_cause = ParticipantStatus.DECEASED, death_date, cause
        save_audited(current, user=user, reason=_("Death recorded: %(cause)s") % {"cause": cause})
    return current


def can_void_screening(screening: Screening) -> bool:
    return not screening.voided and not Participant.objects.filter(screening=screening).exists()


@retry_on_conflict
def void_screening(*, screening: Screening, reason: str | None, user, expected_version: int | None = None) -> Screening:
    """Void a screening entered in error (wrong patient, duplicate); it stays, flagged, in the log."""
    reason = require_reason(reason, field="reason")
    with transaction.atomic():
        current = lock_for_change(screening, expected_version=expected_version)
        enrolled = Participant.objects.filter(screening=current).values_list("subject_id", flat=True).first()
        if enrolled is not None:
            raise ValidationError(
                {
                    "reason": _(
                        "Screening %(n)s enrolled %(s)s and cannot be voided; withdraw the participant and "
                        "record a protocol deviation instead."
                    )
                    % {"n": current.screening_number, "s": enrolled}
                }
            )
        void_audited(current, user=user, reason=reason)
    return current


def record_randomization(*, participant: Participant, arm: str, randomized_at, user) -> Participant:
    """Store the arm on the participant (open-label, SPEC §6), so apps above read it here.

    Called by randomization.services.randomize() inside its transaction, with the
    participant row locked there; an arm is set once.
    """
    current = Participant.objects.select_for_update(of=("self",)).get(pk=participant.pk)
    if current.arm is not None:
        raise DomainError(_("%(s)s is already randomized.") % {"s": current.subject_id})
    current.arm = arm
    current.randomized_at = randomized_at
    return save_audited(current, user=user, reason=_("Randomized to arm %(arm)s") % {"arm": arm})


def mark_deceased(*, participant: Participant, death_date: date, user, reason: str) -> Participant:
    """Status `deceased` with the date of death (from a Grade 5 AE, or recorded directly).

    Called inside the caller's transaction; the participant row is locked here.
    """
    current = Participant.objects.select_for_update(of=("self",)).get(pk=participant.pk)
    if current.status == ParticipantStatus.DECEASED and current.death_date == death_date:
        return current
    current.status = ParticipantStatus.DECEASED
    current.death_date = death_date
    return save_audited(current, user=user, reason=reason)


def revert_death(*, participant: Participant, user, reason: str) -> Participant:
    """Undo `deceased` when the Grade 5 AE that set it is corrected or voided (a death recorded
    directly, with its cause, stays)."""
    current = Participant.objects.select_for_update(of=("self",)).get(pk=participant.pk)
    if current.status != ParticipantStatus.DECEASED or current.death_cause:
        return current
    if current.withdrawal_date:
        current.status = ParticipantStatus.WITHDRAWN
    elif current.completion_date:
        current.status = ParticipantStatus.COMPLETED
    else:
        current.status = ParticipantStatus.ON_STUDY
    current.death_date = None
    return save_audited(current, user=user, reason=reason)
