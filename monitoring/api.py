"""JSON API of monitoring: data queries, source-data verification, casebook sign-off and lock.
Thin: monitoring.queries, .sdv and .casebook decide; the shapes are in monitoring.serializers."""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from enrollment.selectors import participant_get_for_user
from monitoring import casebook, queries, sdv
from monitoring.models import Query, QueryStep
from monitoring.record_types import RECORD_TYPES
from monitoring.selectors import filter_queries
from monitoring.serializers import (
    CasebookSerializer,
    CasebookSignInSerializer,
    CasebookUnlockInSerializer,
    MonitoringSettingsInSerializer,
    MonitoringSettingsSerializer,
    QueryAnswerSerializer,
    QueryCloseSerializer,
    QueryFilterSerializer,
    QueryRaiseSerializer,
    QueryReopenSerializer,
    QuerySerializer,
    SdvFilterSerializer,
    SdvMarkSerializer,
    SdvProgressSerializer,
    SdvVerifySerializer,
)
from scr_escc.api import has_perm
from scr_escc.scoping import get_scoped_or_404

RAISE = queries.RAISE
VERIFY = sdv.VERIFY
LOCK = casebook.LOCK


def has_any_perm(*codenames: str) -> type[permissions.BasePermission]:
    """A DRF permission class requiring one of several Django permissions."""

    class HasAnyPerm(permissions.BasePermission):
        def has_permission(self, request, view):
            user = request.user
            return bool(user and user.is_authenticated and any(user.has_perm(c) for c in codenames))

    HasAnyPerm.__name__ = "HasAnyPerm_" + "_".join(c.replace(".", "_") for c in codenames)
    return HasAnyPerm


def _queries_for(user):
    steps = Prefetch("steps", QueryStep.objects.select_related("by").order_by("at", "pk"))
    related = queries.queries_visible_to(user).select_related("site", "participant", "raised_by")
    return related.prefetch_related(steps)


def _query_get_for_user(user, pk) -> Query:
    return get_object_or_404(_queries_for(user), pk=pk)


def _record_get_for_user(user, code: str, pk: int):
    """The record a query or SDV mark names, among the user's sites (404 outside)."""
    record_type = RECORD_TYPES[code]
    return get_scoped_or_404(record_type.model._default_manager.all(), user, site_field=record_type.site_path, pk=pk)


def _query_answer(user, pk) -> Response:
    return Response(QuerySerializer(_query_get_for_user(user, pk)).data)


class QueryListCreate(generics.ListCreateAPIView):
    """GET the queries at the user's sites (filtered, paginated); POST a query on a record."""

    serializer_class = QuerySerializer
    filter_backends = []

    def get_permissions(self):
        return [has_perm(RAISE)()] if self.request.method == "POST" else super().get_permissions()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Query.objects.none()
        filters = QueryFilterSerializer(data=self.request.query_params, context={"request": self.request})
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        return filter_queries(
            _queries_for(self.request.user),
            status=data.get("status"),
            record_type=data.get("record_type"),
            raiser=data.get("raiser"),
            older_than_days=data.get("older_than"),
            site=data.get("site"),
            participant=data.get("participant"),
        )

    @extend_schema(parameters=[QueryFilterSerializer], summary="The queries at your sites, newest first")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=QueryRaiseSerializer, responses={201: QuerySerializer}, summary="Raise a query on a record or a field"
    )
    def post(self, request, *args, **kwargs):
        body = QueryRaiseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        record = _record_get_for_user(request.user, data["record_type"], data["record_id"])
        query = queries.raise_query(user=request.user, record=record, field=data["field"], text=data["text"])
        return Response(
            QuerySerializer(_query_get_for_user(request.user, query.pk)).data, status=status.HTTP_201_CREATED
        )


class QueryDetail(generics.RetrieveAPIView):
    serializer_class = QuerySerializer

    def get_object(self):
        return _query_get_for_user(self.request.user, self.kwargs["pk"])


