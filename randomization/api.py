from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from enrollment.selectors import participant_get_for_user
from randomization import services
from randomization.models import Allocation
from scr_escc.api import has_perm


class AllocationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Allocation
        fields = ["arm", "randomized_at", "stratum"]


class Randomize(APIView):
    permission_classes = [has_perm("scr_escc.enter_clinical_data")]

    @extend_schema(
        request=None,
        responses={201: AllocationSerializer},
        summary="Randomize a participant (409 if not allowed or already randomized)",
    )
    def post(self, request, subject_id):
        participant = participant_get_for_user(request.user, subject_id)
        allocation = services.randomize(participant=participant, user=request.user)
        return Response(AllocationSerializer(allocation).data, status=status.HTTP_201_CREATED)
