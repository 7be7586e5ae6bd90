"""The query list: its table and its filters (the filters' rules are monitoring.selectors')."""

import django_filters
import django_tables2 as tables
from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator, capfirst
from django.utils.translation import gettext_lazy as _

from enrollment.models import Participant
from monitoring import selectors
from monitoring.models import Query, QueryStatus, QueryStep
from monitoring.record_types import RECORD_TYPES
from monitoring.sdv import monitoring_settings
from scr_escc.models import Site, User

NOWRAP = {"td": {"class": "text-nowrap"}}
STATUS_BADGES = {QueryStatus.OPEN: "text-bg-danger", QueryStatus.ANSWERED: "text-bg-warning", QueryStatus.CLOSED: ""}
STEP_LABELS = dict(QueryStep.Action.choices)


def with_last_step(queryset):
    """The query rows as the list shows them: raiser, participant, site and the latest step."""
    last = QueryStep.objects.filter(query=OuterRef("pk")).order_by("-at", "-pk")
    return queryset.select_related("raised_by", "participant", "site").annotate(
        last_action=Subquery(last.values("action")[:1]), last_at=Subquery(last.values("at")[:1])
    )


def record_url(query) -> str:
    """The page of the record a query is about, without reading the record: every record page's
    address needs only its pk, a participant's its subject ID (the query's participant)."""
    record_type = RECORD_TYPES[query.record_type]
    if record_type.model is Participant:
        return record_type.url(query.participant)
    return record_type.url(record_type.model(pk=query.record_id))


def status_badge(query) -> str:
    css = STATUS_BADGES.get(query.status) or "text-bg-secondary"
    return format_html('<span class="badge {}" data-testid="query-status">{}</span>', css, query.get_status_display())


def raiser_text(query) -> str:
    if query.raised_by is None:
        return format_html('{} <span class="text-muted small">({})</span>', _("system"), query.rule)
    return query.raised_by.get_full_name() or query.raised_by.username


class QueryTable(tables.Table):
    id = tables.Column(verbose_name=_("Query"), attrs=NOWRAP)
    participant = tables.Column(
        accessor="participant__subject_id",
        verbose_name=_("Participant"),
        default="—",
        order_by="participant__sequence",
        attrs=NOWRAP,
    )
    site = tables.Column(accessor="site__code", verbose_name=_("Site"), order_by="site__code")
    record = tables.Column(
        empty_values=(), verbose_name=_("Record"), order_by=("record_type", "record_id"), attrs=NOWRAP
    )
    field = tables.Column(verbose_name=_("Field"), empty_values=())
    text = tables.Column(verbose_name=_("Question"), orderable=False)
    status = tables.Column(verbose_name=_("Status"), attrs=NOWRAP)
    raised_by = tables.Column(empty_values=(), verbose_name=_("Raised by"), order_by=("raised_by__username", "rule"))
    raised_at = tables.DateTimeColumn("Y-m-d", verbose_name=_("Raised"), attrs=NOWRAP)
    age = tables.Column(empty_values=(), verbose_name=_("Age (days)"), order_by=("-raised_at",))
    last_step = tables.Column(empty_values=(), verbose_name=_("Last step"), order_by=("last_at",), attrs=NOWRAP)

    class Meta:
        model = Query
        fields = ("id", "participant", "site", "record", "field", "text", "status", "raised_by", "raised_at")
        attrs = {"class": "table table-sm table-hover align-middle"}
        row_attrs = {"data-testid": "query-row"}
        order_by = ("-raised_at",)
        empty_text = _("No queries.")

    def render_id(self, record):
        return format_html(
            '<a href="{}" data-testid="query-link">Q-{}</a>', reverse("query-detail", args=[record.pk]), record.pk
        )

    def render_participant(self, value):
        return format_html('<a href="{}">{}</a>', reverse("participant-detail", args=[value]), value)

    def render_record(self, record):
        record_type = RECORD_TYPES.get(record.record_type)
        if record_type is None:
            return f"{record.record_type} #{record.record_id}"
        return format_html('<a href="{}">{} #{}</a>', record_url(record), record_type.label, record.record_id)

    def render_field(self, value, record):
        record_type = RECORD_TYPES.get(record.record_type)
        return capfirst(record_type.field_label(value)) if record_type else value

    def render_text(self, value):
        return Truncator(value).chars(80)

    def render_status(self, record):
        return status_badge(record)

    def render_raised_by(self, record):
        return raiser_text(record)

    def render_age(self, record):
        return (timezone.now() - record.raised_at).days

    def render_last_step(self, record):
        if not record.last_action:
            return "—"
        when = timezone.localtime(record.last_at).strftime("%Y-%m-%d")
        return f"{STEP_LABELS.get(record.last_action, record.last_action)} {when}"


def _choice_filter(label, choices, method):
    return django_filters.ChoiceFilter(label=label, choices=choices, method=method, empty_label=_("any"))


class QueryFilter(django_filters.FilterSet):
    site = django_filters.ModelChoiceFilter(
        queryset=Site.objects.all(), to_field_name="code", label=_("Site"), empty_label=_("any")
    )
    status = _choice_filter(_("Status"), QueryStatus.choices, "filter_selector")
    record_type = _choice_filter(_("Record type"), [], "filter_selector")
    raiser = _choice_filter(_("Raised by"), [], "filter_selector")
    older_than = _choice_filter(
        _("Older than"),
        [(days, _("%(days)s days") % {"days": days}) for days in selectors.AGE_BUCKETS],
        "filter_selector",
    )
    participant = django_filters.CharFilter(
        field_name="participant__subject_id", lookup_expr="iexact", label=_("Participant")
    )

    class Meta:
        model = Query
        fields = ["site", "status", "record_type", "raiser", "older_than", "participant"]

    def __init__(self, *args, sites=None, **kwargs):
        super().__init__(*args, **kwargs)
        if sites is not None:
            self.filters["site"].queryset = sites
        self.filters["record_type"].extra["choices"] = [(code, t.label) for code, t in RECORD_TYPES.items()]
        # The buckets, and the study's reminder age (the daily digest links to it).
        days = sorted({*map(int, selectors.AGE_BUCKETS), monitoring_settings().query_digest_days})
        self.filters["older_than"].extra["choices"] = [(str(d), _("%(days)s days") % {"days": d}) for d in days]
        raisers = User.objects.filter(pk__in=self.queryset.values("raised_by")).order_by("username")
        self.filters["raiser"].extra["choices"] = [("system", _("system (data checks)"))] + [
            (str(user.pk), user.get_full_name() or user.username) for user in raisers
        ]

    def filter_selector(self, queryset, name, value):
        argument = {"older_than": "older_than_days"}.get(name, name)
        return selectors.filter_queries(queryset, **{argument: value})
