"""API of the reports: GET /api/v1/exports/{dataset}.csv."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.views import APIView

from reports import exports
from reports.models import ExportRecord
from scr_escc.api import has_perm


class ExportView(APIView):
    """GET /api/v1/exports/{dataset}.csv — the same streamed CSV as the Exports page (admins)."""

    permission_classes = [has_perm(exports.EXPORT_PERMISSION)]

    def perform_content_negotiation(self, request, force=False):
        # A client asking for text/csv still gets its errors (401/403/404) as JSON, not a 406.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        summary="Export a dataset as CSV (UTF-8 with BOM), streamed",
        parameters=[
            OpenApiParameter("dataset", str, OpenApiParameter.PATH, enum=list(exports.ORDER)),
            OpenApiParameter(
                "deidentified",
                bool,
                description="Drop direct identifiers (initials; date of birth becomes age at screening).",
            ),
        ],
        responses={(200, "text/csv"): OpenApiTypes.STR},
    )
    def get(self, request, dataset):
        export = exports.start_export(
            user=request.user,
            dataset=dataset,
            channel=ExportRecord.Channel.API,
            deidentified=exports.wants_deidentified(request.query_params),
        )
        return exports.streaming_response(export)
