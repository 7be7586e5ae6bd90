"""Pages of treatment, tumour assessments and follow-up. Thin: efficacy services decide."""

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from efficacy import assessments, followup, selectors, treatment
from efficacy.forms import (
    BaselineForm,
    ClinicalProgressionForm,
    ContactForm,
    CourseForm,
    CycleForm,
    DoseForm,
    FollowUpForm,
    NewTherapyForm,
)
from efficacy.models import TumourAssessment
from enrollment.selectors import participant_get_for_user
from scr_escc.audit import HIDDEN_FIELDS, ensure_not_voided
from scr_escc.views import apply_change, refusals_as_messages, render_history, save_edit, void_page

CLINICAL = "scr_escc.enter_clinical_data"


@dataclass(frozen=True)
class Kind:
    """How the pages handle one kind of simple efficacy record."""

    title: str
    form: type
    create: object | None
    update: object
    void: object


KINDS = {
    "dose": Kind(
        gettext_lazy("Systemic therapy dose"),
        DoseForm,
        None,
        lambda record, **kw: treatment.update_dose(dose=record, **kw),
        lambda record, **kw: treatment.void_dose(dose=record, **kw),
    ),
    "radiotherapy": Kind(
        gettext_lazy("Radiotherapy course"),
        CourseForm,
        treatment.record_course,
        lambda record, **kw: treatment.update_course(course=record, **kw),
        lambda record, **kw: treatment.void_course(course=record, **kw),
    ),
    "clinical-progression": Kind(
        gettext_lazy("Clinical progression"),
        ClinicalProgressionForm,
        followup.record_clinical_progression,
        followup.update_simple,
        followup.void_simple,
    ),
    "new-therapy": Kind(
        gettext_lazy("New anticancer therapy"),
        NewTherapyForm,
        followup.record_new_therapy,
        followup.update_simple,
        followup.void_simple,
    ),
    "follow-up-contact": Kind(
        gettext_lazy("Survival follow-up contact"),
        ContactForm,
        followup.record_contact,
        followup.update_simple,
        followup.void_simple,
    ),
}


def _kind(kind: str) -> Kind:
    if kind not in KINDS:
        raise Http404
    return KINDS[kind]


def _record(request, kind: str, pk: int):
    _kind(kind)
    return selectors.record_get_for_user(selectors.RECORD_MODELS[kind], request.user, pk)


def _participant_url(participant) -> str:
    return reverse("participant-detail", args=[participant.subject_id]) + "#efficacy"


def _fields(record) -> list[tuple[str, object]]:
    """(label, shown value) of a record's entered fields, for its page."""
    shown = []
    for field in record._meta.concrete_fields:
        if field.name in HIDDEN_FIELDS or not field.editable or field.name in ("id",):
            continue
        value = getattr(record, f"get_{field.name}_display")() if field.choices else getattr(record, field.name)
        shown.append((field.verbose_name, "—" if value in (None, "") else value))
    return shown


@permission_required(CLINICAL, raise_exception=True)
def record_create(request, subject_id, kind):
    spec = _kind(kind)
    if spec.create is None:
        raise Http404
    participant = participant_get_for_user(request.user, subject_id)
    form = spec.form(request.POST or None)
    if request.method == "POST" and form.is_valid():
        record = apply_change(
            form, lambda: spec.create(participant=participant, data=form.cleaned_data, user=request.user)
        )
        if record is not None:
            messages.success(request, _("%(what)s recorded.") % {"what": spec.title})
            return redirect(_participant_url(participant))
    context = {"form": form, "participant": participant, "title": spec.title}
    return render(request, "efficacy/record_form.html", context)


@login_required
def record_detail(request, kind, pk):
    record = _record(request, kind, pk)
    context = {
        "record": record,
        "kind": kind,
        "title": _kind(kind).title,
        "fields": _fields(record),
        "can_edit": request.user.has_perm(CLINICAL) and not record.voided,
    }
    return render(request, "efficacy/record_detail.html", context)


@permission_required(CLINICAL, raise_exception=True)
@refusals_as_messages("efficacy-record", "kind", "pk")
def record_edit(request, kind, pk):
    record = _record(request, kind, pk)
    ensure_not_voided(record)
    spec = _kind(kind)
    form = spec.form(request.POST or None, instance=record)
    if request.method == "POST" and form.is_valid():
        if save_edit(form, spec.update, record=record, user=request.user) is not None:
            messages.success(request, _("%(what)s corrected.") % {"what": spec.title})
            return redirect("efficacy-record", kind=kind, pk=pk)
    context = {"form": form, "participant": record.participant, "title": spec.title, "record": record}
    return render(request, "efficacy/record_form.html", context)


@permission_required(CLINICAL, raise_exception=True)
@refusals_as_messages("efficacy-record", "kind", "pk")
def record_void(request, kind, pk):
    record = _record(request, kind, pk)
    ensure_not_voided(record)
    spec = _kind(kind)
    return void_page(
        request,
        record,
        void=spec.void,
        record_name="record",
        template="efficacy/record_void.html",
        form_texts={"help_text": _("E.g. entered for the wrong participant."), "submit_label": _("Void")},
        done=_("Voided. The record stays, marked voided, in the audit trail."),
        back=reverse("efficacy-record", args=[kind, pk]),
    )


@login_required
def record_history(request, kind, pk):
    record = _record(request, kind, pk)
    title = f"{_kind(kind).title} #{pk}"
    return render_history(request, record, title=title, back_url=reverse("efficacy-record", args=[kind, pk]))


