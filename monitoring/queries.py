"""Data queries (the one place of their rules, for pages and API alike).

A monitor, data manager or PI raises a query on a record or one field of it; the record's site
(a coordinator or investigator of that site) answers, and may correct the value in the same
step through the record's own service, with the query as the reason for change; the raiser
closes or re-opens it. Open → answered → closed, re-opened back to open; each step is timed
and attributed (QueryStep). Automatic queries (monitoring.rules) are raised by the system.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from monitoring.models import Query, QueryStatus, QueryStep
from monitoring.record_types import RECORD_TYPES, RecordType, participant_id_of, site_id_of, type_of
from monitoring.values import field_text
from scr_escc.audit import StaleEdit, create_record, save_audited
from scr_escc.exceptions import DomainError
from scr_escc.scoping import scope_to_user
from scr_escc.transactions import retry_on_conflict

RAISE = "scr_escc.raise_query"
ANSWER = "scr_escc.answer_query"
MANAGE_ALL = "scr_escc.lock_casebook"  # the data manager may close or re-open any query


class QueryRefused(DomainError):
    pass


def queries_visible_to(user):
    return scope_to_user(Query.objects.all(), user)


def record_for_query(query: Query):
    return RECORD_TYPES[query.record_type].model._default_manager.get(pk=query.record_id)


def _text(text: str | None, field: str = "text") -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError({field: _("Write the text.")})
    return text


def raise_query(*, user, record, field: str = "", text: str) -> Query:
    """A person's query on `record` (already scoped to what the user may see) or one field of it."""
    if not user.has_perm(RAISE):
        raise PermissionDenied
    record_type = type_of(record)
    if record_type is None:
        raise ValidationError({"record_type": _("Queries cannot be raised on this kind of record.")})
    if field and field not in record_type.fields:
        raise ValidationError({"field": _("Choose one of this record's fields, or the whole record.")})
    text = _text(text)
    with transaction.atomic():
        query = _new_query(record_type, record, field=field, text=text, user=user, rule="")
    return query


def _new_query(record_type: RecordType, record, *, field: str, text: str, user, rule: str) -> Query:
    now = timezone.now()
    query = Query(
        site_id=site_id_of(record),
        participant_id=participant_id_of(record),
        record_type=record_type.code,
        record_id=record.pk,
        field=field,
        text=text,
        rule=rule,
        raised_by=user,
        raised_at=now,
    )
    # The one constraint (a rule's query once per record) is left to the database: a race of two
    # sweeps ends in IntegrityError, which raise_automatic_queries expects.
    create_record(
        query,
        user=user,
        reason=_("Query raised") if user else _("Query raised by a data check"),
        validate_constraints=False,
    )
    QueryStep.objects.create(query=query, action=QueryStep.Action.RAISED, by=user, at=now, text=text)
    return query


def may_answer(user, query: Query) -> bool:
    """Only staff of the query's own site answer: a study-wide reader (monitor, PI) never does."""
    return user.has_perm(ANSWER) and user.sites.filter(pk=query.site_id).exists()


def may_close(user, query: Query) -> bool:
    if not user.has_perm(RAISE):
        return False
    return query.automatic or query.raised_by_id == user.pk or user.has_perm(MANAGE_ALL)


