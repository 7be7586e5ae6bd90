from django.urls import path

from reports import efficacy_views, views

urlpatterns = [
    path("dashboard/", views.DashboardView.as_view(), name="dashboard"),
    path("dashboard/consort.svg", views.ConsortSvgView.as_view(), name="dashboard-consort"),
    path("efficacy/", efficacy_views.efficacy_page, name="efficacy-results"),
    path("efficacy/curves.csv", efficacy_views.efficacy_curves_csv, name="efficacy-curves"),
    path("efficacy/results-access/", efficacy_views.results_access, name="efficacy-results-access"),
    path("exports/", views.ExportListView.as_view(), name="exports"),
    path("exports/dictionary/", views.DataDictionaryView.as_view(), name="data-dictionary"),
    path("exports/<slug:dataset>.csv", views.ExportDownloadView.as_view(), name="export-download"),
]
