"""The monitoring pages: data queries, source-data verification, the monitoring plan and the
casebook sign-off and lock. Thin: monitoring's services and selectors decide."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_tables2 import RequestConfig

from enrollment.selectors import participant_get_for_user
from monitoring import casebook as casebooks
from monitoring import queries, sdv, selectors
from monitoring.forms import (
    AnswerForm,
    CloseForm,
    LockCasebookForm,
    MonitoringSettingsForm,
    RaiseQueryForm,
    ReopenForm,
    SignCasebookForm,
    UnlockCasebookForm,
)
from monitoring.models import SdvLevel
from monitoring.panels import field_label, labelled_changes
from monitoring.record_types import RECORD_TYPES, RecordType, summary
from monitoring.tables import QueryFilter, QueryTable, record_url, with_last_step
from scr_escc.audit import StaleEdit, history_entries
from scr_escc.exceptions import DomainError
from scr_escc.scoping import get_scoped_or_404
from scr_escc.selectors import sites_visible_to
from scr_escc.views import apply_change

RAISE, ANSWER, VERIFY, LOCK = queries.RAISE, queries.ANSWER, sdv.VERIFY, casebooks.LOCK


def _require_any(user, *permissions: str) -> None:
    if not any(user.has_perm(permission) for permission in permissions):
        raise PermissionDenied


def _scoped_record(user, code: str, pk: int) -> tuple[RecordType, object]:
    """A record named by type and pk, as the user may see it: 404 for an unknown type or a record
    outside the user's sites (its existence does not leak)."""
    record_type = RECORD_TYPES.get(code)
    if record_type is None:
        raise Http404
    queryset = record_type.model._default_manager.all()
    return record_type, get_scoped_or_404(queryset, user, site_field=record_type.site_path, pk=pk)


def shown_value(record, field: str) -> str:
    """A field's current value as the record's page shows it."""
    model_field = record._meta.get_field(field)
    if model_field.choices:
        value = getattr(record, f"get_{field}_display")()
    else:
        value = getattr(record, field)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list | tuple):
        value = ", ".join(str(v) for v in value)
    if hasattr(value, "isoformat"):
        value = value.isoformat()
    return "—" if value in (None, "") else str(value)


# --- Data queries ---


@login_required
def query_list(request):
    _require_any(request.user, RAISE, ANSWER)
    filterset = QueryFilter(
        request.GET, queryset=queries.queries_visible_to(request.user), sites=sites_visible_to(request.user)
    )
    table = QueryTable(with_last_step(filterset.qs))
    RequestConfig(request, paginate={"per_page": 50}).configure(table)
    site = filterset.form.cleaned_data.get("site")  # a site the user may not see is no filter at all
    counts = selectors.query_counts(request.user, site=site)
    return render(request, "monitoring/query_list.html", {"table": table, "filter": filterset, "counts": counts})


