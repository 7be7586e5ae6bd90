"""The JSON API of SPEC §10 under /api/v1/: each app's routes, and the OpenAPI schema."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("", include("scr_escc.api_urls")),
    path("", include("enrollment.api_urls")),
    path("", include("safety.api_urls")),
    path("", include("randomization.api_urls")),
    path("", include("deviations.api_urls")),
    path("", include("efficacy.api_urls")),
    path("", include("reports.api_urls")),
    path("", include("monitoring.api_urls")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