def _corrected_value(query: Query, value):
    """The answer's value of the queried field, converted and checked as the record's own API
    would (a model serializer field of the record's model): e.g. grade "4" → 4."""
    record_type = RECORD_TYPES[query.record_type]
    field = None
    if query.field and record_type.correct is not None:
        meta = type("Meta", (), {"model": record_type.model, "fields": [query.field]})
        field = type("ValueSerializer", (serializers.ModelSerializer,), {"Meta": meta})().fields[query.field]
    if field is None or field.read_only:
        message = _("Only the queried field of this record can be corrected with the answer.")
        raise serializers.ValidationError({"value": [message]})
    try:
        return field.run_validation(value)
    except serializers.ValidationError as exc:
        raise serializers.ValidationError({"value": exc.detail})


def _value_errors(exc: DjangoValidationError, field: str) -> DjangoValidationError:
    """The record's own rules name the field (e.g. "grade"); the client sent it as `value`."""
    if not hasattr(exc, "error_dict") or field not in exc.error_dict:
        return exc
    errors = exc.message_dict
    errors["value"] = errors.pop(field) + errors.get("value", [])
    return DjangoValidationError(errors)


class QueryAnswer(APIView):
    @extend_schema(
        request=QueryAnswerSerializer,
        responses=QuerySerializer,
        summary="The site answers a query, correcting the queried field with `value` if given",
    )
    def post(self, request, pk):
        query = _query_get_for_user(request.user, pk)
        if not queries.may_answer(request.user, query):
            raise PermissionDenied
        body = QueryAnswerSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        correction = {query.field: _corrected_value(query, data["value"])} if "value" in data else None
        try:
            queries.answer_query(
                query=query,
                user=request.user,
                text=data["text"],
                correction=correction,
                expected_version=data.get("version"),
                record_version=data.get("record_version"),
            )
        except DjangoValidationError as exc:
            raise _value_errors(exc, query.field)
        return _query_answer(request.user, pk)


class QueryClose(APIView):
    @extend_schema(request=QueryCloseSerializer, responses=QuerySerializer, summary="Close a query")
    def post(self, request, pk):
        query = _query_get_for_user(request.user, pk)
        body = QueryCloseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        queries.close_query(query=query, user=request.user, text=data["text"], expected_version=data.get("version"))
        return _query_answer(request.user, pk)


class QueryReopen(APIView):
    @extend_schema(request=QueryReopenSerializer, responses=QuerySerializer, summary="Re-open a query to the site")
    def post(self, request, pk):
        query = _query_get_for_user(request.user, pk)
        body = QueryReopenSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        queries.reopen_query(query=query, user=request.user, text=data["text"], expected_version=data.get("version"))
        return _query_answer(request.user, pk)


def _progress_row(progress: sdv.ParticipantProgress) -> dict:
    return {
        "subject_id": progress.participant.subject_id,
        "site": progress.participant.site.code,
        "required": progress.required,
        "verified": progress.verified,
        "changed": progress.changed,
        "percent": progress.percent,
        "pending": [
            {
                "record_type": record_type.code,
                "record_id": record.pk,
                "status": record_status,
                "changes": mark.changes if mark is not None and record_status == "changed" else [],
            }
            for record_type, record, record_status, mark in progress.pending
        ],
    }


class SdvWorklist(APIView):
    permission_classes = [has_any_perm(VERIFY, LOCK)]

    @extend_schema(
        parameters=[SdvFilterSerializer],
        responses=SdvProgressSerializer(many=True),
        summary="Source-data verification per participant: records to verify, and changed since verified",
    )
    def get(self, request):
        filters = SdvFilterSerializer(data=request.query_params, context={"request": request})
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        rows = sdv.worklist(request.user, site=data.get("site"), participant=data.get("participant"))
        return Response(SdvProgressSerializer([_progress_row(row) for row in rows], many=True).data)


