"""API of the reports: the CSV exports, the efficacy results, the PI's access decision."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from reports import exports
from reports.efficacy_results import efficacy_results
from reports.models import ExportRecord
from scr_escc.api import has_perm
from scr_escc.results_access import set_comparative_results_open


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


def _curve(c, times) -> dict:
    return {
        "group": c.group,
        "n": c.n,
        "events": c.events,
        "median_days": c.median,
        "median_ci95": [c.median_lower, c.median_upper],
        "at_risk": [{"day": t, "n": n} for t, n in zip(times, c.at_risk, strict=True)],
        "steps": [{"day": t, "survival": s, "lower": lo, "upper": up} for t, s, lo, up in c.steps],
    }


def _analysis(a) -> dict:
    comparison = a.comparison
    return {
        "curves": [_curve(c, a.times) for c in a.curves],
        "comparison": None
        if comparison is None
        else {
            "hazard_ratio_a_vs_b": comparison.hazard_ratio,
            "hazard_ratio_ci95": [comparison.hr_lower, comparison.hr_upper],
            "logrank_chi2": comparison.logrank_statistic,
            "logrank_p": comparison.logrank_p,
            "stratified": comparison.stratified,
            "note": comparison.note,
        },
    }


class EfficacyResultsView(APIView):
    """GET /api/v1/efficacy/results/ — PFS and OS as on the Efficacy page; `by_arm` is null unless the
    user may see results by arm (data managers; the PI once opened by the PI's e-signature)."""

    permission_classes = [has_perm("scr_escc.view_efficacy_results")]

    @extend_schema(summary="Kaplan–Meier PFS and OS: randomized (pooled, by arm if allowed) and run-in",
                   responses=OpenApiTypes.OBJECT)  # fmt: skip
    def get(self, request):
        results = efficacy_results(request.user)
        return Response(
            {
                "by_arm_visible": results.by_arm_visible,
                "randomized_n": results.randomized_n,
                "run_in_n": results.run_in_n,
                "pooled": {e: _analysis(a) for e, a in results.pooled.items()},
                "by_arm": None if results.by_arm is None else {e: _analysis(a) for e, a in results.by_arm.items()},
                "run_in": {e: _analysis(a) for e, a in results.run_in.items()},
            }
        )


class ComparativeResultsAccessSerializer(serializers.Serializer):
    open = serializers.BooleanField(help_text="true opens the results by arm to the PI, false closes them.")
    password = serializers.CharField(write_only=True, style={"input_type": "password"})
    reason = serializers.CharField()


class ComparativeResultsAccessView(APIView):
    """POST /api/v1/study/comparative-results/ — the PI e-signs opening or closing results by arm to the PI."""

    permission_classes = [has_perm("scr_escc.sign_results_access")]

    @extend_schema(request=ComparativeResultsAccessSerializer, responses=OpenApiTypes.OBJECT,
                   summary="PI e-signs: open or close the efficacy results by arm to the PI")  # fmt: skip
    def post(self, request):
        body = ComparativeResultsAccessSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        study = set_comparative_results_open(
            user=request.user, open_=data["open"], password=data["password"], reason=data["reason"], request=request
        )
        return Response({"comparative_results_open_to_pi": study.comparative_results_open_to_pi})