@permission_required(RAISE, raise_exception=True)
def query_raise(request, record_type, record_id):
    record_type, record = _scoped_record(request.user, record_type, record_id)
    initial = {"field": request.GET.get("field", "")}
    form = RaiseQueryForm(request.POST or None, record_type=record_type, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        query = apply_change(
            form,
            lambda: queries.raise_query(user=request.user, record=record, field=data["field"], text=data["text"]),
        )
        if query is not None:
            messages.success(request, _("Query %(query)s raised: the site sees it now.") % {"query": f"Q-{query.pk}"})
            return redirect(record_type.url(record))
    context = {"form": form, "record": record, "record_type": record_type, "record_url": record_type.url(record)}
    return render(request, "monitoring/query_raise.html", context)


STEP_FORMS = {"answer": AnswerForm, "close": CloseForm, "reopen": ReopenForm}
STEP_DONE = {
    "answer": _("Query %(query)s answered."),
    "close": _("Query %(query)s closed."),
    "reopen": _("Query %(query)s re-opened: it is back with the site."),
}


@login_required
def query_detail(request, pk):
    _require_any(request.user, RAISE, ANSWER)
    query = get_object_or_404(
        queries.queries_visible_to(request.user).select_related("raised_by", "participant"), pk=pk
    )
    record_type = RECORD_TYPES[query.record_type]
    record = queries.record_for_query(query)
    bound = None
    if request.method == "POST":
        action = request.POST.get("action")
        if action not in STEP_FORMS:
            return HttpResponseBadRequest(_("Unknown action."))
        may = queries.may_answer if action == "answer" else queries.may_close
        if not may(request.user, query):
            raise PermissionDenied
        bound = _step_form(action, query, record, record_type, data=request.POST)
        if bound.is_valid() and apply_change(bound, lambda: _query_step(request, action, bound, query)) is not None:
            messages.success(request, STEP_DONE[action] % {"query": f"Q-{query.pk}"})
            return redirect("query-detail", pk=query.pk)
    context = _query_context(request, query, record, record_type, bound)
    return render(request, "monitoring/query_detail.html", context, status=getattr(bound, "refusal_status", 200))


def _step_form(action: str, query, record, record_type: RecordType, data=None):
    if action == "answer":
        return AnswerForm(data, query=query, record=record, record_type=record_type)
    return STEP_FORMS[action](data, query=query)


def _query_step(request, action: str, form, query):
    data, user = form.cleaned_data, request.user
    if action == "close":
        return queries.close_query(query=query, user=user, text=data["text"], expected_version=data["version"])
    if action == "reopen":
        return queries.reopen_query(query=query, user=user, text=data["text"], expected_version=data["version"])
    try:
        return queries.answer_query(
            query=query,
            user=user,
            text=data["text"],
            correction=form.correction,
            expected_version=data["version"],
            record_version=data.get("record_version"),
        )
    except ValidationError as error:
        # The service names the corrected value "value"; on this page it is the record's own field.
        if form.value_field and hasattr(error, "error_dict") and "value" in error.error_dict:
            errors = dict(error.error_dict)
            errors[form.value_field] = errors.pop("value")
            raise ValidationError(errors) from error
        raise


def _query_context(request, query, record, record_type: RecordType, bound) -> dict:
    user, status = request.user, query.status
    forms = {}
    if queries.may_answer(user, query) and status == "open":
        forms["answer"] = _step_form("answer", query, record, record_type)
    if queries.may_close(user, query) and status != "closed":
        forms["close"] = _step_form("close", query, record, record_type)
    if queries.may_close(user, query) and status != "open":
        forms["reopen"] = _step_form("reopen", query, record, record_type)
    if bound is not None:
        forms[bound.action_name] = bound  # a refused step stays on screen with its reason
    steps = list(query.steps.select_related("by"))
    for step in steps:
        if step.correction:
            step.correction_label = field_label(record_type.model, step.correction.get("field", ""))
            step.shown = labelled_changes(record_type.model, [step.correction])[0]
    return {
        "query": query,
        "record": record,
        "record_type": record_type,
        "record_url": record_url(query),
        "record_summary": summary(record),
        "field_label": capfirst(record_type.field_label(query.field)),
        "current_value": shown_value(record, query.field) if query.field else None,
        "steps": steps,
        "forms": forms,
    }


# --- Source-data verification ---


@login_required
def sdv_worklist(request):
    _require_any(request.user, VERIFY, LOCK)
    sites = sites_visible_to(request.user)
    code = request.GET.get("site")
    site = get_object_or_404(sites, code=code) if code else None
    rows = sdv.worklist(request.user, site=site)
    totals = {
        "required": sum(row.required for row in rows),
        "verified": sum(row.verified for row in rows),
        "changed": sum(row.changed for row in rows),
    }
    totals["percent"] = round(100 * totals["verified"] / totals["required"]) if totals["required"] else 100
    context = {
        "rows": rows,
        "sites": sites,
        "site": site,
        "totals": totals,
        "levels": [(RECORD_TYPES[code], SdvLevel(level).label) for code, level in sdv.levels().items()],
        "can_configure": request.user.has_perm(LOCK),
    }
    return render(request, "monitoring/sdv_worklist.html", context)


@login_required
def sdv_participant(request, subject_id):
    _require_any(request.user, VERIFY, LOCK)
    participant = participant_get_for_user(request.user, subject_id)
    progress = sdv.worklist(request.user, participant=participant)[0]
    pending = [
        {
            "record_type": record_type,
            "record": record,
            "url": record_type.url(record),
            "summary": summary(record),
            "status": status,
            "mark": mark,
            "changes": labelled_changes(record_type.model, mark.changes if mark and status == "changed" else []),
        }
        for record_type, record, status, mark in progress.pending
    ]
    context = {
        "participant": participant,
        "progress": progress,
        "pending": pending,
        "can_verify": request.user.has_perm(VERIFY),
    }
    return render(request, "monitoring/sdv_participant.html", context)


@require_POST
@permission_required(VERIFY, raise_exception=True)
def sdv_verify(request, record_type, record_id):
    record_type, record = _scoped_record(request.user, record_type, record_id)
    version = request.POST.get("version", "")
    try:
        expected = int(version) if version.isascii() and version.isdigit() and len(version) < 10 else None
        sdv.verify(user=request.user, record=record, expected_version=expected)
    except (DomainError, StaleEdit) as refusal:
        messages.error(request, refusal.message)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        label = f"{record_type.label} #{record.pk}"
        messages.success(request, _("%(record)s marked source-data verified.") % {"record": label})
    next_url = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(next_url)
    return redirect(record_type.url(record))


@permission_required(LOCK, raise_exception=True)
def monitoring_settings(request):
    row = sdv.monitoring_settings()
    form = MonitoringSettingsForm(
        request.POST or None, levels=sdv.levels(row), initial={"query_digest_days": row.query_digest_days}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        saved = apply_change(
            form,
            lambda: sdv.update_settings(
                user=request.user,
                levels_by_type=form.levels,
                query_digest_days=data["query_digest_days"],
                reason=data["reason_for_change"],
            ),
        )
        if saved is not None:
            messages.success(request, _("Monitoring plan saved."))
            return redirect("monitoring-settings")
    return render(request, "monitoring/settings.html", {"form": form, "entries": history_entries(row)})


# --- The casebook ---

CASEBOOK_FORMS = {"sign": SignCasebookForm, "lock": LockCasebookForm, "unlock": UnlockCasebookForm}
CASEBOOK_DONE = {
    "sign": _("Casebook signed."),
    "lock": _("Casebook locked: nothing in it can be changed until it is unlocked."),
    "unlock": _("Casebook unlocked."),
}


@login_required
def casebook(request, subject_id):
    participant = participant_get_for_user(request.user, subject_id)
    bound = None
    if request.method == "POST":
        action = request.POST.get("action")
        if action not in CASEBOOK_FORMS:
            return HttpResponseBadRequest(_("Unknown action."))
        if not _may_act_on_casebook(request.user, action, participant):
            raise PermissionDenied
        bound = CASEBOOK_FORMS[action](request.POST)
        done = bound.is_valid() and apply_change(bound, lambda: _casebook_step(request, action, bound, participant))
        if done:
            messages.success(request, CASEBOOK_DONE[action])
            return redirect("casebook", subject_id=participant.subject_id)
        bound.action_name = action
    context = _casebook_context(request, participant, bound)
    return render(request, "monitoring/casebook.html", context, status=getattr(bound, "refusal_status", 200))


def _may_act_on_casebook(user, action: str, participant) -> bool:
    return casebooks.may_sign(user, participant) if action == "sign" else user.has_perm(LOCK)


def _casebook_step(request, action: str, form, participant):
    user = request.user
    if action == "sign":
        return casebooks.sign(
            participant=participant,
            user=user,
            password=form.cleaned_data["password"],
            request=request,
            expected_hash=form.cleaned_data.get("content_hash") or None,
        )
    if action == "lock":
        return casebooks.lock(participant=participant, user=user)
    return casebooks.unlock(participant=participant, user=user, reason=form.cleaned_data["reason"])


def _casebook_context(request, participant, bound) -> dict:
    user = request.user
    state = casebooks.status(participant)
    forms = {}
    if casebooks.may_sign(user, participant):
        forms["sign"] = SignCasebookForm(
            again=state["state"] == "superseded", initial={"content_hash": state["content_hash"]}
        )
    if user.has_perm(LOCK):
        forms["unlock" if state["locked"] else "lock"] = (UnlockCasebookForm if state["locked"] else LockCasebookForm)()
    if bound is not None:
        forms[bound.action_name] = bound  # a refused step stays on screen with its reason
    progress = sdv.worklist(user, participant=participant)
    return {
        "participant": participant,
        "casebook": state,
        "changes": _casebook_changes(state["changes"]),
        "progress": progress[0] if progress else None,
        "forms": forms,
    }


def _casebook_changes(changes: list[dict]) -> list[dict]:
    """The changes since the signature, each with its record's name and page."""
    keys = {}
    for change in changes:
        code, pk = change["record"].split(":")
        keys.setdefault(code, set()).add(int(pk))
    records = {
        code: RECORD_TYPES[code].model._default_manager.in_bulk(pks)
        for code, pks in keys.items()
        if code in RECORD_TYPES
    }
    rows = []
    for change in changes:
        code, pk = change["record"].split(":")
        record_type, record = RECORD_TYPES.get(code), records.get(code, {}).get(int(pk))
        rows.append(
            {
                **(labelled_changes(record_type.model, [change])[0] if record_type else change),
                "record_label": f"{record_type.label if record_type else code} #{pk}",
                "record_url": record_type.url(record) if record is not None else None,
                "field_label": field_label(record_type.model, change["field"]) if record_type else change["field"],
            }
        )
    return rows
