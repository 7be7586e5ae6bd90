from django.urls import path

from monitoring import views

urlpatterns = [
    path("monitoring/queries/", views.query_list, name="query-list"),
    path("monitoring/queries/new/<str:record_type>/<int:record_id>/", views.query_raise, name="query-raise"),
    path("monitoring/queries/<int:pk>/", views.query_detail, name="query-detail"),
    path("monitoring/sdv/", views.sdv_worklist, name="sdv-worklist"),
    path("monitoring/sdv/participants/<str:subject_id>/", views.sdv_participant, name="sdv-participant"),
    path("monitoring/sdv/verify/<str:record_type>/<int:record_id>/", views.sdv_verify, name="sdv-verify"),
    path("monitoring/settings/", views.monitoring_settings, name="monitoring-settings"),
    path("participants/<str:subject_id>/casebook/", views.casebook, name="casebook"),
]
