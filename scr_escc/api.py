"""API wiring shared by every app: the exception handler, role permissions, the study endpoints."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import generics, permissions, serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from scr_escc import services
from scr_escc.audit import StaleEdit
from scr_escc.exceptions import DomainError
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
                return Response(
                    {"detail": "Account locked after too many failed sign-in attempts. Try again in 30 minutes."},
                    status=status.HTTP_403_FORBIDDEN,
                )
            return Response(serializer.errors, status=status.HTTP_400_BAD_REQUEST)
        token, _ = Token.objects.get_or_create(user=serializer.validated_data["user"])
        return Response({"token": token.key})


class OpenRandomizationSerializer(serializers.Serializer):
    password = serializers.CharField(write_only=True, style={"input_type": "password"})
    meaning = serializers.CharField(required=False, default=services.OPEN_RANDOMIZATION_MEANING)


class ConfirmTerminationSerializer(serializers.Serializer):
    password = serializers.CharField(write_only=True, style={"input_type": "password"})
    reason = serializers.CharField()


class ResumeSerializer(serializers.Serializer):
    reason = serializers.CharField()


class OpenRandomizationView(APIView):
    permission_classes = [has_perm("scr_escc.open_randomization")]

    @extend_schema(
        request=OpenRandomizationSerializer,
        responses=StudySerializer,
        summary="PI e-signs: open randomization (409 if not allowed)",
    )
    def post(self, request):
        serializer = OpenRandomizationSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.open_randomization(
            user=request.user,
            password=serializer.validated_data["password"],
            meaning=serializer.validated_data["meaning"],
        )
        return Response(StudySerializer(study_status()).data)


class ConfirmTerminationView(APIView):
    permission_classes = [has_perm("scr_escc.confirm_termination")]

    @extend_schema(
        request=ConfirmTerminationSerializer,
        responses=StudySerializer,
        summary="PI e-signs: confirm termination of a halted study",
    )
    def post(self, request):
        serializer = ConfirmTerminationSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.confirm_termination(
            user=request.user,
            password=serializer.validated_data["password"],
            reason=serializer.validated_data["reason"],
        )
        return Response(StudySerializer(study_status()).data)


class ResumeView(APIView):
    permission_classes = [has_perm("scr_escc.resume_study")]

    @extend_schema(
        request=ResumeSerializer,
        responses=StudySerializer,
        summary="Admin: resume a halted study when the count is below the threshold",
    )
    def post(self, request):
        serializer = ResumeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.resume_study(user=request.user, reason=serializer.validated_data["reason"])
        return Response(StudySerializer(study_status()).data)


class AlertSerializer(serializers.ModelSerializer):
    status = serializers.CharField(source="public_status")

    class Meta:
        model = Alert
        fields = ["kind", "key", "created_at", "sent_at", "status", "subject", "attempts", "last_error"]


class AlertList(generics.ListAPIView):
    permission_classes = [has_perm("scr_escc.view_alerts")]
    serializer_class = AlertSerializer
    filterset_fields = ["kind", "status"]

    def get_queryset(self):
        return Alert.objects.order_by("-created_at", "-pk")
