from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.generic import FormView, ListView, TemplateView

from scr_escc import alerts, phases, services
from scr_escc.audit import StaleEdit, history_entries
from scr_escc.exceptions import DomainError, SignatureRefused
from scr_escc.forms import (
    AmendProtocolForm,
    ConfirmTerminationForm,
    OpenRandomizationForm,
    RequestResumeForm,
    SignResumeForm,
    StudySettingsForm,
    VoidRecordForm,
)
from scr_escc.models import Alert, PhaseTransition, ProtocolAmendment
from scr_escc.navigation import home_panels_for
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
    """Run a service call for a valid form: every refusal goes on the form.

    Field errors go next to their field, a wrong signing password on the password field, a
    stale edit or a refusal of the study's state on top. Returns what the service returned,
    or None when it refused (the form then shows why).
    """
    try:
        return change()
    except ValidationError as error:
        apply_validation_error(form, error)
    except SignatureRefused as refusal:
        form.add_error("password" if "password" in form.fields else None, refusal.message)
        form.refusal_status = refusal.status_code
    except StaleEdit as refusal:
        form.add_error(None, refusal.message)
        form.refusal_status = 409
    except DomainError as refusal:
        form.add_error(None, refusal.message)
        form.refusal_status = refusal.status_code
    return None


def save_edit(form, update: Callable[..., T], **record) -> T | None:
    """An edit page's save: the service gets the form's values, reason for change and the
    version the user saw (stale edits refused); refusals go on the form (apply_change)."""
    return apply_change(
        form,
        lambda: update(
            **record,
            data=form.cleaned_data,
            reason=form.cleaned_data["reason_for_change"],
            expected_version=form.cleaned_data.get("version"),
        ),
    )


def void_page(request, record, *, void, record_name: str, template: str, form_texts: dict, done: str, back: str):
    """A record's void page: the reason, then `void(<record_name>=record, reason, user,
    expected_version)`; refusals on the form; after it, `done` on the record's page `back`."""
    form = VoidRecordForm(request.POST or None, initial={"version": record.version}, **form_texts)
    if request.method == "POST" and form.is_valid():
        voided = apply_change(
            form,
            lambda: void(
                **{record_name: record},
                reason=form.cleaned_data["reason"],
                user=request.user,
                expected_version=form.cleaned_data.get("version"),
            ),
        )
        if voided is not None:
            messages.success(request, done)
            return redirect(back)
    return render(request, template, {"form": form, record_name: record})


def render_history(request, record, *, title: str, back_url: str):
    """A record's history page: every change, who, when, why, old → new (SPEC §9)."""
    context = {"record": record, "title": title, "entries": history_entries(record), "back_url": back_url}
    return render(request, "audit/history.html", context)


def refusals_as_messages(url_name: str, *kwarg_names: str):
    """Page views: a refusal of the trial's state (DomainError) becomes an error message on
    the record's page (`url_name` with the view's `kwarg_names`), the one way pages show it;
    the API answers the same refusal with 409 (scr_escc.api.exception_handler)."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            try:
                return view(request, *args, **kwargs)
            except DomainError as refusal:
                messages.error(request, refusal.message)
                return redirect(url_name, *(kwargs[name] for name in kwarg_names))

        return wrapper

    return decorator


class HomeView(LoginRequiredMixin, TemplateView):
    template_name = "scr_escc/home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["status"] = study_status()
        context["sites"] = sites_visible_to(self.request.user)
        context["transitions"] = PhaseTransition.objects.select_related("by")[:5]
        context["panels"] = home_panels_for(self.request)
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
        saved = save_edit(form, services.update_study_settings, user=self.request.user)
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
    # decision → (permission, form). The study's phase decides which are offered (phases.decisions_available).
    FORMS = {
        "open_randomization": ("scr_escc.open_randomization", OpenRandomizationForm),
        "confirm_termination": ("scr_escc.confirm_termination", ConfirmTerminationForm),
        "request_resume": ("scr_escc.resume_study", RequestResumeForm),
        "sign_resume": ("scr_escc.sign_resume", SignResumeForm),
        "amend_protocol": ("scr_escc.amend_protocol", AmendProtocolForm),
    }
    DONE = {
        "open_randomization": _("Signed. Randomization is open."),
        "confirm_termination": _("Signed. The study is terminated."),
        "request_resume": _("Resume requested. The PI's e-signature resumes the study."),
        "sign_resume": _("Signed. The study is resumed."),
        "amend_protocol": _("Signed. The protocol amendment is in force."),
    }

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not any(request.user.has_perm(p) for p, _ in self.FORMS.values()):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, bound=None, **kwargs):
        context = super().get_context_data(**kwargs)
        study = get_study()
        available = phases.decisions_available(study)
        forms_ = {}
        for action, (perm, form_class) in self.FORMS.items():
            if bound is not None and bound.decision == action:
                forms_[action] = bound  # a refused decision stays on screen with its reason
            elif self.request.user.has_perm(perm) and action in available:
                forms_[action] = form_class(initial={f: getattr(study, f) for f in phases.LIMIT_FIELDS})
        context.update(
            status=study_status(),
            study_row=study,
            forms=forms_,
            transitions=PhaseTransition.objects.select_related("by", "signature")[:10],
            amendments=ProtocolAmendment.objects.select_related("signature")[:10],
        )
        return context

    def post(self, request, *args, **kwargs):
        action = request.POST.get("action")
        if action not in self.FORMS or not request.user.has_perm(self.FORMS[action][0]):
            raise PermissionDenied
        form = self.FORMS[action][1](request.POST)
        if form.is_valid() and apply_change(form, lambda: self.decide(action, form.cleaned_data)) is not None:
            messages.success(request, self.DONE[action])
            return redirect("study-decisions")
        # A refusal of the study's state answers 409, a wrong signing password 403, bad input 200.
        status = getattr(form, "refusal_status", 200)
        return self.render_to_response(self.get_context_data(bound=form), status=status)

    def decide(self, action: str, data: dict):
        user, request = self.request.user, self.request
        if action == "open_randomization":
            return phases.open_randomization(user=user, password=data["password"], request=request)
        if action == "confirm_termination":
            return phases.confirm_termination(
                user=user, password=data["password"], reason=data["reason"], request=request
            )
        if action == "request_resume":
            return phases.request_resume(user=user, reason=data["reason"])
        if action == "sign_resume":
            return phases.resume_study(user=user, password=data["password"], request=request)
        return phases.amend_protocol(
            user=user,
            password=data["password"],
            reference=data["reference"],
            changes={f: data[f] for f in phases.LIMIT_FIELDS},
            reason=data["reason"],
            request=request,
        )


@require_POST
@permission_required("scr_escc.view_alerts", raise_exception=True)
def acknowledge_alert(request, pk):
    alert = get_object_or_404(Alert, pk=pk)
    try:
        alerts.acknowledge(alert=alert, user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Alert acknowledged."))
    return redirect("alert-list")


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
            needing_attention=alerts.alerts_needing_attention().count(),
        )
        return context
