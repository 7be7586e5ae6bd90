import django_filters
import django_tables2 as tables
from django import forms
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from enrollment.models import Cohort, Participant, ParticipantStatus, Screening
from scr_escc.models import Site


class ScreeningTable(tables.Table):
    screening_number = tables.LinkColumn("screening-detail", args=[tables.A("pk")], verbose_name=_("Screening"))
    site = tables.Column(accessor="site__code", verbose_name=_("Site"), order_by="site__code")
    eligible = tables.Column(verbose_name=_("Verdict"))
    failed_criteria = tables.Column(verbose_name=_("Failed criteria"), orderable=False)
    participant = tables.Column(
        accessor="participant__subject_id",
        verbose_name=_("Subject ID"),
        default="—",
        order_by="participant__subject_id",
    )

    class Meta:
        model = Screening
        fields = (
            "screening_number",
            "site",
            "initials",
            "screening_date",
            "eligible",
            "failed_criteria",
            "participant",
        )
        attrs = {"class": "table table-sm table-hover align-middle"}
        order_by = ("-screening_date",)

    def render_eligible(self, value, record):
        if record.voided:
            return format_html('<span class="badge text-bg-secondary">{}</span>', _("voided"))
        if value:
            return format_html('<span class="badge text-bg-success">{}</span>', _("eligible"))
        return format_html('<span class="badge text-bg-danger">{}</span>', _("not eligible"))

    def render_participant(self, value):
        return format_html('<a href="{}">{}</a>', reverse("participant-detail", args=[value]), value)

    def render_failed_criteria(self, value):
        return ", ".join(value) if value else "—"


class ParticipantTable(tables.Table):
    subject_id = tables.LinkColumn("participant-detail", args=[tables.A("subject_id")], verbose_name=_("Subject ID"))
    site = tables.Column(accessor="site__code", verbose_name=_("Site"), order_by="site__code")
    arm = tables.Column(verbose_name=_("Arm"), default="—", accessor="arm")

    class Meta:
        model = Participant
        fields = ("subject_id", "site", "cohort", "status", "enrollment_date", "arm")
        attrs = {"class": "table table-sm table-hover align-middle"}
        order_by = ("subject_id",)


class ScreeningFilter(django_filters.FilterSet):
    site = django_filters.ModelChoiceFilter(queryset=Site.objects.all(), label=_("Site"))
    eligible = django_filters.BooleanFilter(
        label=_("Eligible"),
        widget=forms.Select(choices=[("", _("any")), ("true", _("eligible")), ("false", _("not eligible"))]),
    )
    enrolled = django_filters.BooleanFilter(
        field_name="participant",
        lookup_expr="isnull",
        exclude=True,
        label=_("Enrolled"),
        widget=forms.Select(choices=[("", _("any")), ("true", _("enrolled")), ("false", _("not enrolled"))]),
    )
    failed = django_filters.CharFilter(
        field_name="failed_criteria", lookup_expr="contains", label=_("Failed criterion"), method="filter_failed"
    )
    q = django_filters.CharFilter(method="filter_q", label=_("Number or initials"))

    class Meta:
        model = Screening
        fields = ["site", "eligible"]

    def __init__(self, *args, sites=None, **kwargs):
        super().__init__(*args, **kwargs)
        if sites is not None:
            self.filters["site"].queryset = sites

    def filter_failed(self, queryset, name, value):
        return queryset.filter(failed_criteria__contains=[value.strip().upper()])

    def filter_q(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(screening_number__icontains=value) | queryset.filter(initials__iexact=value)


class ParticipantFilter(django_filters.FilterSet):
    site = django_filters.ModelChoiceFilter(queryset=Site.objects.all(), label=_("Site"))
    cohort = django_filters.ChoiceFilter(choices=Cohort.choices, label=_("Cohort"))
    status = django_filters.ChoiceFilter(choices=ParticipantStatus.choices, label=_("Status"))
    arm = django_filters.ChoiceFilter(field_name="arm", choices=[("A", "A"), ("B", "B")], label=_("Arm"))

    class Meta:
        model = Participant
        fields = ["site", "cohort", "status", "arm"]

    def __init__(self, *args, sites=None, **kwargs):
        super().__init__(*args, **kwargs)
        if sites is not None:
            self.filters["site"].queryset = sites
