from django.urls import path

from monitoring import api

urlpatterns = [
    path("queries/", api.QueryListCreate.as_view(), name="api-query-list"),
    path("queries/<int:pk>/", api.QueryDetail.as_view(), name="api-query-detail"),
    path("queries/<int:pk>/answer/", api.QueryAnswer.as_view(), name="api-query-answer"),
    path("queries/<int:pk>/close/", api.QueryClose.as_view(), name="api-query-close"),
    path("queries/<int:pk>/reopen/", api.QueryReopen.as_view(), name="api-query-reopen"),
    path("sdv/", api.SdvWorklist.as_view(), name="api-sdv-worklist"),
    path("sdv/verify/", api.SdvVerify.as_view(), name="api-sdv-verify"),
    path("monitoring/settings/", api.MonitoringSettingsView.as_view(), name="api-monitoring-settings"),
    path("participants/<str:subject_id>/casebook/", api.Casebook.as_view(), name="api-casebook"),
    path("participants/<str:subject_id>/casebook/sign/", api.CasebookSign.as_view(), name="api-casebook-sign"),
    path("participants/<str:subject_id>/casebook/lock/", api.CasebookLockView.as_view(), name="api-casebook-lock"),
    path("participants/<str:subject_id>/casebook/unlock/", api.CasebookUnlock.as_view(), name="api-casebook-unlock"),
]
