"""Adverse events and the stopping rule (SPEC §4, §5). Pages and API both call these.

Only a Grade 5 AE can change the stopping-rule count. A save of an AE that is, or was,
Grade 5 locks the study row first and recounts in the same transaction, so two deaths saved
at the same moment are counted one after the other and cannot both miss the threshold.
Every other AE locks only its participant (and itself), so AE entry at different sites and
for different participants runs in parallel. Lock order: scr_escc.transactions.
"""

from collections.abc import Callable, Mapping
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from enrollment.models import Arm, Cohort, Participant
from enrollment.services import death_check_errors, mark_deceased, revert_death
from safety import alerts, selectors
from safety.models import AdverseEvent, CtcaeTerm
from safety.rules import adverse_event_errors, is_treatment_related
from scr_escc.audit import create_record, lock_for_change, require_reason, save_audited, void_audited
from scr_escc.models import ESignature, Study
from scr_escc.phases import lock_study, record_stopping_rule_count
from scr_escc.scoping import require_site_access
from scr_escc.selectors import get_study
from scr_escc.signatures import record_signature, verify_signing_password
from scr_escc.transactions import retry_on_conflict

AE_FIELDS = (
    "ctcae_term other_specify grade onset_date end_date ongoing serious seriousness_criteria attribution_pd1 "
    "attribution_chemo attribution_ldrt attribution_cfrt action_taken outcome death_date"
).split()


# The first dose of each intervention, told by the app that records treatment (efficacy registers
# it in its AppConfig.ready(); safety cannot import it). `lookup(participant) -> {"pd1": date|None, …}`.
FirstDoseLookup = Callable[[Participant], Mapping[str, date | None]]
_FIRST_DOSE_LOOKUPS: list[FirstDoseLookup] = []


def register_first_dose_lookup(lookup: FirstDoseLookup) -> None:
    if lookup not in _FIRST_DOSE_LOOKUPS:
        _FIRST_DOSE_LOOKUPS.append(lookup)


def first_doses(participant: Participant) -> dict[str, date | None]:
    found: dict[str, date | None] = {}
    for lookup in _FIRST_DOSE_LOOKUPS:
        for code, day in lookup(participant).items():
            if day is not None and (found.get(code) is None or day < found[code]):
                found[code] = day
    return found


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
        enrollment_date=participant.enrollment_date,
        first_doses=first_doses(participant),
    )
    if ae.grade == 5 and ae.death_date and not ae.voided:
        # What the apps above say of this death date (e.g. no dose or scan after it); the AE
        # rules already compare it with the other AEs.
        for field, messages in death_check_errors(
            participant=participant, death_date=ae.death_date, skip=(death_date_errors,)
        ).items():
            errors.setdefault(field, []).extend(messages)
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


@retry_on_conflict
def record_adverse_event(*, participant: Participant, data: dict, user) -> AdverseEvent:
    """First entry of an AE. The returned AE carries `halted_study`: whether this save halted the study."""
    data = {"seriousness_criteria": [], "end_date": None, "death_date": None, **data}
    # Not said either way: ongoing unless it has an end date or is a death.
    data.setdefault("ongoing", data["end_date"] is None and data.get("grade") != 5)
    with transaction.atomic():
        study = _study(lock=data.get("grade") == 5)
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

    def change(lock_whole_study: bool) -> AdverseEvent:
        study, current, previous = _locked_change(
            ae, expected_version=expected_version, data=data, lock_whole_study=lock_whole_study
        )
        if _signed_facts(current) != _signed_facts(previous):
            current.attribution_signature = None  # what the investigator signed changed: sign again
        current.full_clean(validate_constraints=False)
        save_audited(current, user=user, reason=reason)
        current.halted_study = _after_change(study=study, ae=current, previous=previous, user=user)
        return current

    return _in_ae_transaction(ae, data, change)


def sign_attribution(
    *,
    ae: AdverseEvent,
    user,
    password: str | None,
    attributions: dict | None = None,
    reason: str | None = None,
    expected_version: int | None = None,
    request=None,
) -> AdverseEvent:
    """An investigator of the AE's site (or the PI) e-signs its attribution, changing it first
    if `attributions` differ (then with a reason). The signature covers the AE as it stands;
    the stopping-rule count is recounted. The returned AE carries `halted_study`."""
    if not user.has_perm("scr_escc.sign_ae_attribution"):
        raise PermissionDenied
    require_site_access(user, ae.participant.site)
    changed = {f"attribution_{k}": v for k, v in (attributions or {}).items() if ae.attributions.get(k) != v}
    if changed:
        reason = require_reason(reason)
    verify_signing_password(user=user, password=password, request=request)

    def sign(lock_whole_study: bool) -> AdverseEvent:
        study, current, previous = _locked_change(
            ae, expected_version=expected_version, data=changed, lock_whole_study=lock_whole_study
        )
        participant = current.participant
        current.attribution_signature = record_signature(
            user=user,
            action=ESignature.Action.SIGN_AE_ATTRIBUTION,
            content={
                "ae": current.pk,
                "subject": participant.subject_id,
                "term": current.term,
                "grade": current.grade,
                "death_date": current.death_date,
                "attribution": current.attributions,
            },
            reason=reason or "",
        )
        save_audited(current, user=user, reason=reason or _("Attribution signed off"))
        current.halted_study = _after_change(study=study, ae=current, previous=previous, user=user)
        return current

    return _in_ae_transaction(ae, changed, sign)