@permission_required(CLINICAL, raise_exception=True)
def cycle_create(request, subject_id):
    participant = participant_get_for_user(request.user, subject_id)
    form = CycleForm(request.POST or None, cycle=treatment.next_cycle_number(participant), today=timezone.localdate())
    if request.method == "POST" and form.is_valid():
        cycle = form.cleaned_data["cycle"]
        saved = apply_change(
            form,
            lambda: treatment.record_cycle(participant=participant, cycle=cycle, doses=form.doses(), user=request.user),
        )
        if saved is not None:
            messages.success(request, _("Cycle %(c)s recorded.") % {"c": cycle})
            return redirect(_participant_url(participant))
    return render(request, "efficacy/cycle_form.html", {"form": form, "participant": participant})


@permission_required(CLINICAL, raise_exception=True)
def baseline_create(request, subject_id):
    participant = participant_get_for_user(request.user, subject_id)
    form = BaselineForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        baseline = apply_change(
            form,
            lambda: assessments.record_baseline(
                participant=participant,
                data=form.cleaned_data,
                targets=form.targets(),
                non_targets=form.non_targets(),
                user=request.user,
            ),
        )
        if baseline is not None:
            messages.success(request, _("Baseline recorded: sum of diameters %(s)s mm.") % {"s": baseline.sum_mm})
            return redirect("assessment-detail", pk=baseline.pk)
    return render(request, "efficacy/baseline_form.html", {"form": form, "participant": participant})


@permission_required(CLINICAL, raise_exception=True)
def assessment_create(request, subject_id):
    participant = participant_get_for_user(request.user, subject_id)
    lesions = assessments.lesions_of(participant)
    if not lesions:
        messages.error(request, _("Record the baseline assessment first."))
        return redirect(_participant_url(participant))
    form = FollowUpForm(request.POST or None, lesions=lesions)
    if request.method == "POST" and form.is_valid():
        assessment = apply_change(
            form,
            lambda: assessments.record_follow_up(
                participant=participant,
                data=form.cleaned_data,
                targets=form.targets(),
                non_targets=form.non_targets(),
                user=request.user,
            ),
        )
        if assessment is not None:
            assessment.refresh_from_db()
            messages.success(
                request, _("Assessment recorded. Computed response: %(r)s.") % {"r": assessment.computed_response}
            )
            return redirect("assessment-detail", pk=assessment.pk)
    context = {"form": form, "participant": participant, "lesions": lesions}
    return render(request, "efficacy/assessment_form.html", context)


@login_required
def assessment_detail(request, pk):
    assessment = selectors.record_get_for_user(TumourAssessment, request.user, pk)
    results = assessment.results.select_related("lesion").order_by("-lesion__target", "lesion__number")
    context = {
        "assessment": assessment,
        "results": results,
        "can_edit": request.user.has_perm(CLINICAL) and not assessment.voided,
    }
    return render(request, "efficacy/assessment_detail.html", context)


@permission_required(CLINICAL, raise_exception=True)
@refusals_as_messages("assessment-detail", "pk")
def assessment_edit(request, pk):
    assessment = selectors.record_get_for_user(TumourAssessment, request.user, pk)
    ensure_not_voided(assessment)
    lesions = list(
        assessment.lesions.order_by("-target", "number")
        if assessment.baseline
        else assessments.lesions_of(assessment.participant)
    )
    initial = {f: getattr(assessment, f) for f in assessments.ASSESSMENT_FIELDS}
    for result in assessment.results.select_related("lesion"):
        initial[f"lesion_{result.lesion.code}"] = result.diameter_mm if result.lesion.target else result.status
    form = FollowUpForm(request.POST or None, lesions=lesions, instance=assessment, initial=initial)
    if assessment.baseline:
        for name in ("new_lesion", "new_lesion_description", "investigator_response"):
            del form.fields[name]
        for lesion in lesions:
            if not lesion.target:
                del form.fields[f"lesion_{lesion.code}"]
        form.lesions = [lesion for lesion in lesions if lesion.target]
    if request.method == "POST" and form.is_valid():
        saved = apply_change(
            form,
            lambda: assessments.update_assessment(
                assessment=assessment,
                data=form.cleaned_data,
                targets=form.targets(),
                non_targets=form.non_targets(),
                user=request.user,
                reason=form.cleaned_data["reason_for_change"],
                expected_version=form.cleaned_data.get("version"),
            ),
        )
        if saved is not None:
            messages.success(request, _("Assessment corrected; the responses were computed again."))
            return redirect("assessment-detail", pk=pk)
    context = {"form": form, "participant": assessment.participant, "assessment": assessment, "lesions": lesions}
    return render(request, "efficacy/assessment_form.html", context)


@permission_required(CLINICAL, raise_exception=True)
@refusals_as_messages("assessment-detail", "pk")
def assessment_void(request, pk):
    assessment = selectors.record_get_for_user(TumourAssessment, request.user, pk)
    ensure_not_voided(assessment)
    return void_page(
        request,
        assessment,
        void=lambda record, **kw: assessments.void_assessment(assessment=record, **kw),
        record_name="record",
        template="efficacy/record_void.html",
        form_texts={"help_text": _("E.g. entered for the wrong participant."), "submit_label": _("Void")},
        done=_("Assessment voided; the responses were computed again."),
        back=reverse("assessment-detail", args=[pk]),
    )


@login_required
def assessment_history(request, pk):
    assessment = selectors.record_get_for_user(TumourAssessment, request.user, pk)
    back = reverse("assessment-detail", args=[pk])
    return render_history(request, assessment, title=str(assessment), back_url=back)
