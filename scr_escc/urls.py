"""Pages of the trial-wide core: home, sign-in, study settings and phase, sites, alerts."""

from django.contrib.auth import views as auth_views
from django.urls import path

from scr_escc import account_views, views
from scr_escc.forms import LoginForm

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=LoginForm, redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", account_views.change_password, name="change-password"),
    path("accounts/language/", account_views.choose_language, name="choose-language"),
    path("accounts/preferences/", account_views.preferences, name="preferences"),
    path("accounts/two-factor/", account_views.two_factor, name="two-factor"),
    path("accounts/users/", account_views.user_list, name="user-list"),
    path("accounts/users/new/", account_views.user_create, name="user-create"),
    path("accounts/users/<int:pk>/", account_views.user_detail, name="user-detail"),
    path("study/settings/", views.StudySettingsView.as_view(), name="study-settings"),
    path("study/history/", views.StudyHistoryView.as_view(), name="study-history"),
    path("study/decisions/", views.PhaseDecisionsView.as_view(), name="study-decisions"),
    path("sites/", views.SiteListView.as_view(), name="site-list"),
    path("sites/<str:code>/", views.SiteDetailView.as_view(), name="site-detail"),
    path("alerts/", views.AlertListView.as_view(), name="alert-list"),
    path("alerts/<int:pk>/acknowledge/", views.acknowledge_alert, name="alert-acknowledge"),
]
