"""JSON API of tumour assessments (RECIST 1.1 scored by the services), a participant's efficacy
summary and schedule, and the site worklist."""

from collections.abc import Mapping
from decimal import Decimal

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from efficacy import assessments, selectors
from efficacy.models import NEW_LESION_CHOICES, NON_TARGET_CHOICES, RESPONSE_CHOICES, Method, TumourAssessment
from efficacy.worklist import worklist_for
from enrollment.selectors import participant_get_for_user
from scr_escc.api import ReasonForChangeSerializerMixin, VoidSerializer, has_perm
from scr_escc.selectors import sites_visible_to

CLINICAL = "scr_escc.enter_clinical_data"


class LesionInSerializer(serializers.Serializer):
    organ = serializers.CharField(max_length=80)
    location = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    lymph_node = serializers.BooleanField(default=False)
    diameter_mm = serializers.DecimalField(max_digits=5, decimal_places=1, min_value=0, required=False)


class AssessmentInSerializer(ReasonForChangeSerializerMixin, serializers.Serializer):
    """A baseline (`baseline: true`, `targets` and `non_targets` as lists of lesions) or a follow-up
    (`targets` {"T1": mm or null}, `non_targets` {"NT1": state}, new lesion, investigator response)."""

    baseline = serializers.BooleanField(default=False)
    assessment_date = serializers.DateField()
    method = serializers.ChoiceField(choices=Method.choices, default=Method.CT)
    targets = serializers.JSONField(default=list)
    non_targets = serializers.JSONField(default=list)
    new_lesion = serializers.ChoiceField(choices=NEW_LESION_CHOICES, default="no")
    new_lesion_description = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)
    investigator_response = serializers.ChoiceField(choices=RESPONSE_CHOICES, required=False, allow_blank=True)
    comments = serializers.CharField(required=False, allow_blank=True, default="")

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if attrs["baseline"] and self.instance is None:
            for key in ("targets", "non_targets"):
                lesions = LesionInSerializer(data=attrs[key], many=True)
                if not isinstance(attrs[key], list) or not lesions.is_valid():
                    raise serializers.ValidationError(
                        {key: getattr(lesions, "errors", None) or [_("A list of lesions.")]}
                    )
                attrs[key] = lesions.validated_data
        else:
            for key in ("targets", "non_targets"):
                if attrs[key] == []:
                    attrs[key] = {}
                if not isinstance(attrs[key], dict):
                    raise serializers.ValidationError({key: [_('An object: lesion code → value, e.g. {"T1": 12.5}.')]})
            try:
                attrs["targets"] = {k: None if v is None else _mm(v) for k, v in attrs["targets"].items()}
            except (ValueError, ArithmeticError):
                raise serializers.ValidationError({"targets": [_("Measurements are numbers of millimetres or null.")]})
            states = {value for value, _label in NON_TARGET_CHOICES}
            if any(not isinstance(v, str) or v not in states for v in attrs["non_targets"].values()):
                message = _("States are one of %(states)s.") % {"states": ", ".join(sorted(states))}
                raise serializers.ValidationError({"non_targets": [message]})
        return attrs


def _mm(value):
    number = Decimal(str(value))
    if not number.is_finite() or number < 0 or number > 999:
        raise ValueError(value)
    return number.quantize(Decimal("0.1"))


class AssessmentSerializer(serializers.ModelSerializer):
    subject_id = serializers.CharField(source="participant.subject_id", read_only=True)
    lesions = serializers.SerializerMethodField()
    disagrees = serializers.BooleanField(read_only=True)

    class Meta:
        model = TumourAssessment
        fields = [
            "id", "subject_id", "baseline", "assessment_date", "method", "lesions", "new_lesion",
            "new_lesion_description", "investigator_response", "sum_mm", "nadir_mm", "change_from_baseline_pct",
            "change_from_nadir_pct", "target_response", "non_target_response", "computed_response", "disagrees",
            "comments", "voided", "void_reason", "version",
        ]  # fmt: skip
        read_only_fields = fields

    def get_lesions(self, assessment) -> list[dict]:
        results = assessment.results.select_related("lesion").order_by("-lesion__target", "lesion__number")
        return [
            {
                "code": r.lesion.code,
                "target": r.lesion.target,
                "organ": r.lesion.organ,
                "location": r.lesion.location,
                "lymph_node": r.lesion.lymph_node,
                "diameter_mm": r.diameter_mm,
                "state": r.status or None,
            }
            for r in results
        ]


class AssessmentListCreate(generics.ListCreateAPIView):
    """GET a participant's assessments with the computed responses; POST a baseline or a follow-up."""

    serializer_class = AssessmentSerializer

    def get_permissions(self):
        return [has_perm(CLINICAL)()] if self.request.method == "POST" else super().get_permissions()

    def participant(self):
        return participant_get_for_user(self.request.user, self.kwargs["subject_id"])

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return TumourAssessment.objects.none()
        return TumourAssessment.objects.filter(participant=self.participant()).order_by("assessment_date", "pk")

    @extend_schema(request=AssessmentInSerializer, responses=AssessmentSerializer)
    def post(self, request, *args, **kwargs):
        body = AssessmentInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        record = assessments.record_baseline if data["baseline"] else assessments.record_follow_up
        saved = record(
            participant=self.participant(),
            data=data,
            targets=data["targets"],
            non_targets=data["non_targets"],
            user=request.user,
        )
        saved.refresh_from_db()
        return Response(AssessmentSerializer(saved).data, status=status.HTTP_201_CREATED)


