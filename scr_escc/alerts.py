"""The alert outbox: write in the clinical transaction, send from Celery, never lose, never repeat.

`queue_alert()` is called inside the transaction of the change that causes the alert. The
row commits with the change or not at all; on commit a task is enqueued (a dead broker
neither fails nor hangs the request: the sweeper enqueues the row later). `deliver()` claims
the row by compare-and-set, sends, and marks it sent only after the mail server accepted.

Languages: the text is rendered at write time in every language of settings.LANGUAGES
(`renderings`; `subject`/`body` hold the study's default language) by calling the writer's
`render()` under `translation.override`, so the facts are those of the cause. At the first
claim `deliver()` groups the recipients by language (a user's `language`, else the study's
`default_language`; addresses that are no user's, such as the safety contacts and the
escalation address, get the study default) and freezes the groups in `deliveries`; later
attempts reuse them. Each group is one message. A group is marked sent (its `sent_at`) the
moment the server accepts it, so a retry sends only the groups not yet accepted: no group
twice. Within one attempt the groups are sent in turn: a transient error stops the attempt
(the row returns to pending, with backoff); a permanent one is recorded and the remaining
groups are still sent, then the row is failed and escalated (the error names the languages).
The row is sent only when every group is. As before, a worker dying between the server's
acceptance and the recording of it can cause one repeat of that group (at-least-once).
"""

import logging
import smtplib
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import BadHeaderError, EmailMessage
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from scr_escc.models import Alert, AlertAttempt, Role, User
from scr_escc.selectors import get_study

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
# Kinds that must reach a person: when undelivered they are escalated and bannered.
SAFETY_KINDS = (Alert.Kind.STOPPING_RULE_WARNING, Alert.Kind.STOPPING_RULE_TRIGGERED, Alert.Kind.SAE_REPORTED)
# A claim older than this belongs to a worker that died mid-send; the sweeper frees it.
STALE_CLAIM = timedelta(minutes=5)
PERMANENT_SMTP_CODES = range(500, 600)
# The outcome of sending one language group.
SENT, TRANSIENT, PERMANENT = "sent", "transient", "permanent"
# Called under translation.override(language): returns that language's subject and body.
Render = Callable[[], tuple[str, str]]


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


def study_language() -> str:
    """The study's default language: for users without one and for addresses that are no user's."""
    language = get_study().default_language
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def render_in_every_language(render: Render, *, link: str = "") -> dict[str, dict[str, str]]:
    """{language: {"subject", "body"}} for every language of the site, rendered now."""
    url = f"{settings.SITE_URL}{link}" if link else ""
    renderings = {}
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            subject, body = render()
            tail = "\n\n" + _("Open: %(url)s") % {"url": url} + "\n" if url else "\n"
            renderings[language] = {"subject": header_safe(f"[SCR-ESCC-01] {subject}"), "body": f"{body}{tail}"}
    return renderings


def queue_alert(
    *,
    kind: str,
    key: str,
    subject: str = "",
    body: str = "",
    render: Render | None = None,
    link: str = "",
    recipients: list[str] | None = None,
) -> Alert | None:
    """Write the alert row in the caller's transaction; enqueue its delivery on commit.

    The text is `render()` (called once per language), else `subject` and `body` (lazy
    translations are rendered per language; plain strings are the same in every language).
    Returns None when an alert with this key exists already (never sent twice).
    """
    if Alert.objects.filter(key=key).exists():
        return None
    renderings = render_in_every_language(render or (lambda: (str(subject), str(body))), link=link)
    default = renderings[study_language()]
    alert = Alert.objects.create(
        kind=kind,
        key=key,
        subject=default["subject"],
        body=default["body"],
        renderings=renderings,
        recipients=safety_recipients() if recipients is None else recipients,
        link=link,
    )
    transaction.on_commit(lambda: enqueue(alert.pk), robust=True)
    return alert


def language_groups(emails: list[str]) -> list[dict]:
    """The recipients grouped by language, each group not yet sent: [{"language", "to", "sent_at"}]."""
    default = study_language()
    chosen: dict[str, str] = {}
    users = (
        User.objects.annotate(address=Lower("email"))
        .filter(address__in={email.lower() for email in emails})
        .order_by("-is_active", "pk")
        .values_list("address", "language")
    )
    for address, language in users:
        chosen.setdefault(address, language if language in dict(settings.LANGUAGES) else default)
    groups: dict[str, list[str]] = {}
    for email in emails:
        groups.setdefault(chosen.get(email.lower(), default), []).append(email)
    return [{"language": language, "to": to, "sent_at": None} for language, to in sorted(groups.items())]