class SdvVerify(APIView):
    permission_classes = [has_perm(VERIFY)]

    @extend_schema(
        request=SdvVerifySerializer,
        responses=SdvMarkSerializer,
        summary="Mark a record source-data verified at the monitoring plan's level",
    )
    def post(self, request):
        body = SdvVerifySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        record = _record_get_for_user(request.user, data["record_type"], data["record_id"])
        mark = sdv.verify(user=request.user, record=record, expected_version=data.get("version"))
        return Response(SdvMarkSerializer(mark).data)


def _settings_errors(exc: DjangoValidationError) -> serializers.ValidationError:
    """The service's field names (sdv_<type>, reason_for_change) as the client sent them."""
    errors: dict = {}
    for field, messages in exc.message_dict.items():
        if field.startswith("sdv_"):
            errors.setdefault("sdv_levels", {})[field.removeprefix("sdv_")] = messages
        else:
            errors[{"reason_for_change": "reason"}.get(field, field)] = messages
    return serializers.ValidationError(errors)


def _settings_answer(row) -> Response:
    data = {"sdv_levels": sdv.levels(row), "query_digest_days": row.query_digest_days, "version": row.version}
    return Response(MonitoringSettingsSerializer(data).data)


class MonitoringSettingsView(APIView):
    def get_permissions(self):
        if self.request.method == "PUT":
            return [has_perm(LOCK)()]
        return [has_any_perm(RAISE, VERIFY, LOCK)()]

    @extend_schema(responses=MonitoringSettingsSerializer, summary="The monitoring plan: SDV levels, query reminders")
    def get(self, request):
        return _settings_answer(sdv.monitoring_settings())

    @extend_schema(
        request=MonitoringSettingsInSerializer,
        responses=MonitoringSettingsSerializer,
        summary="Data manager: change the SDV levels and the query reminder age, with a reason",
    )
    def put(self, request):
        body = MonitoringSettingsInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            row = sdv.update_settings(
                user=request.user,
                levels_by_type=data["sdv_levels"],
                query_digest_days=data["query_digest_days"],
                reason=data["reason"],
            )
        except DjangoValidationError as exc:
            raise _settings_errors(exc)
        return _settings_answer(row)


def _casebook_answer(participant) -> Response:
    return Response(CasebookSerializer({"subject_id": participant.subject_id, **casebook.status(participant)}).data)


class Casebook(APIView):
    @extend_schema(
        responses=CasebookSerializer,
        summary="A participant's casebook: signature, what changed since it, lock, open queries",
    )
    def get(self, request, subject_id):
        return _casebook_answer(participant_get_for_user(request.user, subject_id))


class CasebookSign(APIView):
    permission_classes = [has_perm(casebook.SIGN)]

    @extend_schema(
        request=CasebookSignInSerializer,
        responses=CasebookSerializer,
        summary="Investigator e-signs the casebook as it is now (403 on a wrong password)",
    )
    def post(self, request, subject_id):
        participant = participant_get_for_user(request.user, subject_id)
        body = CasebookSignInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        casebook.sign(
            participant=participant,
            user=request.user,
            password=body.validated_data["password"],
            request=request,
            expected_hash=body.validated_data.get("content_hash"),
        )
        return _casebook_answer(participant)


class CasebookLockView(APIView):
    permission_classes = [has_perm(LOCK)]

    @extend_schema(
        request=None,
        responses=CasebookSerializer,
        summary="Data manager locks a signed casebook without open queries: every change is refused",
    )
    def post(self, request, subject_id):
        participant = participant_get_for_user(request.user, subject_id)
        casebook.lock(participant=participant, user=request.user)
        return _casebook_answer(participant)


class CasebookUnlock(APIView):
    permission_classes = [has_perm(LOCK)]

    @extend_schema(
        request=CasebookUnlockInSerializer, responses=CasebookSerializer, summary="Data manager unlocks, with a reason"
    )
    def post(self, request, subject_id):
        participant = participant_get_for_user(request.user, subject_id)
        body = CasebookUnlockInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        casebook.unlock(participant=participant, user=request.user, reason=body.validated_data["reason"])
        return _casebook_answer(participant)
