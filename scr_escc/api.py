"""API wiring shared by every app: the exception handler, role permissions, the study endpoints."""

from django.contrib.auth import authenticate
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, inline_serializer
from knox import views as knox_views
from rest_framework import generics, permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from scr_escc import accounts, alerts, phases
from scr_escc.audit import StaleEdit
from scr_escc.exceptions import DomainError
from scr_escc.middleware import LOCKED_OUT
from scr_escc.models import Alert
from scr_escc.selectors import sites_visible_to, study_status
from scr_escc.throttles import TokenThrottle
from scr_escc.transactions import DatabaseBusy, is_retryable


def exception_handler(exc, context):
    """Domain refusals → 409 {"detail"}; model validation → 400 field errors; the rest as DRF."""
    if isinstance(exc, DomainError):
        return Response({"detail": exc.message}, status=exc.status_code)
    if is_retryable(exc):  # a deadlock in a path without retry_on_conflict: "try again", not a 500
        return Response({"detail": DatabaseBusy().message}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
    if isinstance(exc, StaleEdit):
        return Response({"detail": exc.message}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            return Response(exc.message_dict, status=status.HTTP_400_BAD_REQUEST)
        return Response({"non_field_errors": exc.messages}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404):
        return Response({"detail": _("Not found.")}, status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, DjangoPermissionDenied):
        return Response({"detail": _("You do not have permission to perform this action.")}, status=403)
    return drf_exception_handler(exc, context)


def has_perm(codename: str) -> type[permissions.BasePermission]:
    """A DRF permission class requiring one Django permission (a role's capability)."""

    class HasPerm(permissions.BasePermission):
        def has_permission(self, request, view):
            return bool(request.user and request.user.is_authenticated and request.user.has_perm(codename))

    HasPerm.__name__ = f"HasPerm_{codename.replace('.', '_')}"
    return HasPerm


class ReasonForChangeSerializerMixin(serializers.Serializer):
    """API twin of the form mixin: a PATCH needs `reason_for_change` and the `version` the client
    read, so an edit never overwrites a change it did not see (409 when stale)."""

    reason_for_change = serializers.CharField(write_only=True, required=False, allow_blank=True)
    version = serializers.IntegerField(required=False)

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if self.instance is not None:
            errors = {}
            if not (attrs.get("reason_for_change") or "").strip():
                errors["reason_for_change"] = [_("A reason for change is required.")]
            if attrs.get("version") is None:
                errors["version"] = [_("Send the version of the record you read (it guards against stale edits).")]
            if errors:
                raise serializers.ValidationError(errors)
        return attrs


class SiteCodeField(serializers.SlugRelatedField):
    """A site by its code, among the sites the requesting user works at (any other: "does not exist")."""

    def __init__(self, **kwargs):
        super().__init__(slug_field="code", **kwargs)

    def get_queryset(self):
        return sites_visible_to(self.context["request"].user)


class VoidSerializer(serializers.Serializer):
    reason = serializers.CharField()
    version = serializers.IntegerField(required=False, help_text="The version you read: 409 when it changed since.")


class VoidView(APIView):
    """POST {reason, version}: void one record of the user's sites (404 outside) and answer with it.
    A subclass names the selector that finds the record, the service that voids it (which decides
    who may and when) and the serializer of the answer."""

    permission_classes = [has_perm("scr_escc.enter_clinical_data")]
    selector = None  # staticmethod (user, pk) -> record
    service = None  # staticmethod (record_kwarg=record, user, reason, expected_version) -> record
    record_kwarg = ""
    output_serializer = None

    def post(self, request, pk):
        record = self.selector(request.user, pk)
        serializer = VoidSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        record = self.service(
            **{self.record_kwarg: record},
            user=request.user,
            reason=serializer.validated_data["reason"],
            expected_version=serializer.validated_data.get("version"),
        )
        return Response(self.output_serializer(record, context={"request": request}).data)


class StudySerializer(serializers.Serializer):
    protocol = serializers.CharField()
    phase = serializers.CharField()
    run_in_enrolled = serializers.IntegerField()
    run_in_min = serializers.IntegerField()
    run_in_max = serializers.IntegerField()
    treatment_related_grade5 = serializers.IntegerField()
    stopping_threshold = serializers.IntegerField()


class StudyView(APIView):
    @extend_schema(responses=StudySerializer, summary="The study's phase and stopping-rule figures (SPEC §10)")
    def get(self, request):
        return Response(StudySerializer(study_status()).data)


class TokenRequestSerializer(serializers.Serializer):
    # django-axes records the username in a varchar(255): longer input is a field error, not a 500.
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})
    otp = serializers.CharField(
        required=False, allow_blank=True, help_text="The authenticator code (PI and data managers)."
    )


