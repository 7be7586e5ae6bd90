"""Pages of the reports: the PI safety dashboard and the CSV exports."""

from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from reports import charts, exports
from reports.consort import consort_svg
from reports.dashboard import dashboard_panels, dashboard_summary
from reports.models import ExportRecord
from scr_escc.csvexport import MAX_DATE_SHIFT_DAYS, TYPE_MEANINGS
from scr_escc.selectors import sites_visible_to


class DashboardView(PermissionRequiredMixin, TemplateView):
    """The PI safety dashboard: PI, monitor and admin; read-only for everyone."""

    permission_required = "scr_escc.view_safety_dashboard"
    template_name = "reports/dashboard.html"

    def get_site(self):
        code = self.request.GET.get("site")
        if not code:
            return None
        return get_object_or_404(sites_visible_to(self.request.user), code=code)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        site = self.get_site()
        summary = dashboard_summary(site=site)
        links = dashboard_links(site)
        cohort_labels = {"run_in": _("Safety run-in"), "randomized": _("Randomized phase")}
        context.update(
            s=summary,
            site=site,
            sites=sites_visible_to(self.request.user),
            links=links,
            consort=mark_safe(consort_svg(summary, links=links)),  # noqa: S308 - built from escaped parts
            enrollment_chart=mark_safe(charts.cumulative_enrollment(summary.timeline, labels=cohort_labels)),  # noqa: S308
            site_chart=mark_safe(charts.enrollment_by_site(summary.by_site, labels=cohort_labels)),  # noqa: S308
            grade_chart=mark_safe(charts.aes_by_grade(summary.grade_counts)),  # noqa: S308
            groups=[("run_in", _("Run-in")), ("A", _("Arm A")), ("B", _("Arm B"))],
            grades=[0, 1, 2, 3, 4, 5],
            panels=[mark_safe(html) for html in dashboard_panels(self.request, site)],  # noqa: S308 - templates
        )
        return context


def dashboard_links(site) -> dict[str, str]:
    suffix = f"&site={site.pk}" if site else ""
    return {
        "screened": f"{reverse('screening-list')}?{suffix.lstrip('&')}",
        "not_eligible": f"{reverse('screening-list')}?eligible=false{suffix}",
        "eligible": f"{reverse('screening-list')}?eligible=true{suffix}",
        "run_in": f"{reverse('participant-list')}?cohort=run_in{suffix}",
        "randomized": f"{reverse('participant-list')}?cohort=randomized{suffix}",
        "A": f"{reverse('participant-list')}?arm=A{suffix}",
        "B": f"{reverse('participant-list')}?arm=B{suffix}",
        "run_in_on_study": f"{reverse('participant-list')}?cohort=run_in&status=on_study{suffix}",
        "related_grade5": f"{reverse('ae-list')}?grade=5&treatment_related=true{suffix}",
        "related_grade3": f"{reverse('ae-list')}?grade=3&grade=4&grade=5&treatment_related=true{suffix}",
        "saes": f"{reverse('ae-list')}?serious=true&voided=false{suffix}",
        "deaths": f"{reverse('ae-list')}?grade=5&voided=false{suffix}",
        "aes": f"{reverse('ae-list')}?voided=false{suffix}",
        "failed": f"{reverse('screening-list')}?failed=",
        "alerts": reverse("alert-list"),
    }


class ConsortSvgView(DashboardView):
    def render_to_response(self, context, **kwargs):
        svg = consort_svg(context["s"])
        response = HttpResponse('<?xml version="1.0" encoding="UTF-8"?>\n' + svg, content_type="image/svg+xml")
        response["Content-Disposition"] = 'attachment; filename="scr-escc-01-consort.svg"'
        return response

    def get_context_data(self, **kwargs):
        return {"s": dashboard_summary(site=self.get_site())}


class ExportListView(PermissionRequiredMixin, TemplateView):
    """The data manager's page: every dataset with its row count and download buttons."""

    permission_required = exports.EXPORT_PERMISSION
    template_name = "reports/exports.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["datasets"] = exports.datasets_with_counts()
        context["recent"] = ExportRecord.objects.select_related("user")[:20]
        return context


class ExportDownloadView(PermissionRequiredMixin, View):
    permission_required = exports.EXPORT_PERMISSION

    def get(self, request, dataset):
        export = exports.start_export(
            user=request.user, dataset=dataset, deidentified=exports.wants_deidentified(request.GET)
        )
        return exports.streaming_response(export)


class DataDictionaryView(LoginRequiredMixin, TemplateView):
    """What every exported column means: name, meaning, type, allowed values (for any signed-in user)."""

    template_name = "reports/data_dictionary.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        datasets = [exports.DATASETS[name] for name in exports.ORDER]
        context["datasets"] = [(d, [(c, d.deidentified_treatment(c)) for c in d.columns]) for d in datasets]
        context["types"] = TYPE_MEANINGS
        context["max_shift"] = MAX_DATE_SHIFT_DAYS
        return context
