"""JSON API of SPEC §10 for screenings, enrollment and participants. Thin: services decide."""

import django_filters
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from enrollment import selectors, services
from enrollment.eligibility import CRITERIA
from enrollment.models import Cohort, Participant, ParticipantStatus, Screening
from scr_escc.api import SiteCodeField, VoidSerializer, VoidView, has_perm

CLINICAL = "scr_escc.enter_clinical_data"


class ScreeningSerializer(serializers.ModelSerializer):
    site = SiteCodeField(required=False)
    previous_screening = serializers.PrimaryKeyRelatedField(
        queryset=Screening.objects.all(), required=False, allow_null=True
    )
    subject_id = serializers.SerializerMethodField()

    class Meta:
        model = Screening
        fields = [
            "id",
            "screening_number",
            "site",
            "initials",
            "date_of_birth",
            "sex",
            "consent_date",
            "screening_date",
            "ecog",
            "pgsga_score",
            "histology",
            *[c.field for c in CRITERIA],
            "notes",
            "eligible",
            "failed_criteria",
            "previous_screening",
            "subject_id",
            "voided",
            "version",
        ]
        read_only_fields = ["screening_number", "eligible", "failed_criteria", "voided", "version"]
        extra_kwargs = {c.field: {"required": True, "allow_null": False} for c in CRITERIA}

    def get_subject_id(self, obj) -> str | None:
        participant = getattr(obj, "participant", None)
        return participant.subject_id if participant else None

    def validate_previous_screening(self, value):
        if value is None:
            return value
        # The earlier screening must be visible to the caller: 404-like refusal otherwise.
        if not selectors.screenings_visible_to(self.context["request"].user).filter(pk=value.pk).exists():
            raise serializers.ValidationError(
                _('Invalid pk "%(pk_value)s" - object does not exist.') % {"pk_value": value.pk}
            )
        return value


class ScreeningFilter(django_filters.FilterSet):
    site = django_filters.CharFilter(field_name="site__code")

    class Meta:
        model = Screening
        fields = ["site", "eligible"]


class ScreeningListCreate(generics.ListCreateAPIView):
    serializer_class = ScreeningSerializer
    filterset_class = ScreeningFilter

    def get_permissions(self):
        if self.request.method == "POST":
            return [has_perm(CLINICAL)()]
        return super().get_permissions()

    def get_queryset(self):
        return selectors.screenings_visible_to(self.request.user).order_by("pk")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        screening = services.create_screening(
            site=data.pop("site", None),
            data=data,
            user=request.user,
            previous_screening=data.pop("previous_screening", None),
        )
        return Response(self.get_serializer(screening).data, status=status.HTTP_201_CREATED)


class ScreeningDetail(generics.RetrieveAPIView):
    serializer_class = ScreeningSerializer

    def get_object(self):
        return selectors.screening_get_for_user(self.request.user, self.kwargs["pk"])


class EnrollmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Participant
        fields = ["subject_id", "cohort", "enrollment_date"]


class ScreeningEnroll(APIView):
    permission_classes = [has_perm(CLINICAL)]

    @extend_schema(request=None, responses={201: EnrollmentSerializer}, summary="Enroll an eligible screening")
    def post(self, request, pk):
        screening = selectors.screening_get_for_user(request.user, pk)
        participant = services.enroll_participant(screening=screening, user=request.user)
        return Response(EnrollmentSerializer(participant).data, status=status.HTTP_201_CREATED)


class ParticipantSerializer(serializers.ModelSerializer):
    site = serializers.CharField(source="site.code")
    arm = serializers.SerializerMethodField()
    screening = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = Participant
        fields = [
            "subject_id",
            "site",
            "cohort",
            "status",
            "arm",
            "enrollment_date",
            "withdrawal_date",
            "completion_date",
            "death_date",
            "death_cause",
            "screening",
            "version",
        ]

    def get_arm(self, obj) -> str | None:
        return getattr(obj, "arm", None)


class ParticipantFilter(django_filters.FilterSet):
    site = django_filters.CharFilter(field_name="site__code")
    cohort = django_filters.ChoiceFilter(choices=Cohort.choices)
    status = django_filters.ChoiceFilter(choices=ParticipantStatus.choices)

    class Meta:
        model = Participant
        fields = ["site", "cohort", "status"]


class ParticipantList(generics.ListAPIView):
    serializer_class = ParticipantSerializer
    filterset_class = ParticipantFilter

    def get_queryset(self):
        return selectors.participants_visible_to(self.request.user).order_by("subject_id")


class ParticipantDetail(generics.RetrieveAPIView):
    serializer_class = ParticipantSerializer

    def get_object(self):
        return selectors.participant_get_for_user(self.request.user, self.kwargs["subject_id"])


class WithdrawSerializer(serializers.Serializer):
    withdrawal_date = serializers.DateField()
    withdrawal_reason = serializers.CharField()
    version = serializers.IntegerField(required=False)


class CompleteSerializer(serializers.Serializer):
    completion_date = serializers.DateField()
    version = serializers.IntegerField(required=False)


class DeathSerializer(serializers.Serializer):
    death_date = serializers.DateField()
    cause = serializers.CharField(help_text="E.g. disease progression. A fatal AE is a Grade 5 AE instead.")
    version = serializers.IntegerField(required=False)


class ParticipantStatusChange(APIView):
    """POST a status change (withdraw, complete, death): the participant as it is after it."""

    permission_classes = [has_perm(CLINICAL)]
    serializer_class: type[serializers.Serializer]

    def post(self, request, subject_id):
        participant = selectors.participant_get_for_user(request.user, subject_id)
        serializer = self.serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        self.change(participant=participant, user=request.user, expected_version=data.pop("version", None), **data)
        return Response(ParticipantSerializer(selectors.participant_get_for_user(request.user, subject_id)).data)


@extend_schema(request=WithdrawSerializer, responses=ParticipantSerializer, summary="Withdraw a participant")
class ParticipantWithdraw(ParticipantStatusChange):
    serializer_class = WithdrawSerializer

    def change(self, *, withdrawal_reason, **kwargs):
        services.withdraw_participant(reason=withdrawal_reason, **kwargs)


@extend_schema(request=CompleteSerializer, responses=ParticipantSerializer, summary="Record study completion")
class ParticipantComplete(ParticipantStatusChange):
    serializer_class = CompleteSerializer

    def change(self, **kwargs):
        services.complete_participant(**kwargs)


@extend_schema(request=DeathSerializer, responses=ParticipantSerializer, summary="Record a death (not through an AE)")
class ParticipantDeath(ParticipantStatusChange):
    serializer_class = DeathSerializer

    def change(self, **kwargs):
        services.record_death(**kwargs)


@extend_schema_view(
    post=extend_schema(request=VoidSerializer, responses=ScreeningSerializer, summary="Void a screening")
)
class ScreeningVoid(VoidView):
    selector = staticmethod(selectors.screening_get_for_user)
    service = staticmethod(services.void_screening)
    record_kwarg = "screening"
    output_serializer = ScreeningSerializer
