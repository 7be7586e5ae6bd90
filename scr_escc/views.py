from collections.abc import Callable
from typing import TypeVar

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import FormView, ListView, TemplateView

from scr_escc import exports, services
from scr_escc.alerts import alerts_needing_attention
from scr_escc.audit import StaleEdit, history_entries
from scr_escc.csvexport import TYPE_MEANINGS
from scr_escc.exceptions import DomainError, SignatureRefused
from scr_escc.forms import ConfirmTerminationForm, OpenRandomizationForm, ResumeForm, StudySettingsForm
from scr_escc.models import Alert, ExportRecord, PhaseTransition
from scr_escc.selectors import get_study, sites_visible_to, study_status

T = TypeVar("T")


def apply_validation_error(form, error: ValidationError) -> None:
    """Put a service's ValidationError on the form's fields (or on top when no such field)."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def apply_change(form, change: Callable[[], T]) -> T | None:
    """Run a service call for a valid form: its field errors and a stale edit go on the form.

    Returns what the service returned, or None when it refused (the form then shows why).
    """
    try:
        return change()
    except ValidationError as error:
        apply_validation_error(form, error)
    except StaleEdit as error:
        form.add_error(None, error.message)
    return None


class HomeView(LoginRequiredMixin, TemplateView):
    template_name = "scr_escc/home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["status"] = study_status()
        context["sites"] = sites_visible_to(self.request.user)
        context["transitions"] = PhaseTransition.objects.select_related("by")[:5]
        return context


class StudySettingsView(PermissionRequiredMixin, FormView):
    permission_required = "scr_escc.change_study_settings"
    template_name = "scr_escc/study_settings.html"
    form_class = StudySettingsForm

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["instance"] = get_study()
        return kwargs

    def form_valid(self, form):
        saved = apply_change(
            form,
            lambda: services.update_study_settings(
                user=self.request.user,
                data={f: form.cleaned_data[f] for f in services.STUDY_SETTING_FIELDS},
                reason=form.cleaned_data["reason_for_change"],
                expected_version=form.cleaned_data.get("version"),
            ),
        )
        if saved is None:
            return self.form_invalid(form)
        messages.success(self.request, _("Study settings saved."))
        return redirect("study-settings")


class StudyHistoryView(LoginRequiredMixin, TemplateView):
    template_name = "audit/history.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        study = get_study()
        context.update(record=study, title=_("Study settings and phase"), entries=history_entries(study))
        context["transitions"] = PhaseTransition.objects.select_related("by", "signature")
        return context


class SiteListView(LoginRequiredMixin, ListView):
    template_name = "scr_escc/site_list.html"
    context_object_name = "sites"

    def get_queryset(self):
        return sites_visible_to(self.request.user)


class SiteDetailView(LoginRequiredMixin, TemplateView):
    template_name = "scr_escc/site_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        site = get_object_or_404(sites_visible_to(self.request.user), code=kwargs["code"])
        context["site"] = site
        context["staff"] = site.users.filter(is_active=True).prefetch_related("groups").order_by("username")
        return context


class PhaseDecisionsView(LoginRequiredMixin, TemplateView):
    """The PI's signed decisions and the admin's resume (SPEC §5), each a service call."""

    template_name = "scr_escc/phase_decisions.html"
    FORMS = {
        "open_randomization": ("scr_escc.open_randomization", OpenRandomizationForm),
        "confirm_termination": ("scr_escc.confirm_termination", ConfirmTerminationForm),
        "resume": ("scr_escc.resume_study", ResumeForm),
    }

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not any(request.user.has_perm(p) for p, _ in self.FORMS.values()):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, bound=None, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        forms_ = {}
        for action, (perm, form_class) in self.FORMS.items():
            if user.has_perm(perm):
                forms_[action] = bound if bound is not None and bound.prefix_action == action else form_class()
        context.update(
            status=study_status(),
            forms=forms_,
            meaning=services.OPEN_RANDOMIZATION_MEANING,
            transitions=PhaseTransition.objects.select_related("by", "signature")[:10],
        )
        return context

    def post(self, request, *args, **kwargs):
        action = request.POST.get("action")
        if action not in self.FORMS:
            raise PermissionDenied
        perm, form_class = self.FORMS[action]
        if not request.user.has_perm(perm):
            raise PermissionDenied
        form = form_class(request.POST)
        form.prefix_action = action
        if form.is_valid():
            try:
                if action == "open_randomization":
                    services.open_randomization(user=request.user, password=form.cleaned_data["password"])
                    messages.success(request, _("Signed. Randomization is open."))
                elif action == "confirm_termination":
                    services.confirm_termination(
                        user=request.user, password=form.cleaned_data["password"], reason=form.cleaned_data["reason"]
                    )
                    messages.success(request, _("Signed. The study is terminated."))
                else:
                    services.resume_study(user=request.user, reason=form.cleaned_data["reason"])
                    messages.success(request, _("The study is resumed."))
                return redirect("study-decisions")
            except SignatureRefused as refusal:
                form.add_error("password", refusal.message)
            except DomainError as refusal:
                form.add_error(None, refusal.message)
            except ValidationError as error:
                apply_validation_error(form, error)
        return self.render_to_response(self.get_context_data(bound=form))


class AlertListView(PermissionRequiredMixin, ListView):
    permission_required = "scr_escc.view_alerts"
    template_name = "scr_escc/alert_list.html"
    context_object_name = "alerts"
    paginate_by = 50

    def get_queryset(self):
        alerts = Alert.objects.order_by("-created_at", "-pk")
        status = self.request.GET.get("status")
        if status in Alert.Status.values:
            alerts = alerts.filter(status=status)
        kind = self.request.GET.get("kind")
        if kind in Alert.Kind.values:
            alerts = alerts.filter(kind=kind)
        return alerts

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            kinds=Alert.Kind.choices,
            statuses=Alert.Status.choices,
            needing_attention=alerts_needing_attention().count(),
        )
        return context


class DashboardView(PermissionRequiredMixin, TemplateView):
    """The PI safety dashboard: PI, monitor and admin; read-only for everyone."""

    permission_required = "scr_escc.view_safety_dashboard"
    template_name = "scr_escc/dashboard.html"

    def get_site(self):
        code = self.request.GET.get("site")
        if not code:
            return None
        return get_object_or_404(sites_visible_to(self.request.user), code=code)

    def get_context_data(self, **kwargs):
        from scr_escc import charts
        from scr_escc.dashboard import consort_svg, dashboard_summary

        context = super().get_context_data(**kwargs)
        site = self.get_site()
        summary = dashboard_summary(site=site)
        links = dashboard_links(site)
        cohort_labels = {"run_in": _("Safety run-in"), "randomized": _("Randomized phase")}
        context.update(
            s=summary,
            site=site,
            sites=sites_visible_to(self.request.user),
            links=links,
            consort=mark_safe(consort_svg(summary, links=links)),  # noqa: S308 - built from escaped parts
            enrollment_chart=mark_safe(charts.cumulative_enrollment(summary.timeline, labels=cohort_labels)),  # noqa: S308
            site_chart=mark_safe(charts.enrollment_by_site(summary.by_site, labels=cohort_labels)),  # noqa: S308
            grade_chart=mark_safe(charts.aes_by_grade(summary.grade_counts)),  # noqa: S308
            groups=[("run_in", _("Run-in")), ("A", _("Arm A")), ("B", _("Arm B"))],
            grades=[0, 1, 2, 3, 4, 5],
        )
        return context


def dashboard_links(site) -> dict[str, str]:
    suffix = f"&site={site.pk}" if site else ""
    return {
        "screened": f"{reverse('screening-list')}?{suffix.lstrip('&')}",
        "not_eligible": f"{reverse('screening-list')}?eligible=false{suffix}",
        "eligible": f"{reverse('screening-list')}?eligible=true{suffix}",
        "run_in": f"{reverse('participant-list')}?cohort=run_in{suffix}",
        "randomized": f"{reverse('participant-list')}?cohort=randomized{suffix}",
        "A": f"{reverse('participant-list')}?arm=A{suffix}",
        "B": f"{reverse('participant-list')}?arm=B{suffix}",
        "run_in_on_study": f"{reverse('participant-list')}?cohort=run_in&status=on_study{suffix}",
        "related_grade5": f"{reverse('ae-list')}?grade=5&treatment_related=true{suffix}",
        "related_grade3": f"{reverse('ae-list')}?grade=3&grade=4&grade=5&treatment_related=true{suffix}",
        "saes": f"{reverse('ae-list')}?serious=true&voided=false{suffix}",
        "deaths": f"{reverse('ae-list')}?grade=5&voided=false{suffix}",
        "aes": f"{reverse('ae-list')}?voided=false{suffix}",
        "failed": f"{reverse('screening-list')}?failed=",
        "alerts": reverse("alert-list"),
    }


class ConsortSvgView(DashboardView):
    def render_to_response(self, context, **kwargs):
        from scr_escc.dashboard import consort_svg

        svg = consort_svg(context["s"])
        response = HttpResponse('<?xml version="1.0" encoding="UTF-8"?>\n' + svg, content_type="image/svg+xml")
        response["Content-Disposition"] = 'attachment; filename="scr-escc-01-consort.svg"'
        return response

    def get_context_data(self, **kwargs):
        from scr_escc.dashboard import dashboard_summary

        return {"s": dashboard_summary(site=self.get_site())}


class ExportListView(PermissionRequiredMixin, TemplateView):
    """The data manager's page: every dataset with its row count and download buttons."""

    permission_required = exports.EXPORT_PERMISSION
    template_name = "scr_escc/exports.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["datasets"] = exports.datasets_with_counts()
        context["recent"] = ExportRecord.objects.select_related("user")[:20]
        return context


class ExportDownloadView(PermissionRequiredMixin, View):
    permission_required = exports.EXPORT_PERMISSION

    def get(self, request, dataset):
        export = exports.start_export(
            user=request.user, dataset=dataset, deidentified=exports.wants_deidentified(request.GET)
        )
        return exports.streaming_response(export)


class DataDictionaryView(LoginRequiredMixin, TemplateView):
    """What every exported column means: name, meaning, type, allowed values (for any signed-in user)."""

    template_name = "scr_escc/data_dictionary.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["datasets"] = [exports.DATASETS[name] for name in exports.ORDER]
        context["types"] = TYPE_MEANINGS
        return context
