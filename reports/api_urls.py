from django.urls import path

from reports import api

urlpatterns = [
    path("exports/<slug:dataset>.csv", api.ExportView.as_view(), name="api-export"),
    path("efficacy/results/", api.EfficacyResultsView.as_view(), name="api-efficacy-results"),
    path("study/comparative-results/", api.ComparativeResultsAccessView.as_view(), name="api-comparative-results"),
]