def rendering(alert: Alert, language: str) -> dict[str, str]:
    """The alert's subject and body in `language` (rows written before renderings: as stored)."""
    return alert.renderings.get(language) or {"subject": alert.subject, "body": alert.body}


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
    """Claim, send each language group not yet accepted, record. Returns the resulting status;
    raises TransientFailure to retry."""
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
    if not alert.deliveries:
        # The first attempt fixes the groups; every retry sends to the same groups.
        alert.deliveries = language_groups(alert.recipients)
        Alert.objects.filter(pk=alert.pk).update(deliveries=alert.deliveries)
    if not alert.deliveries:
        _finish(alert, Alert.Status.FAILED, "No recipients: add PI/admin emails or safety contacts.")
        return Alert.Status.FAILED
    permanent, transient = _send_groups(alert)
    if permanent:
        sent = [group["language"] for group in alert.deliveries if group["sent_at"]]
        _finish(alert, Alert.Status.FAILED, "; ".join(permanent) + (f" (delivered: {', '.join(sent)})" if sent else ""))
        return Alert.Status.FAILED
    if transient:
        return _retry_later(alert, transient)
    _finish(alert, Alert.Status.SENT, "")
    return Alert.Status.SENT


def _send_groups(alert: Alert) -> tuple[list[str], str]:
    """Send every group not yet accepted, recording each acceptance at once. Returns the
    permanent errors and the transient error that stopped the attempt ("" if none)."""
    permanent: list[str] = []
    several = len(alert.deliveries) > 1
    for group in alert.deliveries:
        if group["sent_at"]:
            continue
        outcome, error = _send_group(alert, group)
        if several and error:
            error = f"[{group['language']}] {error}"
        if outcome == SENT:
            group["sent_at"] = timezone.now().isoformat()
            Alert.objects.filter(pk=alert.pk).update(deliveries=alert.deliveries)
        elif outcome == PERMANENT:
            permanent.append(error)
        else:
            return permanent, error
    return permanent, ""


def _send_group(alert: Alert, group: dict) -> tuple[str, str]:
    """One message to one language group: (SENT | TRANSIENT | PERMANENT, error)."""
    text = rendering(alert, group["language"])
    try:
        EmailMessage(
            subject=header_safe(text["subject"]),
            body=text["body"],
            to=group["to"],
            from_email=settings.DEFAULT_FROM_EMAIL,
        ).send(fail_silently=False)
    except smtplib.SMTPResponseException as error:
        permanent = error.smtp_code in PERMANENT_SMTP_CODES and not isinstance(error, smtplib.SMTPServerDisconnected)
        return (PERMANENT if permanent else TRANSIENT), f"{error.smtp_code} {error.smtp_error!r}"
    except (smtplib.SMTPException, OSError) as error:
        return TRANSIENT, repr(error)
    except (BadHeaderError, ValueError, TypeError) as error:
        # The message itself cannot be sent as it is: retrying would fail the same way.
        return PERMANENT, f"Message refused before sending: {error!r}"
    except Exception as error:  # anything else ends this attempt, recorded, and is retried
        logger.exception("Alert %s: unexpected error while sending", alert.key)
        return TRANSIENT, f"Unexpected error: {error!r}"
    return SENT, ""


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

    def render() -> tuple[str, str]:
        undelivered = rendering(alert, translation.get_language())
        subject = _("UNDELIVERED safety alert — %(subject)s") % {"subject": undelivered["subject"]}
        body = _(
            "A safety alert of SCR-ESCC-01 could not be delivered to its recipients (%(recipients)s).\n"
            "Last error: %(error)s\n\nTell the PI at once, and acknowledge it on the Alerts page.\n\n"
            "--- The undelivered alert ---\n%(subject)s\n\n%(body)s"
        ) % {
            "recipients": ", ".join(alert.recipients) or _("none"),
            "error": error,
            "subject": undelivered["subject"],
            "body": undelivered["body"],
        }
        return subject, body

    return queue_alert(
        kind=Alert.Kind.ALERT_ESCALATED,
        key=f"escalated:{alert.key}",
        render=render,
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
