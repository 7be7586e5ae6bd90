import django_filters
import django_tables2 as tables
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_tables2 import RequestConfig

from enrollment.selectors import participant_get_for_user
from safety import selectors, services
from safety.forms import AdverseEventForm, AttributionSignOffForm
from safety.models import AdverseEvent, CtcaeTerm
from scr_escc.audit import ensure_not_voided
from scr_escc.models import Site
from scr_escc.selectors import get_study, sites_visible_to
from scr_escc.views import (
    apply_change,
    refusals_as_messages,
    render_history,
    save_edit,
    void_page,
)

CLINICAL = "scr_escc.enter_clinical_data"
SIGN = "scr_escc.sign_ae_attribution"


class AdverseEventTable(tables.Table):
    id = tables.LinkColumn("ae-detail", args=[tables.A("pk")], verbose_name="#")
    subject = tables.LinkColumn(
        "participant-detail",
        args=[tables.A("participant__subject_id")],
        accessor="participant__subject_id",
        verbose_name=gettext_lazy("Subject"),
        order_by="participant__subject_id",
    )
    site = tables.Column(accessor="participant__site__code", verbose_name=gettext_lazy("Site"))
    term = tables.Column(verbose_name=gettext_lazy("Term"))
    grade = tables.Column(verbose_name=gettext_lazy("Grade"))
    serious = tables.BooleanColumn(verbose_name=gettext_lazy("SAE"))
    treatment_related = tables.BooleanColumn(verbose_name=gettext_lazy("Related"))
    onset_date = tables.DateColumn("Y-m-d", verbose_name=gettext_lazy("Onset"))
    outcome = tables.Column(verbose_name=gettext_lazy("Outcome"))

    class Meta:
        model = AdverseEvent
        fields = (
            "id",
            "subject",
            "site",
            "term",
            "soc",
            "grade",
            "serious",
            "treatment_related",
            "onset_date",
            "outcome",
        )
        attrs = {"class": "table table-sm table-hover align-middle"}
        order_by = ("-onset_date",)
        # The rows are written by this template (the colour of voided and Grade 5 rows, the
        # grade badge): django-tables2 rendering every cell cost about 0.8 ms a row.
        template_name = "safety/ae_table.html"


class AdverseEventFilter(django_filters.FilterSet):
    site = django_filters.ModelChoiceFilter(
        field_name="participant__site", queryset=Site.objects.all(), label=gettext_lazy("Site")
    )
    grade = django_filters.MultipleChoiceFilter(
        choices=[(g, str(g)) for g in range(1, 6)], widget=forms.CheckboxSelectMultiple, label=gettext_lazy("Grade")
    )
    serious = django_filters.BooleanFilter(
        label=gettext_lazy("Serious"),
        widget=forms.Select(
            choices=[("", gettext_lazy("any")), ("true", gettext_lazy("yes")), ("false", gettext_lazy("no"))]
        ),
    )
    treatment_related = django_filters.BooleanFilter(
        label=gettext_lazy("Treatment-related"),
        widget=forms.Select(
            choices=[("", gettext_lazy("any")), ("true", gettext_lazy("yes")), ("false", gettext_lazy("no"))]
        ),
    )
    voided = django_filters.BooleanFilter(
        label=gettext_lazy("Voided"),
        widget=forms.Select(
            choices=[("", gettext_lazy("any")), ("false", gettext_lazy("no")), ("true", gettext_lazy("yes"))]
        ),
    )

    class Meta:
        model = AdverseEvent
        fields = ["site", "grade", "serious", "treatment_related", "voided"]

    def __init__(self, *args, sites=None, **kwargs):
        super().__init__(*args, **kwargs)
        if sites is not None:
            self.filters["site"].queryset = sites


@login_required
def ae_list(request):
    filterset = AdverseEventFilter(
        request.GET,
        queryset=selectors.adverse_event_rows_visible_to(request.user),
        sites=sites_visible_to(request.user),
    )
    table = AdverseEventTable(filterset.qs)
    RequestConfig(request, paginate={"per_page": 50}).configure(table)
    return render(request, "safety/ae_list.html", {"table": table, "filter": filterset})


@permission_required(CLINICAL, raise_exception=True)
def ae_create(request, subject_id):
    participant = participant_get_for_user(request.user, subject_id)
    form = AdverseEventForm(request.POST or None, participant=participant)
    if request.method == "POST" and form.is_valid():
        ae = apply_change(
            form,
            lambda: services.record_adverse_event(participant=participant, data=form.cleaned_data, user=request.user),
        )
        if ae is not None:
            _saved_message(request, ae)
            return redirect("participant-detail", subject_id=participant.subject_id)
    return render(request, "safety/ae_form.html", {"form": form, "participant": participant})


