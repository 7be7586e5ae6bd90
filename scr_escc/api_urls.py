"""API routes of the clinical apps, under /api/v1/."""

from django.urls import include, path

urlpatterns = [
    path("", include("enrollment.api_urls")),
    path("", include("safety.api_urls")),
    path("", include("randomization.api_urls")),
]
