from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_tables2 import RequestConfig

from enrollment import selectors, services
from enrollment.eligibility import CRITERIA, describe
from enrollment.forms import CompleteForm, DeathForm, ScreeningForm, WithdrawForm
from enrollment.panels import render_participant_panels
from enrollment.tables import ParticipantFilter, ParticipantTable, ScreeningFilter, ScreeningTable
from scr_escc.audit import ensure_not_voided
from scr_escc.selectors import sites_visible_to
from scr_escc.views import (
    apply_change,
    refusals_as_messages,
    render_history,
    save_edit,
    void_page,
)

CLINICAL = "scr_escc.enter_clinical_data"


@login_required
def screening_list(request):
    sites = sites_visible_to(request.user)
    filterset = ScreeningFilter(request.GET, queryset=selectors.screenings_visible_to(request.user), sites=sites)
    table = ScreeningTable(filterset.qs)
    RequestConfig(request, paginate={"per_page": 25}).configure(table)
    return render(request, "enrollment/screening_list.html", {"table": table, "filter": filterset})


@permission_required(CLINICAL, raise_exception=True)
def screening_create(request, previous_pk=None):
    sites = sites_visible_to(request.user).filter(active=True)
    previous = selectors.screening_get_for_user(request.user, previous_pk) if previous_pk else None
    initial = {}
    if previous is not None:
        initial = {f: getattr(previous, f) for f in ("initials", "date_of_birth", "sex")}
        initial["site"] = previous.site
    form = ScreeningForm(request.POST or None, sites=sites, initial=initial)
    if request.method == "POST" and form.is_valid():
        screening = apply_change(
            form,
            lambda: services.create_screening(
                site=form.cleaned_data.get("site"),
                data=form.cleaned_data,
                user=request.user,
                previous_screening=previous,
            ),
        )
        if screening is not None:
            _verdict_message(request, screening)
            return redirect("screening-detail", pk=screening.pk)
    return render(request, "enrollment/screening_form.html", {"form": form, "previous": previous})


def _verdict_message(request, screening):
    if screening.eligible:
        messages.success(request, _("Screening %(n)s saved: ELIGIBLE.") % {"n": screening.screening_number})
    else:
        messages.warning(
            request,
            _("Screening %(n)s saved: NOT ELIGIBLE — %(reasons)s.")
            % {
                "n": screening.screening_number,
                "reasons": "; ".join(f"{c} {describe(c)}" for c in screening.failed_criteria),
            },
        )


@login_required
def screening_detail(request, pk):
    screening = selectors.screening_get_for_user(request.user, pk)
    answers = [(c, getattr(screening, c.field)) for c in CRITERIA]
    return render(
        request,
        "enrollment/screening_detail.html",
        {
            "screening": screening,
            "verdict": screening.verdict(),
            "answers": answers,
            "participant": getattr(screening, "participant", None),
            "can_edit": request.user.has_perm(CLINICAL) and not screening.voided,
            "can_void": request.user.has_perm(CLINICAL) and services.can_void_screening(screening),
            "rescreening": getattr(screening, "rescreening", None),
        },
    )


@permission_required(CLINICAL, raise_exception=True)
@refusals_as_messages("screening-detail", "pk")
def screening_edit(request, pk):
    screening = selectors.screening_get_for_user(request.user, pk)
    ensure_not_voided(screening)
    form = ScreeningForm(request.POST or None, instance=screening)
    if request.method == "POST" and form.is_valid():
        saved = save_edit(form, services.update_screening, screening=screening, user=request.user)
        if saved is not None:
            _verdict_message(request, saved)
            return redirect("screening-detail", pk=saved.pk)
    return render(request, "enrollment/screening_form.html", {"form": form, "screening": screening})


@login_required
def screening_history(request, pk):
    screening = selectors.screening_get_for_user(request.user, pk)
    return render_history(
        request, screening, title=screening.screening_number, back_url=screening_detail_url(screening)
    )


def screening_detail_url(screening) -> str:
    return reverse("screening-detail", args=[screening.pk])


