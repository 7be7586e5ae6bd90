from collections.abc import Callable
from typing import TypeVar

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.generic import FormView, ListView, TemplateView

from scr_escc import services
from scr_escc.alerts import alerts_needing_attention
from scr_escc.audit import StaleEdit, history_entries
from scr_escc.exceptions import DomainError, SignatureRefused
from scr_escc.forms import ConfirmTerminationForm, OpenRandomizationForm, ResumeForm, StudySettingsForm
from scr_escc.models import Alert, PhaseTransition
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
