"""What monitoring adds to the pages of the apps below it (registered in MonitoringConfig.ready):
the participant page's "Monitoring" card, a record's queries and SDV status under its page, a
flag beside a queried field, and the dashboard's query counts."""

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import Count, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.timezone import localtime
from django.utils.translation import gettext as _

from monitoring import casebook, queries, sdv, selectors
from monitoring.models import QueryStatus, SdvLevel
from monitoring.record_types import type_of

RAISE, ANSWER, VERIFY = queries.RAISE, queries.ANSWER, sdv.VERIFY
_STATUS_ORDER = {QueryStatus.OPEN: 0, QueryStatus.ANSWERED: 1, QueryStatus.CLOSED: 2}


def _may_query(user) -> bool:
    return user.has_perm(RAISE) or user.has_perm(ANSWER)


def participant_panel(request, participant) -> str:
    """The "Monitoring" card: the participant's queries, SDV progress and casebook state."""
    user = request.user
    counts = (
        queries.queries_visible_to(user)
        .filter(participant=participant)
        .aggregate(
            open=Count("pk", filter=Q(status=QueryStatus.OPEN)),
            answered=Count("pk", filter=Q(status=QueryStatus.ANSWERED)),
        )
    )
    progress = sdv.worklist(user, participant=participant)
    lock = casebook.lock_of(participant)
    context = {
        "participant": participant,
        "counts": counts,
        "may_query": _may_query(user),
        "can_raise": user.has_perm(RAISE),
        "query_list_url": reverse("query-list") + f"?participant={participant.subject_id}",
        "progress": progress[0] if progress else None,
        "signature": casebook.latest_signature(participant),
        "locked": bool(lock and lock.locked),
    }
    return render_to_string("monitoring/participant_panel.html", context, request=request)


def record_panel(request, record) -> str:
    """Under a record's own page: its queries (open first) and its source-data verification."""
    record_type = type_of(record)
    if record_type is None:
        return ""
    user = request.user
    record_queries = sorted(queries_of(request, record), key=lambda query: _STATUS_ORDER.get(query.status, 3))
    for query in record_queries:
        query.field_label = capfirst(record_type.field_label(query.field))
    level = sdv.levels()[record_type.code]
    mark = sdv.mark_for(record)
    status = sdv.record_status(mark, level)
    context = {
        "record": record,
        "record_type": record_type,
        "queries": record_queries,
        "can_raise": user.has_perm(RAISE),
        "sdv_level": SdvLevel(level).label,
        "sdv_status": status,
        "mark": mark,
        "changes": labelled_changes(type(record), mark.changes if mark and status == "changed" else []),
        "can_verify": user.has_perm(VERIFY)
        and status in ("unverified", "changed")
        and not getattr(record, "voided", False),
    }
    return render_to_string("monitoring/record_panel.html", context, request=request)


def field_label(model, name: str) -> str:
    """A field's name as people read it; a lesion's key ("lesion T1 (liver)") as it is."""
    try:
        return capfirst(model._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return name


def shown_text(model, name: str, text: str) -> str:
    """A stored value's text (monitoring.values: raw codes, ISO UTC times) as the record's page shows
    it: a choice's label, yes/no in the reader's language, a time in the reader's time zone."""
    try:
        model_field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return text
    if model_field.choices:
        labels = {str(code): label for code, label in model_field.flatchoices}
        return ", ".join(str(labels.get(part, part)) for part in text.split(", ")) if text else text
    if isinstance(model_field, models.BooleanField):
        return {"yes": _("yes"), "no": _("no")}.get(text, text)
    if isinstance(model_field, models.DateTimeField) and text:
        moment = parse_datetime(text)
        return date_format(localtime(moment), "Y-m-d H:i") if moment else text
    return text


def labelled_changes(model, changes: list[dict]) -> list[dict]:
    """Changes ({"field", "old", "new"}) with each field's readable name and values as pages show them."""
    return [
        {
            **change,
            "label": field_label(model, change["field"]),
            "old": shown_text(model, change["field"], change["old"]),
            "new": shown_text(model, change["field"], change["new"]),
        }
        for change in changes
    ]


def queries_of(request, record) -> list:
    """A record's queries as the user may see them, read once per request (the record's panel
    and every flag beside its fields share them)."""
    record_type = type_of(record)
    cache = getattr(request, "_monitoring_queries", None)
    if cache is None:
        cache = request._monitoring_queries = {}
    key = (record_type.code, record.pk)
    if key not in cache:
        cache[key] = list(selectors.queries_on(record, user=request.user))
    return cache[key]


def _field_name(record, field) -> str:
    """`field` by name, or by the label a page shows (pages that list fields by their labels)."""
    fields = record._meta.concrete_fields
    if any(f.name == field for f in fields):
        return field
    return next((f.name for f in fields if str(f.verbose_name) == str(field)), str(field))


def field_flag(request, record, field) -> str:
    """A badge beside a field that an open or answered query names, linking to the query."""
    if type_of(record) is None or not field:
        return ""
    name = _field_name(record, field)
    query = next((q for q in queries_of(request, record) if q.field == name and q.status != QueryStatus.CLOSED), None)
    if query is None:
        return ""
    css = "text-bg-danger" if query.status == QueryStatus.OPEN else "text-bg-warning"
    title = _("Query %(query)s (%(status)s): %(text)s") % {
        "query": f"Q-{query.pk}",
        "status": query.get_status_display(),
        "text": query.text[:120],
    }
    return format_html(
        '<a class="badge {} text-decoration-none" href="{}" title="{}" data-testid="field-flag">Q-{}</a>',
        css,
        reverse("query-detail", args=[query.pk]),
        title,
        query.pk,
    )


def dashboard_panel(request, site) -> str:
    """The dashboard's "Data queries" card, for those who raise or answer queries."""
    if not _may_query(request.user):
        return ""
    counts = selectors.query_counts(request.user, site=site)
    url = reverse("query-list") + (f"?site={site.code}" if site is not None else "")
    context = {"counts": counts, "site": site, "list_url": url}
    # Without the request: the card needs no form, and the context processors (study banner,
    # undelivered alerts) would run again, two more queries on the dashboard's fixed budget.
    return render_to_string("monitoring/dashboard_panel.html", context)