@require_POST
@permission_required(CLINICAL, raise_exception=True)
@refusals_as_messages("screening-detail", "pk")
def screening_enroll(request, pk):
    screening = selectors.screening_get_for_user(request.user, pk)
    participant = services.enroll_participant(screening=screening, user=request.user)
    messages.success(
        request,
        _("Enrolled as %(subject)s, cohort: %(cohort)s.")
        % {"subject": participant.subject_id, "cohort": participant.get_cohort_display()},
    )
    return redirect("participant-detail", subject_id=participant.subject_id)


@login_required
def participant_list(request):
    sites = sites_visible_to(request.user)
    filterset = ParticipantFilter(request.GET, queryset=selectors.participants_visible_to(request.user), sites=sites)
    table = ParticipantTable(filterset.qs)
    RequestConfig(request, paginate={"per_page": 25}).configure(table)
    return render(request, "enrollment/participant_list.html", {"table": table, "filter": filterset})


@login_required
def participant_detail(request, subject_id):
    participant = selectors.participant_get_for_user(request.user, subject_id)
    screening = participant.screening
    return render(
        request,
        "enrollment/participant_detail.html",
        {
            "participant": participant,
            "screening": screening,
            "can_edit": request.user.has_perm(CLINICAL),
            "can_withdraw": request.user.has_perm(CLINICAL) and services.can_withdraw(participant),
            "can_complete": request.user.has_perm(CLINICAL) and services.can_complete(participant),
            "can_record_death": services.can_record_death(participant, request.user),
            "panels": render_participant_panels(request, participant),
        },
    )


# Status changes of a participant (SPEC §3): the form, the service, its arguments from the
# form, the page's explanation and the message after it.
STATUS_CHANGES = {
    "withdraw": (
        WithdrawForm,
        services.withdraw_participant,
        lambda d: {"withdrawal_date": d["withdrawal_date"], "reason": d["withdrawal_reason"]},
        gettext_lazy("The participant stays in the records with status “withdrawn”; data already collected are kept."),
        gettext_lazy("%(subject)s withdrawn."),
    ),
    "complete": (
        CompleteForm,
        services.complete_participant,
        lambda d: {"completion_date": d["completion_date"]},
        gettext_lazy("The participant completed the study as the protocol plans."),
        gettext_lazy("%(subject)s completed the study."),
    ),
    "death": (
        DeathForm,
        services.record_death,
        lambda d: {"death_date": d["death_date"], "cause": d["death_cause"]},
        gettext_lazy(
            "A death not caused by an adverse event (e.g. disease progression). A fatal adverse event is recorded "
            "as a Grade 5 AE."
        ),
        gettext_lazy("Death of %(subject)s recorded."),
    ),
}


@permission_required(CLINICAL, raise_exception=True)
def participant_status_change(request, subject_id, change):
    participant = selectors.participant_get_for_user(request.user, subject_id)
    if change == "death" and not services.may_record_deaths(request.user):
        raise PermissionDenied
    form_class, service, arguments, explanation, done = STATUS_CHANGES[change]
    form = form_class(request.POST or None, initial={"version": participant.version})
    if request.method == "POST" and form.is_valid():
        changed = apply_change(
            form,
            lambda: service(
                participant=participant,
                user=request.user,
                expected_version=form.cleaned_data.get("version"),
                **arguments(form.cleaned_data),
            ),
        )
        if changed is not None:
            messages.success(request, done % {"subject": participant.subject_id})
            return redirect("participant-detail", subject_id=participant.subject_id)
    context = {"form": form, "participant": participant, "explanation": explanation, "change": change}
    return render(request, "enrollment/participant_status.html", context)


@permission_required(CLINICAL, raise_exception=True)
def screening_void(request, pk):
    screening = selectors.screening_get_for_user(request.user, pk)
    return void_page(
        request,
        screening,
        void=services.void_screening,
        record_name="screening",
        template="enrollment/screening_void.html",
        form_texts={
            "help_text": _("E.g. entered for the wrong patient, duplicate entry."),
            "submit_label": _("Void this screening"),
        },
        done=_("Screening voided. It stays in the screening log and the audit trail."),
        back=reverse("screening-detail", args=[pk]),
    )


@login_required
def participant_history(request, subject_id):
    participant = selectors.participant_get_for_user(request.user, subject_id)
    back_url = reverse("participant-detail", args=[participant.subject_id])
    return render_history(request, participant, title=participant.subject_id, back_url=back_url)