def _saved_message(request, ae):
    text = _("AE saved: %(term)s, grade %(grade)s%(related)s.") % {
        "term": ae.term,
        "grade": ae.grade,
        "related": _(", treatment-related") if ae.treatment_related else "",
    }
    if ae.serious:
        text += " " + _("SAE: an alert to the PI and safety contacts is on its way.")
    if ae.attribution_pending and selectors.counts_toward_stopping_rule(ae):
        text += " " + _(
            "Its attribution awaits an investigator's sign-off; until then this death counts toward the stopping rule."
        )
    if ae.halted_study:
        study = get_study()
        text += " " + _("The stopping rule is reached (%(n)s of %(t)s): the study is halted.") % {
            "n": study.treatment_related_grade5,
            "t": study.stopping_threshold,
        }
    messages.success(request, text)


@login_required
def ae_detail(request, pk):
    ae = selectors.adverse_event_get_for_user(request.user, pk)
    return render(
        request,
        "safety/ae_detail.html",
        {
            "ae": ae,
            "can_edit": request.user.has_perm(CLINICAL) and not ae.voided,
            "can_sign": request.user.has_perm(SIGN) and not ae.voided,
            "counts_toward_stopping_rule": selectors.counts_toward_stopping_rule(ae),
            "grade_text": ae.ctcae_term.grade_text(ae.grade),
        },
    )


@permission_required(CLINICAL, raise_exception=True)
@refusals_as_messages("ae-detail", "pk")
def ae_edit(request, pk):
    ae = selectors.adverse_event_get_for_user(request.user, pk)
    ensure_not_voided(ae)
    form = AdverseEventForm(request.POST or None, instance=ae, participant=ae.participant)
    if request.method == "POST" and form.is_valid():
        saved = save_edit(form, services.update_adverse_event, ae=ae, user=request.user)
        if saved is not None:
            _saved_message(request, saved)
            return redirect("ae-detail", pk=saved.pk)
    return render(request, "safety/ae_form.html", {"form": form, "participant": ae.participant, "ae": ae})


@permission_required(CLINICAL, raise_exception=True)
@refusals_as_messages("ae-detail", "pk")
def ae_void(request, pk):
    ae = selectors.adverse_event_get_for_user(request.user, pk)
    ensure_not_voided(ae)
    return void_page(
        request,
        ae,
        void=services.void_adverse_event,
        record_name="ae",
        template="safety/ae_void.html",
        form_texts={
            "help_text": _("E.g. entered for the wrong participant, duplicate entry."),
            "submit_label": _("Void this AE"),
        },
        done=_("AE voided. It stays in the audit trail."),
        back=reverse("ae-detail", args=[pk]),
    )


@permission_required(SIGN, raise_exception=True)
@refusals_as_messages("ae-detail", "pk")
def ae_sign(request, pk):
    """An investigator of the AE's site (or the PI) e-signs its attribution (SPEC §2, §4)."""
    ae = selectors.adverse_event_get_for_user(request.user, pk)
    ensure_not_voided(ae)
    form = AttributionSignOffForm(request.POST or None, ae=ae)
    if request.method == "POST" and form.is_valid():
        signed = apply_change(
            form,
            lambda: services.sign_attribution(
                ae=ae,
                user=request.user,
                password=form.cleaned_data["password"],
                attributions=form.attributions,
                reason=form.cleaned_data["reason_for_change"],
                expected_version=form.cleaned_data["version"],
                request=request,
            ),
        )
        if signed is not None:
            messages.success(request, _("Attribution signed off."))
            return redirect("ae-detail", pk=ae.pk)
    return render(request, "safety/ae_sign.html", {"form": form, "ae": ae})


@login_required
def ae_history(request, pk):
    ae = selectors.adverse_event_get_for_user(request.user, pk)
    title = f"AE #{ae.pk} {ae.term} ({ae.participant.subject_id})"
    return render_history(request, ae, title=title, back_url=reverse("ae-detail", args=[ae.pk]))


@login_required
def term_search(request):
    """The AE form's term picker: terms matching what was typed, with SOC and grade texts."""
    limit = request.GET.get("limit") or "20"
    if not limit.isdigit() or not 1 <= int(limit) <= 100:
        return JsonResponse({"limit": [_("A whole number from 1 to 100.")]}, status=400)
    terms = selectors.search_terms(request.GET.get("q", "")[:200], limit=int(limit))
    return JsonResponse({"results": [_term_json(t) for t in terms]})


@login_required
def term_detail(request, pk):
    return JsonResponse(_term_json(get_object_or_404(CtcaeTerm, pk=pk)))


def _term_json(term: CtcaeTerm) -> dict:
    return {
        "id": term.pk,
        "term": term.term,
        "soc": term.soc,
        "meddra_code": term.meddra_code,
        "other_specify": term.is_other_specify,
        "definition": term.definition,
        "grades": {str(g): text for g, text in term.grades},
    }
