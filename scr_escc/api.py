"""API wiring shared by every app: the exception handler, role permissions, the study endpoints."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import generics, permissions, serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from scr_escc import alerts, phases
from scr_escc.audit import StaleEdit
from scr_escc.exceptions import DomainError
from scr_escc.middleware import LOCKED_OUT
from scr_escc.models import Alert
from scr_escc.selectors import study_status


def exception_handler(exc, context):
    """Domain refusals → 409 {"detail"}; model validation → 400 field errors; the rest as DRF."""
    if isinstance(exc, DomainError):
        return Response({"detail": exc.message}, status=exc.status_code)
    if isinstance(exc, StaleEdit):
        return Response({"detail": exc.message}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            return Response(exc.message_dict, status=status.HTTP_400_BAD_REQUEST)
        return Response({"non_field_errors": exc.messages}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404):
        return Response({"detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, DjangoPermissionDenied):
        return Response({"detail": "You do not have permission to perform this action."}, status=403)
    return drf_exception_handler(exc, context)


def has_perm(codename: str) -> type[permissions.BasePermission]:
    """A DRF permission class requiring one Django permission (a role's capability)."""

    class HasPerm(permissions.BasePermission):
        def has_permission(self, request, view):
            return bool(request.user and request.user.is_authenticated and request.user.has_perm(codename))

    HasPerm.__name__ = f"HasPerm_{codename.replace('.', '_')}"
    return HasPerm


class ReasonForChangeSerializerMixin(serializers.Serializer):
    """API twin of the form mixin: PATCH/PUT need `reason_for_change`; `version` is optional."""

    reason_for_change = serializers.CharField(write_only=True, required=False, allow_blank=True)
    version = serializers.IntegerField(required=False)

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if self.instance is not None and not (attrs.get("reason_for_change") or "").strip():
            raise serializers.ValidationError({"reason_for_change": [_("A reason for change is required.")]})
        return attrs


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


class TokenView(ObtainAuthToken):
    """POST {"username","password"} → {"token"}. Failures count towards the django-axes lockout."""

    @extend_schema(
        request=inline_serializer(
            "TokenRequest", {"username": serializers.CharField(), "password": serializers.CharField()}
        ),
        responses=inline_serializer("TokenResponse", {"token": serializers.CharField()}),
        summary="Exchange a username and password for an API token",
    )
    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        if not serializer.is_valid():
            if getattr(request, "axes_locked_out", False):
                return Response({"detail": LOCKED_OUT}, status=status.HTTP_403_FORBIDDEN)
            return Response(serializer.errors, status=status.HTTP_400_BAD_REQUEST)
        token, _ = Token.objects.get_or_create(user=serializer.validated_data["user"])
        return Response({"token": token.key})


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
