"""JSON API of treatment, tumour assessments and follow-up. Thin: the efficacy services decide."""

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from efficacy import followup, selectors, treatment
from efficacy.models import (
    Agent,
    ClinicalProgression,
    DoseChange,
    DoseUnit,
    FollowUpContact,
    NewAnticancerTherapy,
    RadiotherapyCourse,
    SystemicDose,
)
from enrollment.selectors import participant_get_for_user
from scr_escc.api import ReasonForChangeSerializerMixin, VoidSerializer, has_perm

CLINICAL = "scr_escc.enter_clinical_data"
RECORD_FIELDS = ["id", "subject_id", "voided", "void_reason", "version", "reason_for_change"]


def _subject_id(serializer_class):
    serializer_class._declared_fields["subject_id"] = serializers.CharField(
        source="participant.subject_id", read_only=True
    )
    return serializer_class


@_subject_id
class DoseSerializer(ReasonForChangeSerializerMixin, serializers.ModelSerializer):
    class Meta:
        model = SystemicDose
        fields = [*RECORD_FIELDS[:2], "cycle", "agent", "administered_on", "dose", "unit", "change", "change_reason"]
        fields += RECORD_FIELDS[2:]
        read_only_fields = ["voided", "void_reason"]


@_subject_id
class CourseSerializer(ReasonForChangeSerializerMixin, serializers.ModelSerializer):
    class Meta:
        model = RadiotherapyCourse
        fields = [*RECORD_FIELDS[:2], "modality", "start_date", "end_date", "total_dose_gy", "fractions", "target_site"]
        fields += RECORD_FIELDS[2:]
        read_only_fields = ["voided", "void_reason"]


@_subject_id
class ClinicalProgressionSerializer(ReasonForChangeSerializerMixin, serializers.ModelSerializer):
    class Meta:
        model = ClinicalProgression
        fields = [*RECORD_FIELDS[:2], "progression_date", "reason", *RECORD_FIELDS[2:]]
        read_only_fields = ["voided", "void_reason"]


@_subject_id
class NewTherapySerializer(ReasonForChangeSerializerMixin, serializers.ModelSerializer):
    class Meta:
        model = NewAnticancerTherapy
        fields = [*RECORD_FIELDS[:2], "start_date", "kind", "therapy", *RECORD_FIELDS[2:]]
        read_only_fields = ["voided", "void_reason"]


@_subject_id
class ContactSerializer(ReasonForChangeSerializerMixin, serializers.ModelSerializer):
    class Meta:
        model = FollowUpContact
        fields = [*RECORD_FIELDS[:2], "contact_date", "method", "notes", *RECORD_FIELDS[2:]]
        read_only_fields = ["voided", "void_reason"]


class AgentDoseSerializer(serializers.Serializer):
    administered_on = serializers.DateField()
    change = serializers.ChoiceField(choices=DoseChange.choices, default=DoseChange.AS_PLANNED)
    dose = serializers.DecimalField(max_digits=8, decimal_places=2, required=False, allow_null=True)
    unit = serializers.ChoiceField(choices=DoseUnit.choices, required=False, allow_blank=True, default="")
    change_reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)


class CycleSerializer(serializers.Serializer):
    cycle = serializers.IntegerField(min_value=1)
    pd1 = AgentDoseSerializer()
    paclitaxel = AgentDoseSerializer()
    platinum = AgentDoseSerializer()


KINDS = {
    "doses": (SystemicDose, DoseSerializer, None, treatment.update_dose, treatment.void_dose, "dose"),
    "radiotherapy": (
        RadiotherapyCourse, CourseSerializer, treatment.record_course, treatment.update_course,
        treatment.void_course, "course",
    ),
    "clinical-progression": (
        ClinicalProgression, ClinicalProgressionSerializer, followup.record_clinical_progression,
        followup.update_simple, followup.void_simple, "record",
    ),
    "new-therapies": (
        NewAnticancerTherapy, NewTherapySerializer, followup.record_new_therapy, followup.update_simple,
        followup.void_simple, "record",
    ),
    "follow-up-contacts": (
        FollowUpContact, ContactSerializer, followup.record_contact, followup.update_simple, followup.void_simple,
        "record",
    ),
}  # fmt: skip


