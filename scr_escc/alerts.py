"""The alert outbox: write in the clinical transaction, send from Celery, never lose, never repeat.

`queue_alert()` is called inside the transaction of the change that causes the alert. The
row commits with the change or not at all; on commit a task is enqueued (a dead broker
neither fails nor hangs the request: the sweeper enqueues the row later). `deliver()` claims
the row by compare-and-set, sends, and marks it sent only after the mail server accepted.
"""

import logging
import smtplib
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import BadHeaderError, EmailMessage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from scr_escc.models import Alert, AlertAttempt, Role
from scr_escc.selectors import get_study

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
# Kinds that must reach a person: when undelivered they are escalated and bannered.
SAFETY_KINDS = (Alert.Kind.STOPPING_RULE_WARNING, Alert.Kind.STOPPING_RULE_TRIGGERED, Alert.Kind.SAE_REPORTED)
# A claim older than this belongs to a worker that died mid-send; the sweeper frees it.
STALE_CLAIM = timedelta(minutes=5)
PERMANENT_SMTP_CODES = range(500, 600)


def _emails_of(*roles: str) -> set[str]:
    return set(
        Group.objects.filter(name__in=roles, user__is_active=True)
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )


def safety_recipients() -> list[str]:
    """PIs, admins and the study's safety contacts (SPEC §5 Alerts), without duplicates."""
    return sorted(_emails_of(Role.PI, Role.ADMIN) | set(get_study().safety_contacts))


def escalation_recipients() -> list[str]:
    """Data managers and the study's escalation address: who hears of an undelivered safety alert."""
    study = get_study()
    return sorted(_emails_of(Role.ADMIN) | ({study.escalation_email} if study.escalation_email else set()))


def header_safe(text: str) -> str:
    """One line for a mail header: no CR/LF (header injection, BadHeaderError), at most 300 characters."""
    return " ".join(text.split())[:300]


def queue_alert(
    *, kind: str, key: str, subject: str, body: str, link: str = "", recipients: list[str] | None = None
) -> Alert | None:
    """Write the alert row in the caller's transaction; enqueue its delivery on commit.

    Returns None when an alert with this key exists already (never sent twice).
    """
    if Alert.objects.filter(key=key).exists():
        return None
    url = f"{settings.SITE_URL}{link}" if link else ""
    alert = Alert.objects.create(
        kind=kind,
        key=key,
        subject=header_safe(f"[SCR-ESCC-01] {subject}"),
        body=body + (f"\n\nOpen: {url}\n" if url else "\n"),
        recipients=safety_recipients() if recipients is None else recipients,
        link=link,
    )
    transaction.on_commit(lambda: enqueue(alert.pk), robust=True)
    return alert


def enqueue(alert_id: int, *, countdown: int | None = None) -> bool:
    """Publish the delivery task. A broker that is down is logged, not raised: the row is safe."""
    from scr_escc.tasks import send_alert

    try:
        send_alert.apply_async(
            args=[alert_id],
            countdown=countdown,
            retry=True,
            retry_policy=settings.CELERY_TASK_PUBLISH_RETRY_POLICY,
        )
        return True
    except Exception:  # the broker is unreachable; the sweeper will enqueue the row
        logger.warning(
            "Alert %s could not be enqueued (broker down?); the sweeper will retry.", alert_id, exc_info=True
        )
        return False


class TransientFailure(Exception):
    def __init__(self, retry_in: int):
        super().__init__(retry_in)
        self.retry_in = retry_in


def deliver(alert_id: int) -> str:
    """Claim, send, record. Returns the resulting status; raises TransientFailure to retry."""
    now = timezone.now()
    # A retry scheduled for next_attempt_at may arrive a moment early; a little slack avoids
    # leaving it to the next sweep.
    due_by = now + timedelta(seconds=2)
    claimed = Alert.objects.filter(pk=alert_id, status=Alert.Status.PENDING, next_attempt_at__lte=due_by).update(
        status=Alert.Status.SENDING, claimed_at=now
    )
    if not claimed:
        # Sent already, claimed by another task, failed, or not due: nothing to do.
        return Alert.objects.filter(pk=alert_id).values_list("status", flat=True).first() or "missing"
    alert = Alert.objects.get(pk=alert_id)
    if not alert.recipients:
        _finish(alert, Alert.Status.FAILED, "No recipients: add PI/admin emails or safety contacts.")
        return Alert.Status.FAILED
    try:
        EmailMessage(
            subject=header_safe(alert.subject),
            body=alert.body,
            to=alert.recipients,
            from_email=settings.DEFAULT_FROM_EMAIL,
        ).send(fail_silently=False)
    except smtplib.SMTPResponseException as error:
        if error.smtp_code in PERMANENT_SMTP_CODES and not isinstance(error, smtplib.SMTPServerDisconnected):
            _finish(alert, Alert.Status.FAILED, f"{error.smtp_code} {error.smtp_error!r}")
            return Alert.Status.FAILED
        return _retry_later(alert, f"{error.smtp_code} {error.smtp_error!r}")
    except (smtplib.SMTPException, OSError) as error:
        return _retry_later(alert, repr(error))
    except (BadHeaderError, ValueError, TypeError) as error:
        # The message itself cannot be sent as it is: retrying would fail the same way.
        _finish(alert, Alert.Status.FAILED, f"Message refused before sending: {error!r}")
        return Alert.Status.FAILED
    except Exception as error:  # anything else ends this attempt, recorded, and is retried
        logger.exception("Alert %s: unexpected error while sending", alert.key)
        return _retry_later(alert, f"Unexpected error: {error!r}")
    _finish(alert, Alert.Status.SENT, "")
    return Alert.Status.SENT


