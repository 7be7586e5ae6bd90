from django.urls import path

from reports import views

urlpatterns = [
    path("dashboard/", views.DashboardView.as_view(), name="dashboard"),
    path("dashboard/consort.svg", views.ConsortSvgView.as_view(), name="dashboard-consort"),
    path("exports/", views.ExportListView.as_view(), name="exports"),
    path("exports/dictionary/", views.DataDictionaryView.as_view(), name="data-dictionary"),
    path("exports/<slug:dataset>.csv", views.ExportDownloadView.as_view(), name="export-download"),
]