def void_adverse_event(*, ae: AdverseEvent, user, reason: str | None, expected_version: int | None = None):
    reason = require_reason(reason, field="reason")

    def void(lock_whole_study: bool) -> AdverseEvent:
        study = _study(lock=lock_whole_study)
        current = _lock_ae(ae, expected_version=expected_version, lock_whole_study=lock_whole_study)
        previous = AdverseEvent.objects.get(pk=current.pk)
        void_audited(current, user=user, reason=reason)
        current.halted_study = _after_change(study=study, ae=current, previous=previous, user=user)
        return current

    return _in_ae_transaction(ae, {}, void)


def _signed_facts(ae: AdverseEvent) -> tuple:
    """What an attribution sign-off covers: a change to any of it needs a new signature."""
    return (ae.ctcae_term_id, ae.other_specify, ae.grade, ae.outcome, ae.death_date, tuple(ae.attributions.items()))


class _StudyLockNeeded(Exception):
    """The AE became Grade 5 between the first look and its lock: start again with the study lock."""


def _study(*, lock: bool) -> Study:
    return lock_study() if lock else get_study()


@retry_on_conflict
def _in_ae_transaction(ae: AdverseEvent, data: dict, work):
    """Run `work(lock_whole_study)` in one transaction, with the study lock exactly when the
    AE is or becomes Grade 5 (the only AEs that can change the stopping-rule count)."""
    grade5 = data.get("grade") == 5 or AdverseEvent.objects.filter(pk=ae.pk, grade=5).exists()
    try:
        with transaction.atomic():
            return work(grade5)
    except _StudyLockNeeded:
        with transaction.atomic():
            return work(True)


def _lock_ae(ae: AdverseEvent, *, expected_version: int | None, lock_whole_study: bool) -> AdverseEvent:
    current = lock_for_change(ae, expected_version=expected_version)
    if current.grade == 5 and not lock_whole_study:
        raise _StudyLockNeeded
    return current


def _locked_change(ae: AdverseEvent, *, expected_version: int | None, data: dict, lock_whole_study: bool):
    """Inside the caller's transaction: lock the study (for a Grade 5 AE), the AE and its
    participant, in the lock order; apply `data` and check it. Returns (study, the changed
    AE, the AE as it was)."""
    study = _study(lock=lock_whole_study)
    current = _lock_ae(ae, expected_version=expected_version, lock_whole_study=lock_whole_study)
    previous = AdverseEvent.objects.get(pk=current.pk)
    participant = _lock_participant(current.participant_id)
    current.participant = participant
    _apply(current, data)
    _validate(current, participant)
    _derive(current)
    return study, current, previous


def _lock_participant(pk) -> Participant:
    return Participant.objects.select_for_update(of=("self",)).select_related("screening", "site").get(pk=pk)


def _after_change(*, study: Study, ae: AdverseEvent, previous: AdverseEvent | None, user) -> bool:
    """Inside the AE transaction: participant status, stopping-rule count, phase, alerts.

    Returns True when this change halted the study.
    """
    _update_vital_status(ae=ae, previous=previous, user=user)
    if ae.grade != 5 and (previous is None or previous.grade != 5):
        _alert_if_newly_serious(study=study, ae=ae, previous=previous)
        return False  # only a Grade 5 AE can change the stopping-rule count
    before = study.treatment_related_grade5
    events = selectors.stopping_rule_events()
    count = len({e.participant_id for e in events})
    cause = f"{ae.participant.subject_id}, {ae.term}"
    halted = record_stopping_rule_count(study=study, count=count, user=user, cause=cause)
    if halted:
        alerts.alert_stopping_rule_triggered(study=study, ae=ae, events=events, count=count)
    elif 0 < count < study.stopping_threshold and count > before:
        alerts.alert_stopping_rule_warning(study=study, ae=ae, events=events, count=count)
    _alert_if_newly_serious(study=study, ae=ae, previous=previous)  # after the recount: it states the count
    return halted


def _alert_if_newly_serious(*, study: Study, ae: AdverseEvent, previous: AdverseEvent | None) -> None:
    if ae.serious and not ae.voided and (previous is None or not previous.serious):
        alerts.alert_sae(study=study, ae=ae)


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


def death_date_errors(*, participant: Participant, death_date) -> dict[str, list[str]]:
    """Registered with enrollment's death checks: a death recorded directly cannot come before
    an adverse event of the participant started or ended."""
    aes = AdverseEvent.objects.filter(participant=participant, voided=False)
    latest = aes.aggregate(onset=Max("onset_date"), end=Max("end_date"))
    errors = []
    if latest["onset"] and latest["onset"] > death_date:
        errors.append(
            _("An adverse event of this participant started on %(d)s, after this date of death.")
            % {"d": latest["onset"].isoformat()}
        )
    if latest["end"] and latest["end"] > death_date:
        errors.append(
            _("An adverse event of this participant ended on %(d)s, after this date of death.")
            % {"d": latest["end"].isoformat()}
        )
    return {"death_date": errors} if errors else {}


def reconcile_stopping_rule() -> dict:
    """Beat: compare the stored stopping-rule count with a recount from the AE rows.

    They agree unless something bypassed the services (a direct database edit, a bug). On a
    difference the PI and data managers are alerted and the recount is applied under the
    study lock, as an AE save would — which halts the study if the threshold is reached.
    """
    with transaction.atomic():
        study = lock_study()
        stored, recount = study.treatment_related_grade5, selectors.stopping_rule_count()
        if stored != recount:
            alerts.alert_stopping_rule_mismatch(study=study, stored=stored, recount=recount)
            record_stopping_rule_count(study=study, count=recount, user=None, cause="reconciliation recount")
    return {"stored": stored, "recount": recount}
