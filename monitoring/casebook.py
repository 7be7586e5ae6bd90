"""A participant's casebook: every record of theirs, signed off by an investigator and locked by
the data manager.

The signature stores the casebook as signed and its SHA-256. A change after it (a change
listener on every audited write) marks the signature superseded, with who, when and why, and
the page shows what changed since; it is never silently voided. A lock refuses every write to
the casebook (a write guard on every audited write), on pages and in the API alike.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from enrollment.models import Participant
from monitoring.models import CasebookLock, CasebookSignature, Query, QueryStatus
from monitoring.record_types import RECORD_TYPES, participant_id_of
from monitoring.values import all_fields, content_hash, diff, record_values
from scr_escc.audit import StaleEdit, require_reason, save_audited
from scr_escc.exceptions import DomainError
from scr_escc.signatures import Action, record_signature, verify_signing_password

SIGN = "scr_escc.sign_casebook"
LOCK = "scr_escc.lock_casebook"


class CasebookLocked(DomainError):
    """A write to a locked casebook: refused like any refusal of the trial's state (page message, API 409)."""


class CasebookRefused(DomainError):
    pass


def snapshot(participant: Participant) -> dict[str, dict[str, str]]:
    """The casebook as text: {"ae:12": {"grade": "3", …}, …}, every record, voided ones included."""
    participant = Participant.objects.select_related("screening").get(pk=participant.pk)
    content = {
        f"participant:{participant.pk}": _filled(participant),
        f"screening:{participant.screening_id}": _filled(participant.screening),
    }
    for code, record_type in RECORD_TYPES.items():
        if code in ("participant", "screening"):
            continue
        for record in record_type.model._default_manager.filter(participant=participant).order_by("pk"):
            content[f"{code}:{record.pk}"] = _filled(record)
    return content


def _filled(record) -> dict[str, str]:
    """A record's values without the empty ones: a column added to the schema later (empty for the
    records signed before) leaves the hash of a signed casebook as it was."""
    return {field: text for field, text in record_values(record, all_fields(record)).items() if text != ""}


def changes_since(signed: dict, now: dict) -> list[dict[str, str]]:
    """[{"record", "field", "old", "new"}] between the signed casebook and now."""
    rows = []
    for key in sorted(set(signed) | set(now), key=_record_order):
        for change in diff(signed.get(key, {}), now.get(key, {})):
            rows.append({"record": key, **change})
    return rows


def _record_order(key: str):
    code, pk = key.split(":")
    return (list(RECORD_TYPES).index(code), int(pk))


def latest_signature(participant: Participant) -> CasebookSignature | None:
    return (
        CasebookSignature.objects.filter(participant=participant)
        .select_related("signature", "superseded_by")
        .order_by("-signature__signed_at", "-pk")
        .first()
    )


def lock_of(participant: Participant) -> CasebookLock | None:
    return CasebookLock.objects.filter(participant=participant).select_related("changed_by").first()


def is_locked(participant_id: int | None) -> bool:
    if participant_id is None:
        return False
    return CasebookLock.objects.filter(participant_id=participant_id, locked=True).exists()


def open_queries(participant: Participant):
    return Query.objects.filter(participant=participant, status__in=[QueryStatus.OPEN, QueryStatus.ANSWERED])


def may_sign(user, participant: Participant) -> bool:
    return user.has_perm(SIGN) and user.sites.filter(pk=participant.site_id).exists()


def sign(
    *, participant: Participant, user, password: str, request=None, expected_hash: str | None = None
) -> CasebookSignature:
    """The investigator's e-signature over the casebook as it is now. `expected_hash` is the hash of
    the casebook the investigator reviewed (the page sends it): if the data changed since, the
    signature is refused, so it never covers a value the signer did not see."""
    if not may_sign(user, participant):
        raise PermissionDenied
    verify_signing_password(user=user, password=password, request=request)
    with transaction.atomic():
        participant = Participant.objects.select_for_update().get(pk=participant.pk)
        content = snapshot(participant)
        digest = content_hash(content)
        if expected_hash and expected_hash != digest:
            raise StaleEdit(
                _("The casebook changed while you were reviewing it. Reload the page, review the changes, then sign.")
            )
        latest = latest_signature(participant)
        if latest is not None and latest.superseded_at is None and latest.content_hash == digest:
            raise CasebookRefused(_("The casebook is signed already and has not changed since."))
        signature = record_signature(
            user=user, action=Action.SIGN_CASEBOOK, content={"participant": participant.subject_id, "hash": digest}
        )
        if latest is not None and latest.superseded_at is None:
            _supersede(latest, user=user, reason=_("Signed again"))
        return CasebookSignature.objects.create(
            participant=participant, signature=signature, content_hash=digest, content=content
        )


