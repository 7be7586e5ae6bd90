"""What the monitoring pages and API read: query lists and counts, a record's queries."""

from datetime import timedelta
from statistics import median

from django.db.models import Count, Min, Q
from django.utils import timezone

from monitoring.models import Query, QueryStatus, QueryStep
from monitoring.queries import queries_visible_to
from monitoring.record_types import type_of

AGE_BUCKETS = {"7": 7, "14": 14, "30": 30}


def filter_queries(
    queryset, *, status=None, record_type=None, raiser=None, older_than_days=None, site=None, participant=None
):
    """The query list's filters: status, record type, raiser ("system", or a user's pk), age."""
    if status:
        queryset = queryset.filter(status=status)
    if record_type:
        queryset = queryset.filter(record_type=record_type)
    if raiser == "system":
        queryset = queryset.filter(raised_by__isnull=True)
    elif raiser:
        queryset = queryset.filter(raised_by_id=raiser)
    if older_than_days:
        queryset = queryset.filter(raised_at__lte=timezone.now() - timedelta(days=int(older_than_days)))
    if site is not None:
        queryset = queryset.filter(site=site)
    if participant is not None:
        queryset = queryset.filter(participant=participant)
    return queryset


def query_counts(user, *, site=None) -> dict:
    """Open, answered and closed counts, and the median days from raising to the first answer."""
    queries = filter_queries(queries_visible_to(user), site=site)
    counts = queries.aggregate(
        open=Count("pk", filter=Q(status=QueryStatus.OPEN)),
        answered=Count("pk", filter=Q(status=QueryStatus.ANSWERED)),
        closed=Count("pk", filter=Q(status=QueryStatus.CLOSED)),
        oldest_open=Min("raised_at", filter=Q(status=QueryStatus.OPEN)),
    )
    first_answers = (
        QueryStep.objects.filter(query__in=queries, action=QueryStep.Action.ANSWERED)
        .values("query_id", "query__raised_at")
        .annotate(first=Min("at"))
    )
    days = [(row["first"] - row["query__raised_at"]).total_seconds() / 86400 for row in first_answers]
    counts["median_days_to_answer"] = round(median(days), 1) if days else None
    counts["answered_ever"] = len(days)
    oldest = counts.pop("oldest_open")
    counts["oldest_open_days"] = (timezone.now() - oldest).days if oldest else None
    return counts


def queries_on(record, *, user, open_only: bool = False):
    """The queries on one record (all its fields), newest first, as the user may see them."""
    record_type = type_of(record)
    if record_type is None:
        return Query.objects.none()
    queries = queries_visible_to(user).filter(record_type=record_type.code, record_id=record.pk)
    if open_only:
        queries = queries.exclude(status=QueryStatus.CLOSED)
    return queries.select_related("raised_by").order_by("-raised_at", "-pk")
