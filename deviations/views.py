import django_filters
import django_tables2 as tables
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_tables2 import RequestConfig

from deviations import selectors, services
from deviations.forms import DeviationForm
from deviations.models import DeviationCategory, ProtocolDeviation
from enrollment.selectors import participant_get_for_user
from scr_escc.audit import ensure_not_voided
from scr_escc.models import Site
from scr_escc.selectors import sites_visible_to
from scr_escc.views import apply_change, refusals_as_messages, render_history, save_edit, void_page

CLINICAL = "scr_escc.enter_clinical_data"
ANY = [("", gettext_lazy("any")), ("true", gettext_lazy("yes")), ("false", gettext_lazy("no"))]


class DeviationTable(tables.Table):
    id = tables.LinkColumn("deviation-detail", args=[tables.A("pk")], verbose_name="#")
    site = tables.Column(accessor="site__code", verbose_name=gettext_lazy("Site"), order_by="site__code")
    participant = tables.Column(accessor="participant__subject_id", verbose_name=gettext_lazy("Subject"), default="—")
    deviation_date = tables.DateColumn("Y-m-d", verbose_name=gettext_lazy("Date"))
    important = tables.BooleanColumn(verbose_name=gettext_lazy("Important"))

    class Meta:
        model = ProtocolDeviation
        fields = ("id", "site", "participant", "deviation_date", "category", "important", "description")
        attrs = {"class": "table table-sm table-hover align-middle"}
        order_by = ("-deviation_date",)
        row_attrs = {"class": lambda record: "text-decoration-line-through text-muted" if record.voided else ""}

    def render_description(self, value):
        return value if len(value) <= 90 else value[:87] + "…"


class DeviationFilter(django_filters.FilterSet):
    site = django_filters.ModelChoiceFilter(queryset=Site.objects.all(), label=gettext_lazy("Site"))
    category = django_filters.ChoiceFilter(choices=DeviationCategory.choices, label=gettext_lazy("Category"))
    important = django_filters.BooleanFilter(label=gettext_lazy("Important"), widget=forms.Select(choices=ANY))
    voided = django_filters.BooleanFilter(label=gettext_lazy("Voided"), widget=forms.Select(choices=ANY))

    class Meta:
        model = ProtocolDeviation
        fields = ["site", "category", "important", "voided"]

    def __init__(self, *args, sites=None, **kwargs):
        super().__init__(*args, **kwargs)
        if sites is not None:
            self.filters["site"].queryset = sites


@login_required
def deviation_list(request):
    sites = sites_visible_to(request.user)
    filterset = DeviationFilter(request.GET, queryset=selectors.deviations_visible_to(request.user), sites=sites)
    table = DeviationTable(filterset.qs)
    RequestConfig(request, paginate={"per_page": 25}).configure(table)
    context = {"table": table, "filter": filterset, "can_edit": request.user.has_perm(CLINICAL)}
    return render(request, "deviations/deviation_list.html", context)


@permission_required(CLINICAL, raise_exception=True)
def deviation_create(request):
    subject_id = request.GET.get("participant") or request.POST.get("participant")
    participant = participant_get_for_user(request.user, subject_id) if subject_id else None
    sites = sites_visible_to(request.user).filter(active=True)
    form = DeviationForm(request.POST or None, sites=sites, participant=participant)
    if request.method == "POST" and form.is_valid():
        deviation = apply_change(
            form,
            lambda: services.record_deviation(
                data=form.cleaned_data, user=request.user, site=form.cleaned_data.get("site"), participant=participant
            ),
        )
        if deviation is not None:
            messages.success(request, _("Protocol deviation recorded."))
            return redirect("deviation-detail", pk=deviation.pk)
    return render(request, "deviations/deviation_form.html", {"form": form, "participant": participant})


@login_required
def deviation_detail(request, pk):
    deviation = selectors.deviation_get_for_user(request.user, pk)
    can_edit = request.user.has_perm(CLINICAL) and not deviation.voided
    return render(request, "deviations/deviation_detail.html", {"deviation": deviation, "can_edit": can_edit})


@permission_required(CLINICAL, raise_exception=True)
@refusals_as_messages("deviation-detail", "pk")
def deviation_edit(request, pk):
    deviation = selectors.deviation_get_for_user(request.user, pk)
    ensure_not_voided(deviation)
    form = DeviationForm(request.POST or None, instance=deviation)
    if request.method == "POST" and form.is_valid():
        if save_edit(form, services.update_deviation, deviation=deviation, user=request.user) is not None:
            messages.success(request, _("Deviation corrected."))
            return redirect("deviation-detail", pk=pk)
    return render(request, "deviations/deviation_form.html", {"form": form, "deviation": deviation})


@permission_required(CLINICAL, raise_exception=True)
@refusals_as_messages("deviation-detail", "pk")
def deviation_void(request, pk):
    deviation = selectors.deviation_get_for_user(request.user, pk)
    ensure_not_voided(deviation)
    return void_page(
        request,
        deviation,
        void=services.void_deviation,
        record_name="deviation",
        template="deviations/deviation_void.html",
        form_texts={"help_text": _("E.g. entered twice."), "submit_label": _("Void this deviation")},
        done=_("Deviation voided. It stays in the log and the audit trail."),
        back=reverse("deviation-detail", args=[pk]),
    )


@login_required
def deviation_history(request, pk):
    deviation = selectors.deviation_get_for_user(request.user, pk)
    back_url = reverse("deviation-detail", args=[pk])
    return render_history(request, deviation, title=_("Deviation #%(n)s") % {"n": pk}, back_url=back_url)