class AssessmentDetail(APIView):
    def get_permissions(self):
        return [has_perm(CLINICAL)()] if self.request.method == "PATCH" else super().get_permissions()

    def get_object(self):
        return selectors.record_get_for_user(TumourAssessment, self.request.user, self.kwargs["pk"])

    @extend_schema(responses=AssessmentSerializer)
    def get(self, request, pk):
        return Response(AssessmentSerializer(self.get_object()).data)

    @extend_schema(request=AssessmentInSerializer, responses=AssessmentSerializer, summary="Correct an assessment")
    def patch(self, request, pk):
        assessment = self.get_object()
        if not isinstance(request.data, Mapping):
            return Response({"non_field_errors": [_("Send a JSON object.")]}, status=status.HTTP_400_BAD_REQUEST)
        body = AssessmentInSerializer(assessment, data={"assessment_date": assessment.assessment_date, **request.data})
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        targets, states = data["targets"], data["non_targets"]  # only the lesions that change
        data = {k: v for k, v in data.items() if k in request.data or k in ("reason_for_change", "version")}
        saved = assessments.update_assessment(
            assessment=assessment,
            data=data,
            targets=targets,
            non_targets=states,
            user=request.user,
            reason=data.get("reason_for_change"),
            expected_version=data.get("version"),
        )
        return Response(AssessmentSerializer(saved).data)


class AssessmentVoid(APIView):
    permission_classes = [has_perm(CLINICAL)]

    @extend_schema(request=VoidSerializer, responses=AssessmentSerializer, summary="Void an assessment")
    def post(self, request, pk):
        assessment = selectors.record_get_for_user(TumourAssessment, request.user, pk)
        body = VoidSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        saved = assessments.void_assessment(
            assessment=assessment,
            user=request.user,
            reason=body.validated_data["reason"],
            expected_version=body.validated_data.get("version"),
        )
        return Response(AssessmentSerializer(saved).data)


class VisitSerializer(serializers.Serializer):
    kind = serializers.CharField()
    number = serializers.IntegerField()
    target = serializers.DateField()
    window_start = serializers.DateField()
    window_end = serializers.DateField()
    done_on = serializers.DateField(allow_null=True)
    status = serializers.CharField()


class EfficacySummary(APIView):
    """A participant's treatment start, best response, progression, last known alive and schedule."""

    @extend_schema(responses=OpenApiTypes.OBJECT, summary="Efficacy summary and visit schedule of a participant")
    def get(self, request, subject_id):
        summary = selectors.efficacy_summary(participant_get_for_user(request.user, subject_id))
        progression = summary.progression
        return Response(
            {
                "subject_id": summary.participant.subject_id,
                "start_of_treatment": summary.start_of_treatment,
                "first_doses": summary.first_doses,
                "best_overall_response": summary.best.response.value,
                "best_response_confirmed": summary.best.confirmed,
                "progression_date": progression.date if progression else None,
                "progression_source": progression.source if progression else None,
                "death_date": summary.participant.death_date,
                "last_known_alive": summary.last_known_alive,
                "missed_assessments": summary.missed,
                "next_visit": VisitSerializer(summary.next_visit).data if summary.next_visit else None,
                "next_cycle_due": summary.next_cycle,
                "visits": VisitSerializer(summary.visits, many=True).data,
            }
        )


class Worklist(APIView):
    """What is due or overdue this week at the user's sites (optionally one: `?site=SH01`)."""

    @extend_schema(
        responses=OpenApiTypes.OBJECT,
        summary="Due and overdue assessments, contacts and cycles; stale AEs; screenings to enroll",
    )
    def get(self, request):
        site = None
        if request.query_params.get("site"):
            site = sites_visible_to(request.user).filter(code=request.query_params["site"]).first()
            if site is None:
                return Response({"site": [_("No such site among yours.")]}, status=status.HTTP_400_BAD_REQUEST)
        work = worklist_for(request.user, site=site)

        def visit(item):
            where = {"subject_id": item.participant.subject_id, "site": item.participant.site.code}
            return where | {"missed": item.missed} | VisitSerializer(item.visit).data

        return Response(
            {
                "today": work.today,
                "assessments": [visit(i) for i in work.assessments],
                "follow_ups": [visit(i) for i in work.follow_ups],
                "cycles": [
                    {"subject_id": i.participant.subject_id, "cycle": i.cycle, "due": i.cycle_due, "overdue": i.overdue}
                    for i in work.cycles
                ],
                "stale_adverse_events": [
                    {"id": ae.pk, "subject_id": ae.participant.subject_id, "term": ae.term, "updated_at": ae.updated_at}
                    for ae in work.stale_aes
                ],
                "screenings_to_enroll": [
                    {"id": s.pk, "screening_number": s.screening_number, "screening_date": s.screening_date}
                    for s in work.screenings
                ],
            }
        )
