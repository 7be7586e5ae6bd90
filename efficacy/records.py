"""The shared shape of every efficacy write: the participant locked, dates checked, audited.

Lock order (scr_escc/transactions.py): the Participant row first, then the efficacy record;
every efficacy write of one participant is serialized by the participant lock, which is what
keeps the computed RECIST values of a participant consistent.
"""

from collections.abc import Callable, Iterable
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from efficacy.models import EfficacyRecord
from enrollment.models import Cohort, Participant
from scr_escc.audit import create_record, lock_for_change, require_reason, save_audited, void_audited
from scr_escc.scoping import require_site_access
from scr_escc.transactions import retry_on_conflict

CLINICAL = "scr_escc.enter_clinical_data"


def lock_participant(participant: Participant) -> Participant:
    return Participant.objects.select_for_update(of=("self",)).get(pk=participant.pk)


def check_writer(user, participant: Participant) -> None:
    """Site staff of the participant's site only (404 for another site, as everywhere)."""
    if not user.has_perm(CLINICAL):
        raise PermissionDenied
    require_site_access(user, participant.site)


def start_of_study_treatment(participant: Participant) -> date | None:
    """The earliest day treatment may be given: enrollment (run-in) or randomization (Phase IIb)."""
    if participant.cohort == Cohort.RUN_IN:
        return participant.enrollment_date
    if participant.randomized_at is None:
        return None
    return timezone.localdate(participant.randomized_at)


def date_errors(participant: Participant, day: date | None, field: str, *, not_before: date | None) -> dict:
    """A date of the participant's follow-up: not in the future, not before `not_before`, not after death."""
    if day is None:
        return {}
    if day > timezone.localdate():
        return {field: [_("The date cannot be in the future.")]}
    if not_before is not None and day < not_before:
        return {field: [_("The date cannot be before %(d)s.") % {"d": not_before.isoformat()}]}
    if participant.death_date and day > participant.death_date:
        return {
            field: [
                _("The participant died on %(d)s; nothing can be dated after the death.")
                % {"d": participant.death_date.isoformat()}
            ]
        }
    return {}


def merge(*parts: dict) -> dict:
    errors: dict[str, list[str]] = {}
    for part in parts:
        for field, messages in part.items():
            errors.setdefault(field, []).extend(messages)
    return errors


def raise_errors(errors: dict) -> None:
    if errors:
        raise ValidationError(errors)


def assign(record, data: dict, fields: Iterable[str]) -> None:
    for field in fields:
        if field in data:
            setattr(record, field, data[field])


Check = Callable[[Participant, EfficacyRecord], None]
AfterChange = Callable[..., None]


@retry_on_conflict
def create(
    *, record: EfficacyRecord, participant: Participant, data: dict, fields, user, check: Check, reason: str, after=None
):
    """A new record of `participant`: validated by `check` under the participant lock, audited."""
    check_writer(user, participant)
    with transaction.atomic():
        current = lock_participant(participant)
        record.participant, record.created_by = current, user
        assign(record, data, fields)
        record.full_clean(exclude=["participant", "created_by"], validate_constraints=False)
        check(current, record)
        create_record(record, user=user, reason=reason)
        if after is not None:
            after(participant=current, user=user)
    return record


@retry_on_conflict
def update(
    *, record: EfficacyRecord, data: dict, fields, user, reason, check: Check, expected_version=None, after=None
):
    reason = require_reason(reason)
    check_writer(user, record.participant)
    with transaction.atomic():
        participant = lock_participant(record.participant)
        current = lock_for_change(record, expected_version=expected_version)
        assign(current, data, fields)
        current.full_clean(exclude=["participant", "created_by"], validate_constraints=False)
        check(participant, current)
        save_audited(current, user=user, reason=reason)
        if after is not None:
            after(participant=participant, user=user)
    return current


@retry_on_conflict
def void(*, record: EfficacyRecord, user, reason, expected_version=None, check: Check | None = None, after=None):
    reason = require_reason(reason, field="reason")
    check_writer(user, record.participant)
    with transaction.atomic():
        participant = lock_participant(record.participant)
        current = lock_for_change(record, expected_version=expected_version)
        void_audited(current, user=user, reason=reason)
        if check is not None:
            check(participant, current)  # sees the record voided; a refusal rolls the void back
        if after is not None:
            after(participant=participant, user=user)
    return current
