"""JSON API of SPEC §10 for adverse events and CTCAE terms. Thin: safety.services decides."""

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from enrollment.selectors import participant_get_for_user
from safety import selectors, services
from safety.models import ActionTaken, AdverseEvent, Attribution, CtcaeTerm, Outcome, Seriousness
from scr_escc.api import ReasonForChangeSerializerMixin, VoidSerializer, VoidView, has_perm

CLINICAL = "scr_escc.enter_clinical_data"


SERVICE_FIELDS = (
    "grade",
    "onset_date",
    "end_date",
    "ongoing",
    "serious",
    "seriousness_criteria",
    "action_taken",
    "outcome",
    "death_date",
)


class AttributionSerializer(serializers.Serializer):
    pd1 = serializers.ChoiceField(choices=Attribution.choices)
    chemo = serializers.ChoiceField(choices=Attribution.choices)
    ldrt = serializers.ChoiceField(choices=Attribution.choices)
    cfrt = serializers.ChoiceField(choices=Attribution.choices)


class AdverseEventSerializer(ReasonForChangeSerializerMixin, serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    subject_id = serializers.CharField(source="participant.subject_id", read_only=True)
    term = serializers.CharField(max_length=200, help_text="A CTCAE v5.0 term, or free text together with `soc`.")
    soc = serializers.CharField(required=False, help_text="System organ class; required for a free-text term.")
    ctcae_term = serializers.CharField(source="ctcae_term.term", read_only=True)
    meddra_code = serializers.CharField(source="ctcae_term.meddra_code", read_only=True)
    grade = serializers.IntegerField(min_value=1, max_value=5, help_text="CTCAE grade, 1 to 5.")
    onset_date = serializers.DateField()
    end_date = serializers.DateField(required=False, allow_null=True)
    ongoing = serializers.BooleanField(required=False)
    serious = serializers.BooleanField()
    seriousness_criteria = serializers.ListField(
        child=serializers.ChoiceField(choices=Seriousness.choices), required=False
    )
    attribution = AttributionSerializer(source="attributions")
    action_taken = serializers.ChoiceField(choices=ActionTaken.choices, required=False)
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    death_date = serializers.DateField(required=False, allow_null=True)
    treatment_related = serializers.BooleanField(read_only=True)
    attribution_sign_off = serializers.SerializerMethodField()
    voided = serializers.BooleanField(read_only=True)
    void_reason = serializers.CharField(read_only=True)
    version = serializers.IntegerField(required=False)

    def get_attribution_sign_off(self, ae) -> dict:
        """{"status": "pending"} or {"status": "signed", "signer", "signed_at", "meaning"}."""
        signature = ae.attribution_signature
        if signature is None:
            return {"status": "pending"}
        return {
            "status": "signed",
            "signer": signature.signer_name,
            "signed_at": signature.signed_at,
            "meaning": signature.meaning,
        }

    def to_service_data(self) -> dict:
        """The validated request in the service's field names; the service resolves the term."""
        attrs = dict(self.validated_data)
        data: dict = {}
        if "term" in attrs:
            data["term"], data["soc"] = attrs.pop("term"), attrs.pop("soc", None)
        for name, value in (attrs.pop("attributions", None) or {}).items():
            data[f"attribution_{name}"] = value
        for field in SERVICE_FIELDS:
            if field in attrs:
                data[field] = attrs[field]
        return data


# The services name fields as the model does; the API client sent `term` and `attribution`.
_API_FIELD = {"ctcae_term": "term", "other_specify": "term"}


def _as_api_errors(exc: DjangoValidationError) -> serializers.ValidationError:
    """Field errors of the safety rules, keyed by the names the API client used."""
    errors: dict = {}
    for field, messages in exc.message_dict.items():
        if field.startswith("attribution_"):
            errors.setdefault("attribution", {})[field.removeprefix("attribution_")] = messages
        else:
            errors.setdefault(_API_FIELD.get(field, field), []).extend(messages)
    return serializers.ValidationError(errors)


class AdverseEventFilter(django_filters.FilterSet):
    site = django_filters.CharFilter(field_name="participant__site__code")
    grade = django_filters.NumberFilter()
    serious = django_filters.BooleanFilter()
    treatment_related = django_filters.BooleanFilter()

    class Meta:
        model = AdverseEvent
        fields = ["site", "grade", "serious", "treatment_related", "voided"]


class ParticipantAdverseEvents(generics.ListCreateAPIView):
    serializer_class = AdverseEventSerializer
    filterset_class = AdverseEventFilter

    def get_permissions(self):
        if self.request.method == "POST":
            return [has_perm(CLINICAL)()]
        return super().get_permissions()

    def get_participant(self):
        return participant_get_for_user(self.request.user, self.kwargs["subject_id"])

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no participant in the URL
            return AdverseEvent.objects.none()
        return selectors.adverse_events_of(self.get_participant()).select_related("participant").order_by("pk")

    def create(self, request, *args, **kwargs):
        participant = self.get_participant()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            ae = services.record_adverse_event(
                participant=participant, data=serializer.to_service_data(), user=request.user
            )
        except DjangoValidationError as exc:
            raise _as_api_errors(exc) from exc
        return Response(self.get_serializer(ae).data, status=status.HTTP_201_CREATED)


class AdverseEventDetail(generics.RetrieveUpdateAPIView):
    serializer_class = AdverseEventSerializer
    http_method_names = ["get", "patch", "head", "options"]

    def get_object(self):
        return selectors.adverse_event_get_for_user(self.request.user, self.kwargs["pk"])

    def get_permissions(self):
        if self.request.method == "PATCH":
            return [has_perm(CLINICAL)()]
        return super().get_permissions()

    def partial_update(self, request, *args, **kwargs):
        ae = self.get_object()
        serializer = self.get_serializer(ae, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        try:
            ae = services.update_adverse_event(
                ae=ae,
                data=serializer.to_service_data(),
                user=request.user,
                reason=serializer.validated_data.get("reason_for_change"),
                expected_version=serializer.validated_data.get("version"),
            )
        except DjangoValidationError as exc:
            raise _as_api_errors(exc) from exc
        return Response(self.get_serializer(ae).data)


@extend_schema_view(
    post=extend_schema(request=VoidSerializer, responses=AdverseEventSerializer, summary="Void an AE with a reason")
)
class AdverseEventVoid(VoidView):
    selector = staticmethod(selectors.adverse_event_get_for_user)
    service = staticmethod(services.void_adverse_event)
    record_kwarg = "ae"
    output_serializer = AdverseEventSerializer


class SignAttributionSerializer(serializers.Serializer):
    password = serializers.CharField(write_only=True, style={"input_type": "password"})
    attribution = AttributionSerializer(required=False, help_text="The attribution as you sign it, if it changes.")
    reason_for_change = serializers.CharField(required=False, allow_blank=True)
    version = serializers.IntegerField(help_text="The version of the AE you read: you sign what you saw.")


class AdverseEventSignAttribution(APIView):
    permission_classes = [has_perm("scr_escc.sign_ae_attribution")]

    @extend_schema(
        request=SignAttributionSerializer,
        responses=AdverseEventSerializer,
        summary="Investigator or PI e-signs the AE's attribution (changing it first, with a reason)",
    )
    def post(self, request, pk):
        ae = selectors.adverse_event_get_for_user(request.user, pk)
        serializer = SignAttributionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            ae = services.sign_attribution(
                ae=ae,
                user=request.user,
                password=data["password"],
                attributions=data.get("attribution"),
                reason=data.get("reason_for_change"),
                expected_version=data["version"],
                request=request,
            )
        except DjangoValidationError as exc:
            raise _as_api_errors(exc) from exc
        return Response(AdverseEventSerializer(ae).data)


class CtcaeTermSerializer(serializers.ModelSerializer):
    class Meta:
        model = CtcaeTerm
        fields = [
            "id",
            "meddra_code",
            "term",
            "soc",
            "grade_1",
            "grade_2",
            "grade_3",
            "grade_4",
            "grade_5",
            "definition",
        ]


class CtcaeTermList(generics.ListAPIView):
    serializer_class = CtcaeTermSerializer
    filter_backends = []

    def get_queryset(self):
        return selectors.search_terms(self.request.query_params.get("search", ""), limit=1000)