def _supersede(signature: CasebookSignature, *, user, reason: str) -> None:
    """Mark it superseded once: a second writer racing the first keeps the first one's who and why."""
    now = timezone.now()
    if CasebookSignature.objects.filter(pk=signature.pk, superseded_at__isnull=True).update(
        superseded_at=now, superseded_by=user, superseded_reason=reason
    ):
        signature.superseded_at, signature.superseded_by, signature.superseded_reason = now, user, reason


def supersede_on_change(instance, *, user, reason: str) -> None:
    """Change listener: the first write that makes the casebook differ from what was signed marks
    the signature superseded (kept, with who, when and why)."""
    if type(instance) in (CasebookSignature, CasebookLock, Query):
        return
    participant_id = participant_id_of(instance)
    if participant_id is None:
        return
    signature = (
        CasebookSignature.objects.filter(participant_id=participant_id, superseded_at__isnull=True)
        .order_by("-pk")
        .first()
    )
    if signature is None:
        return
    if content_hash(snapshot(Participant(pk=participant_id))) != signature.content_hash:
        _supersede(signature, user=user, reason=reason)


def refuse_if_locked(instance, *, user, reason: str) -> None:
    """Write guard: nothing in a locked casebook changes until the data manager unlocks it."""
    if type(instance) in (CasebookSignature, CasebookLock, Query):
        return
    participant_id = participant_id_of(instance)
    if participant_id is None:
        return
    # Serialize with lock() and sign(), which hold the participant row: a write whose record
    # locks only itself (a screening, a deviation) could otherwise pass this check just before
    # a lock commits, and land in a locked casebook.
    Participant.objects.select_for_update(of=("self",)).filter(pk=participant_id).values_list("pk").first()
    if is_locked(participant_id):
        subject_id = Participant.objects.filter(pk=participant_id).values_list("subject_id", flat=True).first()
        raise CasebookLocked(
            _(
                "The casebook of %(subject)s is locked by the data manager: nothing in it can be changed. "
                "Ask the data manager to unlock it, with the reason."
            )
            % {"subject": subject_id}
        )


def lock(*, participant: Participant, user) -> CasebookLock:
    if not user.has_perm(LOCK):
        raise PermissionDenied
    with transaction.atomic():
        participant = Participant.objects.select_for_update().get(pk=participant.pk)
        latest = latest_signature(participant)
        if (
            latest is not None
            and latest.superseded_at is None
            and content_hash(snapshot(participant)) != latest.content_hash
        ):
            _supersede(latest, user=user, reason=_("Found changed when locking"))  # a change nobody was told of
        if latest is None or latest.superseded_at is not None:
            raise CasebookRefused(_("Only a casebook with a current investigator signature can be locked."))
        if open_queries(participant).exists():
            raise CasebookRefused(_("Close every query of this casebook before locking it."))
        row = CasebookLock.objects.select_for_update().filter(participant=participant).first()
        if row is not None and row.locked:
            raise CasebookRefused(_("This casebook is locked already."))
        row = row or CasebookLock(participant=participant)
        row.locked, row.changed_by, row.reason = True, user, ""
        save_audited(row, user=user, reason=_("Casebook locked"))
    return row


def unlock(*, participant: Participant, user, reason: str | None) -> CasebookLock:
    if not user.has_perm(LOCK):
        raise PermissionDenied
    reason = require_reason(reason, field="reason")
    with transaction.atomic():
        row = CasebookLock.objects.select_for_update().filter(participant=participant, locked=True).first()
        if row is None:
            raise CasebookRefused(_("This casebook is not locked."))
        row.locked, row.changed_by, row.reason = False, user, reason
        save_audited(row, user=user, reason=reason)
    return row


def status(participant: Participant) -> dict:
    """What the casebook page and API show: the latest signature, whether it still holds, what
    changed since, the lock, and the open queries."""
    latest = latest_signature(participant)
    changes = []
    current = snapshot(participant)
    if latest is not None:
        if latest.superseded_at is None and content_hash(current) != latest.content_hash:
            _supersede(latest, user=None, reason=_("Found changed on reading"))  # never silently
        changes = changes_since(latest.content, current)
    lock_row = lock_of(participant)
    return {
        "signature": latest,
        "state": "not signed" if latest is None else ("superseded" if latest.superseded_at else "signed"),
        "changes": changes,
        "lock": lock_row,
        "locked": bool(lock_row and lock_row.locked),
        "open_queries": open_queries(participant).count(),
        "content_hash": content_hash(current),  # what a signature now would cover (the sign form sends it back)
    }


def validate_password_given(password: str | None) -> None:
    if not password:
        raise ValidationError({"password": _("Enter your password to sign.")})
