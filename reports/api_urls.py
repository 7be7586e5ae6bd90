from django.urls import path

from reports import api

urlpatterns = [
    path("exports/<slug:dataset>.csv", api.ExportView.as_view(), name="api-export"),
]
