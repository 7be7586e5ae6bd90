"""JSON API of the deviation log. Thin: deviations.services decides."""

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from deviations import selectors, services
from deviations.models import DeviationCategory, ProtocolDeviation
from enrollment.selectors import participant_get_for_user
from scr_escc.api import ReasonForChangeSerializerMixin, SiteCodeField, VoidSerializer, VoidView, has_perm

CLINICAL = "scr_escc.enter_clinical_data"


class DeviationSerializer(ReasonForChangeSerializerMixin, serializers.ModelSerializer):
    site = SiteCodeField(required=False)
    subject_id = serializers.CharField(
        required=False, allow_null=True, help_text="The participant's subject ID; empty for a deviation of the site."
    )

    class Meta:
        model = ProtocolDeviation
        fields = [
            "id",
            "site",
            "subject_id",
            "deviation_date",
            "category",
            "important",
            "description",
            "corrective_action",
            "voided",
            "void_reason",
            "version",
            "reason_for_change",
        ]
        read_only_fields = ["voided", "void_reason"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["subject_id"] = instance.participant.subject_id if instance.participant_id else None
        return data


class DeviationFilter(django_filters.FilterSet):
    site = django_filters.CharFilter(field_name="site__code")
    category = django_filters.ChoiceFilter(choices=DeviationCategory.choices)

    class Meta:
        model = ProtocolDeviation
        fields = ["site", "category", "important", "voided"]


class DeviationListCreate(generics.ListCreateAPIView):
    serializer_class = DeviationSerializer
    filterset_class = DeviationFilter

    def get_permissions(self):
        return [has_perm(CLINICAL)()] if self.request.method == "POST" else super().get_permissions()

    def get_queryset(self):
        return selectors.deviations_visible_to(self.request.user).order_by("pk")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        subject_id = data.pop("subject_id", None)
        participant = participant_get_for_user(request.user, subject_id) if subject_id else None
        deviation = services.record_deviation(
            data=data, user=request.user, site=data.pop("site", None), participant=participant
        )
        return Response(self.get_serializer(deviation).data, status=status.HTTP_201_CREATED)


class DeviationDetail(generics.RetrieveUpdateAPIView):
    serializer_class = DeviationSerializer
    http_method_names = ["get", "patch", "head", "options"]

    def get_object(self):
        return selectors.deviation_get_for_user(self.request.user, self.kwargs["pk"])

    def get_permissions(self):
        return [has_perm(CLINICAL)()] if self.request.method == "PATCH" else super().get_permissions()

    def partial_update(self, request, *args, **kwargs):
        deviation = self.get_object()
        serializer = self.get_serializer(deviation, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        deviation = services.update_deviation(
            deviation=deviation,
            data=data,
            user=request.user,
            reason=data.get("reason_for_change"),
            expected_version=data.get("version"),
        )
        return Response(self.get_serializer(deviation).data)


@extend_schema_view(
    post=extend_schema(request=VoidSerializer, responses=DeviationSerializer, summary="Void a deviation with a reason")
)
class DeviationVoid(VoidView):
    selector = staticmethod(selectors.deviation_get_for_user)
    service = staticmethod(services.void_deviation)
    record_kwarg = "deviation"
    output_serializer = DeviationSerializer
