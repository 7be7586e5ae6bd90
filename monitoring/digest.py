"""The daily e-mail to each site of its queries unanswered for N days (one mail a site a day)."""

from datetime import timedelta

from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from monitoring.models import Query, QueryStatus
from monitoring.record_types import RECORD_TYPES
from monitoring.sdv import monitoring_settings
from scr_escc.alerts import queue_alert
from scr_escc.models import Alert, Role, Site

SHOWN = 50  # queries listed in one mail; the rest is counted


def site_staff_emails(site: Site) -> list[str]:
    groups = Group.objects.filter(name__in=[Role.COORDINATOR, Role.INVESTIGATOR])
    return sorted(
        set(site.users.filter(is_active=True, groups__in=groups).exclude(email="").values_list("email", flat=True))
    )


def send_query_digests() -> int:
    """Queue today's digest for every site with open queries at least N days old; returns how many."""
    days = monitoring_settings().query_digest_days
    cutoff = timezone.now() - timedelta(days=days)
    today = timezone.localdate()
    old = Query.objects.filter(status=QueryStatus.OPEN, raised_at__lte=cutoff).select_related("participant", "site")
    by_site: dict[Site, list[Query]] = {}
    for query in old.order_by("raised_at", "pk"):
        by_site.setdefault(query.site, []).append(query)
    queued = 0
    for site, queries in by_site.items():
        recipients = site_staff_emails(site)
        if not recipients:
            continue
        link = reverse("query-list") + f"?site={site.code}&status=open&older_than={days}"
        try:  # a run that overlaps another (a retried task) finds the day's row and moves on
            with transaction.atomic():
                alert = queue_alert(
                    kind=Alert.Kind.QUERY_DIGEST,
                    key=f"query_digest:{site.code}:{today.isoformat()}",
                    render=_renderer(site, queries, days),
                    link=link,
                    recipients=recipients,
                )
        except IntegrityError:
            alert = None
        queued += alert is not None
    return queued


def _renderer(site: Site, queries: list[Query], days: int):
    def render():
        subject = ngettext(
            "%(site)s: %(count)d data query open for %(days)d days or more",
            "%(site)s: %(count)d data queries open for %(days)d days or more",
            len(queries),
        ) % {
            "site": site.code,
            "count": len(queries),
            "days": days,
        }
        now = timezone.now()
        lines = [
            _("These queries at %(site)s wait for an answer. Please answer them in the trial system.")
            % {"site": site.name},
            "",
        ]
        for query in queries[:SHOWN]:
            record_type = RECORD_TYPES[query.record_type]
            where = query.participant.subject_id if query.participant else site.code
            field = f" · {record_type.field_label(query.field)}" if query.field else ""
            age = (now - query.raised_at).days
            lines.append(
                _("Q-%(pk)d · %(where)s · %(type)s #%(record)d%(field)s · %(age)d days: %(text)s")
                % {
                    "pk": query.pk,
                    "where": where,
                    "type": record_type.label,
                    "record": query.record_id,
                    "field": field,
                    "age": age,
                    "text": query.text[:200],
                }
            )
        if len(queries) > SHOWN:
            lines.append(_("… and %(more)d more.") % {"more": len(queries) - SHOWN})
        return subject, "\n".join(lines)

    return render