def _finish(alert: Alert, status: str, error: str) -> None:
    now = timezone.now()
    with transaction.atomic():
        Alert.objects.filter(pk=alert.pk).update(
            status=status,
            sent_at=now if status == Alert.Status.SENT else None,
            attempts=alert.attempts + 1,
            last_error=error,
            claimed_at=None,
        )
        AlertAttempt.objects.create(alert=alert, succeeded=status == Alert.Status.SENT, error=error)
        if status == Alert.Status.FAILED:
            escalate(alert, error)
    if status == Alert.Status.FAILED:
        logger.error("Alert %s failed permanently: %s", alert.key, error)


def _retry_later(alert: Alert, error: str) -> str:
    attempts = alert.attempts + 1
    with transaction.atomic():
        AlertAttempt.objects.create(alert=alert, succeeded=False, error=error)
        if attempts >= MAX_ATTEMPTS:
            Alert.objects.filter(pk=alert.pk).update(
                status=Alert.Status.FAILED, attempts=attempts, last_error=error, claimed_at=None
            )
            escalate(alert, error)
            logger.error("Alert %s failed after %s attempts: %s", alert.key, attempts, error)
            return Alert.Status.FAILED
        backoff = settings.ALERT_RETRY_BACKOFF_SECONDS
        wait = int(backoff[min(attempts - 1, len(backoff) - 1)])
        Alert.objects.filter(pk=alert.pk).update(
            status=Alert.Status.PENDING,
            attempts=attempts,
            last_error=error,
            claimed_at=None,
            next_attempt_at=timezone.now() + timedelta(seconds=wait),
        )
    logger.warning("Alert %s: mail failed (%s); retry in %s s", alert.key, error, wait)
    raise TransientFailure(wait)


def sweep() -> int:
    """Free stale claims and enqueue every due pending alert. Run by beat every minute."""
    now = timezone.now()
    Alert.objects.filter(status=Alert.Status.SENDING, claimed_at__lt=now - STALE_CLAIM).update(
        status=Alert.Status.PENDING, claimed_at=None
    )
    due = list(
        Alert.objects.filter(status=Alert.Status.PENDING, next_attempt_at__lte=now).values_list("pk", flat=True)[:500]
    )
    for alert_id in due:
        if not enqueue(alert_id):
            break
    return len(due)


def escalate(alert: Alert, error: str) -> Alert | None:
    """A safety alert that could not be delivered goes to the data managers and the escalation
    address (a new alert of its own), and stays on every PI/admin page until acknowledged."""
    if alert.kind not in SAFETY_KINDS:
        return None
    return queue_alert(
        kind=Alert.Kind.ALERT_ESCALATED,
        key=f"escalated:{alert.key}",
        subject=f"UNDELIVERED safety alert — {alert.subject}",
        body=(
            "A safety alert of SCR-ESCC-01 could not be delivered to its recipients "
            f"({', '.join(alert.recipients) or 'none'}).\nLast error: {error}\n\n"
            "Tell the PI at once, and acknowledge it on the Alerts page.\n\n--- The undelivered alert ---\n"
            f"{alert.subject}\n\n{alert.body}"
        ),
        link="/alerts/",
        recipients=escalation_recipients(),
    )


def unacknowledged_safety_alerts():
    """Safety alerts that failed and no person has acknowledged: the banner on PI/admin pages."""
    return Alert.objects.filter(kind__in=SAFETY_KINDS, status=Alert.Status.FAILED, acknowledged_at__isnull=True)


def acknowledge(*, alert: Alert, user) -> Alert:
    """A PI or data manager acknowledges an undelivered alert (who and when are kept)."""
    if not user.has_perm("scr_escc.view_alerts"):
        raise PermissionDenied
    if alert.status != Alert.Status.FAILED:
        raise ValidationError(_("Only an alert that could not be delivered is acknowledged."))
    with transaction.atomic():
        updated = Alert.objects.filter(pk=alert.pk, acknowledged_at__isnull=True).update(
            acknowledged_by=user, acknowledged_at=timezone.now()
        )
    if not updated:
        raise ValidationError(_("This alert is already acknowledged."))
    return Alert.objects.get(pk=alert.pk)


def alerts_needing_attention():
    """Pending (not yet delivered) and failed alerts, for the PI to see nothing was missed."""
    return Alert.objects.filter(Q(status__in=[Alert.Status.PENDING, Alert.Status.SENDING, Alert.Status.FAILED]))