class TokenView(APIView):
    """POST {"username","password"[,"otp"]} → {"token","expiry"}. Failures count towards the django-axes lockout."""

    authentication_classes = []
    permission_classes = []
    throttle_classes = [TokenThrottle]

    @extend_schema(
        request=TokenRequestSerializer,
        responses=inline_serializer(
            "TokenResponse", {"token": serializers.CharField(), "expiry": serializers.DateTimeField()}
        ),
        summary="Exchange a username and password (and a second factor) for an API token",
    )
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = authenticate(request._request, username=data["username"], password=data["password"])
        if getattr(request._request, "axes_locked_out", False):
            return Response({"detail": LOCKED_OUT}, status=status.HTTP_403_FORBIDDEN)
        if user is None:
            return Response(
                {"non_field_errors": [_("Unable to sign in with the username and password given.")]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        if user.must_change_password:
            return Response({"detail": _("Change your temporary password on the web first.")}, status=403)
        if accounts.two_factor_required(user) and not accounts.verify_second_factor(user=user, code=data.get("otp")):
            return Response(
                {"otp": [_("Give the current code of your authenticator app (or a recovery code).")]}, status=400
            )
        instance, token = accounts.issue_token(user=user)
        return Response({"token": token, "expiry": instance.expiry})


@extend_schema(request=None, responses={204: None}, summary="Sign out this API token")
class LogoutView(knox_views.LogoutView):
    pass


@extend_schema(request=None, responses={204: None}, summary="Sign out every API token of the user")
class LogoutAllView(knox_views.LogoutAllView):
    pass


class OpenRandomizationSerializer(serializers.Serializer):
    password = serializers.CharField(write_only=True, style={"input_type": "password"})


class ConfirmTerminationSerializer(OpenRandomizationSerializer):
    reason = serializers.CharField()


class ResumeRequestSerializer(serializers.Serializer):
    reason = serializers.CharField()


class AmendmentSerializer(OpenRandomizationSerializer):
    reference = serializers.CharField(max_length=100)
    reason = serializers.CharField()
    run_in_min = serializers.IntegerField(min_value=1, required=False)
    run_in_max = serializers.IntegerField(min_value=1, required=False)
    stopping_threshold = serializers.IntegerField(min_value=1, required=False)


class StudyDecisionView(APIView):
    """POST a phase decision; the answer is the study as it is after it (SPEC §10).

    The meaning of a signature is fixed by the server for each decision; a client cannot
    send its own. Refusals: 400 field errors, 403 wrong password or role, 409 study state.
    """

    serializer_class: type[serializers.Serializer]

    def post(self, request):
        serializer = self.serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        self.decide(request, serializer.validated_data)
        return Response(StudySerializer(study_status()).data)

    def decide(self, request, data: dict) -> None:
        raise NotImplementedError


@extend_schema(request=OpenRandomizationSerializer, responses=StudySerializer, summary="PI e-signs: open randomization")
class OpenRandomizationView(StudyDecisionView):
    permission_classes = [has_perm("scr_escc.open_randomization")]
    serializer_class = OpenRandomizationSerializer

    def decide(self, request, data):
        phases.open_randomization(user=request.user, password=data["password"], request=request)


@extend_schema(request=ConfirmTerminationSerializer, responses=StudySerializer, summary="PI e-signs: terminate")
class ConfirmTerminationView(StudyDecisionView):
    permission_classes = [has_perm("scr_escc.confirm_termination")]
    serializer_class = ConfirmTerminationSerializer

    def decide(self, request, data):
        phases.confirm_termination(user=request.user, password=data["password"], reason=data["reason"], request=request)


@extend_schema(
    request=ResumeRequestSerializer,
    responses=StudySerializer,
    summary="Data manager: ask to resume a halted study (the PI e-signs next)",
)
class ResumeView(StudyDecisionView):
    permission_classes = [has_perm("scr_escc.resume_study")]
    serializer_class = ResumeRequestSerializer

    def decide(self, request, data):
        phases.request_resume(user=request.user, reason=data["reason"])


@extend_schema(request=OpenRandomizationSerializer, responses=StudySerializer, summary="PI e-signs: resume")
class SignResumeView(StudyDecisionView):
    permission_classes = [has_perm("scr_escc.sign_resume")]
    serializer_class = OpenRandomizationSerializer

    def decide(self, request, data):
        phases.resume_study(user=request.user, password=data["password"], request=request)


@extend_schema(
    request=AmendmentSerializer,
    responses=StudySerializer,
    summary="PI e-signs a protocol amendment of the run-in limits or stopping threshold",
)
class AmendmentView(StudyDecisionView):
    permission_classes = [has_perm("scr_escc.amend_protocol")]
    serializer_class = AmendmentSerializer

    def decide(self, request, data):
        phases.amend_protocol(
            user=request.user,
            password=data["password"],
            reference=data["reference"],
            changes={field: data.get(field) for field in phases.LIMIT_FIELDS},
            reason=data["reason"],
            request=request,
        )


class AlertSerializer(serializers.ModelSerializer):
    status = serializers.CharField(source="public_status")

    class Meta:
        model = Alert
        fields = [
            "id",
            "kind",
            "key",
            "created_at",
            "sent_at",
            "status",
            "subject",
            "attempts",
            "last_error",
            "acknowledged_by",
            "acknowledged_at",
        ]

    acknowledged_by = serializers.SlugRelatedField(slug_field="username", read_only=True)


class AlertAcknowledge(APIView):
    permission_classes = [has_perm("scr_escc.view_alerts")]

    @extend_schema(request=None, responses=AlertSerializer, summary="Acknowledge an undelivered alert")
    def post(self, request, pk):
        alert = alerts.acknowledge(alert=get_object_or_404(Alert, pk=pk), user=request.user)
        return Response(AlertSerializer(alert).data)


class AlertList(generics.ListAPIView):
    permission_classes = [has_perm("scr_escc.view_alerts")]
    serializer_class = AlertSerializer
    filterset_fields = ["kind", "status"]

    def get_queryset(self):
        return Alert.objects.order_by("-created_at", "-pk")
