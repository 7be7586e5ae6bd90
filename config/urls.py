"""Root URLs: every app's pages and API, wired together. Apps never include each other."""

from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

admin.site.site_header = _("SCR-ESCC-01 administration")
admin.site.site_title = "SCR-ESCC-01"

urlpatterns = [
    path("", include("scr_escc.urls")),
    path("", include("enrollment.urls")),
    path("", include("safety.urls")),
    path("", include("randomization.urls")),
    path("", include("deviations.urls")),
    path("", include("efficacy.urls")),
    path("", include("reports.urls")),
    path("", include("monitoring.urls")),
    path("api/v1/", include("config.api_urls")),
    path("django-admin/", admin.site.urls),
]