@retry_on_conflict
def answer_query(
    *,
    query: Query,
    user,
    text: str,
    correction: dict | None = None,
    expected_version: int | None = None,
    record_version: int | None = None,
) -> Query:
    """The site's answer; with `correction` ({field: value}), the record is corrected by its own
    service in the same transaction, the query being the reason for change. The correction names
    the queried field and may name other fields of the record that must change with it (a Grade 5
    needs its outcome and date of death)."""
    if not may_answer(user, query):
        raise PermissionDenied
    text = _text(text)
    record_type = RECORD_TYPES[query.record_type]
    if correction and (
        query.field not in correction or not set(correction) <= set(record_type.fields) or record_type.correct is None
    ):
        raise ValidationError({"value": _("Only the queried field of this record can be corrected with the answer.")})
    with transaction.atomic():
        current = _lock(query, expected_version)
        if current.status != QueryStatus.OPEN:
            raise QueryRefused(
                _("This query is %(status)s: only an open query can be answered.")
                % {"status": current.get_status_display()}
            )
        step = QueryStep(query=current, action=QueryStep.Action.ANSWERED, by=user, text=text)
        if correction:
            step.correction = _correct(
                current, record_type, correction, user=user, text=text, record_version=record_version
            )
        now = timezone.now()
        current.status, current.answered_at = QueryStatus.ANSWERED, now
        save_audited(current, user=user, reason=_("Query answered"))
        step.at = now
        step.save()
    return current


def _cleaned(model, correction: dict) -> dict:
    """The corrected values as the record's service takes them (a page or the API may send text:
    "5" for a grade, "2026-01-31" for a date, a CTCAE term's pk)."""
    values, errors = {}, {}
    for field, value in correction.items():
        try:
            values[field] = model._meta.get_field(field).formfield().clean(value)
        except ValidationError as error:
            errors[field] = error.messages
    if errors:
        raise ValidationError(errors)
    return values


def _correct(
    query: Query, record_type: RecordType, correction: dict, *, user, text: str, record_version: int | None
) -> dict:
    """`record_version`: the record's version the answering user saw (a change by someone else
    since is refused as a stale edit, as on the record's own page)."""
    record = record_for_query(query)
    fields = list(correction)
    old = {field: field_text(record, field) for field in fields}
    reason = _("Query %(query)s: %(answer)s") % {"query": f"Q-{query.pk}", "answer": text}
    corrected = record_type.correct(
        record,
        data=_cleaned(record_type.model, correction),
        user=user,
        reason=reason,
        expected_version=record.version if record_version is None else record_version,
    )
    new = {field: field_text(corrected, field) for field in fields}
    if new[query.field] == old[query.field]:
        raise ValidationError({"value": _("The value is the same as before: answer without a correction.")})
    step = {"field": query.field, "old": old[query.field], "new": new[query.field]}
    also = [{"field": f, "old": old[f], "new": new[f]} for f in fields if f != query.field and old[f] != new[f]]
    return {**step, "also": also} if also else step


def close_query(*, query: Query, user, text: str = "", expected_version: int | None = None) -> Query:
    if not may_close(user, query):
        raise PermissionDenied
    with transaction.atomic():
        current = _lock(query, expected_version)
        if current.status == QueryStatus.CLOSED:
            raise QueryRefused(_("This query is closed already."))
        now = timezone.now()
        current.status, current.closed_at = QueryStatus.CLOSED, now
        save_audited(current, user=user, reason=_("Query closed"))
        QueryStep.objects.create(query=current, action=QueryStep.Action.CLOSED, by=user, at=now, text=text.strip())
    return current


def reopen_query(*, query: Query, user, text: str, expected_version: int | None = None) -> Query:
    """Back to the site, with what is still wrong (text required)."""
    if not may_close(user, query):
        raise PermissionDenied
    text = _text(text)
    with transaction.atomic():
        current = _lock(query, expected_version)
        if current.status == QueryStatus.OPEN:
            raise QueryRefused(_("This query is open already."))
        now = timezone.now()
        current.status, current.closed_at = QueryStatus.OPEN, None
        save_audited(current, user=user, reason=_("Query re-opened"))
        QueryStep.objects.create(query=current, action=QueryStep.Action.REOPENED, by=user, at=now, text=text)
    return current


def _lock(query: Query, expected_version: int | None) -> Query:
    current = Query.objects.select_for_update(of=("self",)).get(pk=query.pk)
    if expected_version is not None and current.version != expected_version:
        raise StaleEdit()
    return current
