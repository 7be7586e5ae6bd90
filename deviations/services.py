"""Recording, correcting and voiding protocol deviations. Pages and API both call these."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from deviations.models import ProtocolDeviation
from scr_escc.audit import create_record, lock_for_change, require_reason, save_audited, void_audited
from scr_escc.scoping import site_for_new_record
from scr_escc.transactions import retry_on_conflict

DEVIATION_FIELDS = ("deviation_date", "category", "important", "description", "corrective_action")


def _check(deviation: ProtocolDeviation) -> None:
    errors = {}
    if deviation.deviation_date and deviation.deviation_date > timezone.localdate():
        errors["deviation_date"] = _("The date of the deviation cannot be in the future.")
    if deviation.participant_id and deviation.participant.site_id != deviation.site_id:
        errors["participant"] = _("The participant belongs to another site.")
    if errors:
        raise ValidationError(errors)


@retry_on_conflict
def record_deviation(*, data: dict, user, site=None, participant=None) -> ProtocolDeviation:
    """A new deviation at a site the user belongs to, of one of its participants or of the site."""
    site = site_for_new_record(user, participant.site if participant is not None else site)
    deviation = ProtocolDeviation(site=site, participant=participant, created_by=user)
    for field in DEVIATION_FIELDS:
        if field in data:
            setattr(deviation, field, data[field])
    _check(deviation)
    with transaction.atomic():
        create_record(deviation, user=user, reason=_("Deviation recorded"))
    return deviation


@retry_on_conflict
def update_deviation(
    *, deviation: ProtocolDeviation, data: dict, user, reason: str | None, expected_version: int | None = None
) -> ProtocolDeviation:
    reason = require_reason(reason)
    with transaction.atomic():
        current = lock_for_change(deviation, expected_version=expected_version)
        for field in DEVIATION_FIELDS:
            if field in data:
                setattr(current, field, data[field])
        current.full_clean()
        _check(current)
        save_audited(current, user=user, reason=reason)
    return current


@retry_on_conflict
def void_deviation(
    *, deviation: ProtocolDeviation, reason: str | None, user, expected_version: int | None = None
) -> ProtocolDeviation:
    reason = require_reason(reason, field="reason")
    with transaction.atomic():
        current = lock_for_change(deviation, expected_version=expected_version)
        void_audited(current, user=user, reason=reason)
    return current