class RecordListCreate(generics.ListCreateAPIView):
    """GET a participant's records of one kind; POST a new one (site staff). One subclass per kind."""

    kind = ""

    def get_permissions(self):
        return [has_perm(CLINICAL)()] if self.request.method == "POST" else super().get_permissions()

    def participant(self):
        return participant_get_for_user(self.request.user, self.kwargs["subject_id"])

    def get_queryset(self):
        model = KINDS[self.kind][0]
        if getattr(self, "swagger_fake_view", False):
            return model.objects.none()
        return model.objects.filter(participant=self.participant()).select_related("participant").order_by("pk")

    def create(self, request, *args, **kwargs):
        create = KINDS[self.kind][2]
        if create is None:
            raise Http404  # doses come by cycle
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        record = create(participant=self.participant(), data=dict(serializer.validated_data), user=request.user)
        return Response(self.get_serializer(record).data, status=status.HTTP_201_CREATED)


class RecordDetail(generics.RetrieveUpdateAPIView):
    http_method_names = ["get", "patch", "head", "options"]
    kind = ""

    def get_permissions(self):
        return [has_perm(CLINICAL)()] if self.request.method == "PATCH" else super().get_permissions()

    def get_object(self):
        return selectors.record_get_for_user(KINDS[self.kind][0], self.request.user, self.kwargs["pk"])

    def partial_update(self, request, *args, **kwargs):
        _model, _serializer, _create, update, _void, name = KINDS[self.kind]
        record = self.get_object()
        serializer = self.get_serializer(record, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        record = update(
            **{name: record},
            data=data,
            user=request.user,
            reason=data.get("reason_for_change"),
            expected_version=data.get("version"),
        )
        return Response(self.get_serializer(record).data)


class RecordVoid(generics.GenericAPIView):
    permission_classes = [has_perm(CLINICAL)]
    kind = ""

    def post(self, request, pk):
        model, serializer_class, _create, _update, void, name = KINDS[self.kind]
        record = selectors.record_get_for_user(model, request.user, pk)
        body = VoidSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        record = void(
            **{name: record},
            user=request.user,
            reason=body.validated_data["reason"],
            expected_version=body.validated_data.get("version"),
        )
        return Response(serializer_class(record).data)


def views_for(kind: str) -> tuple:
    """(list/create, detail, void) views of one kind of record, each with its serializer for the schema."""
    model, serializer, create, _update, _void, _name = KINDS[kind]
    title = model._meta.verbose_name
    attrs = {"kind": kind, "serializer_class": serializer, "queryset": model.objects.none()}
    listing = type(f"{model.__name__}ListCreate", (RecordListCreate,), attrs)
    if create is None:
        listing.http_method_names = ["get", "head", "options"]
    detail = type(f"{model.__name__}Detail", (RecordDetail,), attrs)
    void = extend_schema(request=VoidSerializer, responses=serializer, summary=f"Void a {title} with a reason")(
        type(f"{model.__name__}Void", (RecordVoid,), attrs)
    )
    return listing, detail, void


class CycleCreate(APIView):
    permission_classes = [has_perm(CLINICAL)]

    @extend_schema(request=CycleSerializer, responses=DoseSerializer(many=True), summary="Record one cycle")
    def post(self, request, subject_id):
        participant = participant_get_for_user(request.user, subject_id)
        body = CycleSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        doses = {agent.value: dict(body.validated_data[agent.value]) for agent in Agent}
        saved = treatment.record_cycle(
            participant=participant, cycle=body.validated_data["cycle"], doses=doses, user=request.user
        )
        return Response(DoseSerializer(saved, many=True).data, status=status.HTTP_201_CREATED)
