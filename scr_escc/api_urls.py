"""API routes of the trial-wide core: token, study phase decisions, alerts."""

from django.urls import path

from scr_escc import account_api, api

urlpatterns = [
    path("auth/token/", api.TokenView.as_view(), name="api-token"),
    path("auth/logout/", api.LogoutView.as_view(), name="api-logout"),
    path("auth/logout-all/", api.LogoutAllView.as_view(), name="api-logout-all"),
    path("auth/password/", account_api.ChangePassword.as_view(), name="api-password"),
    path("users/", account_api.UserListCreate.as_view(), name="api-users"),
    path("users/<int:pk>/", account_api.UserDetail.as_view(), name="api-user"),
    path("users/<int:pk>/deactivate/", account_api.UserAction.as_view(action="deactivate"), name="api-user-deactivate"),
    path("users/<int:pk>/reactivate/", account_api.UserAction.as_view(action="reactivate"), name="api-user-reactivate"),
    path(
        "users/<int:pk>/reset-password/",
        account_api.UserAction.as_view(action="reset_password"),
        name="api-user-reset-password",
    ),
    path("study/", api.StudyView.as_view(), name="api-study"),
    path("study/open-randomization/", api.OpenRandomizationView.as_view(), name="api-open-randomization"),
    path("study/confirm-termination/", api.ConfirmTerminationView.as_view(), name="api-confirm-termination"),
    path("study/resume/", api.ResumeView.as_view(), name="api-resume"),
    path("study/resume/sign/", api.SignResumeView.as_view(), name="api-resume-sign"),
    path("study/amendments/", api.AmendmentView.as_view(), name="api-amendments"),
    path("alerts/", api.AlertList.as_view(), name="api-alerts"),
    path("alerts/<int:pk>/acknowledge/", api.AlertAcknowledge.as_view(), name="api-alert-acknowledge"),
]
