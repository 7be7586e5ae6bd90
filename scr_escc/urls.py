from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from scr_escc import views
from scr_escc.api import (
    AlertList,
    ConfirmTerminationView,
    ExportView,
    OpenRandomizationView,
    ResumeView,
    StudyView,
    TokenView,
)
from scr_escc.forms import LoginForm

admin.site.site_header = "SCR-ESCC-01 administration"
admin.site.site_title = "SCR-ESCC-01"

api_v1 = [
    path("auth/token/", TokenView.as_view(), name="api-token"),
    path("study/", StudyView.as_view(), name="api-study"),
    path("study/open-randomization/", OpenRandomizationView.as_view(), name="api-open-randomization"),
    path("study/confirm-termination/", ConfirmTerminationView.as_view(), name="api-confirm-termination"),
    path("study/resume/", ResumeView.as_view(), name="api-resume"),
    path("alerts/", AlertList.as_view(), name="api-alerts"),
    path("exports/<slug:dataset>.csv", ExportView.as_view(), name="api-export"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("scr_escc.api_urls")),
]

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=LoginForm, redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("study/settings/", views.StudySettingsView.as_view(), name="study-settings"),
    path("study/history/", views.StudyHistoryView.as_view(), name="study-history"),
    path("sites/", views.SiteListView.as_view(), name="site-list"),
    path("sites/<str:code>/", views.SiteDetailView.as_view(), name="site-detail"),
    path("", include("enrollment.urls")),
    path("", include("safety.urls")),
    path("", include("randomization.urls")),
    path("study/decisions/", views.PhaseDecisionsView.as_view(), name="study-decisions"),
    path("alerts/", views.AlertListView.as_view(), name="alert-list"),
    path("dashboard/", views.DashboardView.as_view(), name="dashboard"),
    path("dashboard/consort.svg", views.ConsortSvgView.as_view(), name="dashboard-consort"),
    path("exports/", views.ExportListView.as_view(), name="exports"),
    path("exports/dictionary/", views.DataDictionaryView.as_view(), name="data-dictionary"),
    path("exports/<slug:dataset>.csv", views.ExportDownloadView.as_view(), name="export-download"),
    path("api/v1/", include(api_v1)),
    path("django-admin/", admin.site.urls),
]
