from django.urls import path

from efficacy import views, worklist_views

urlpatterns = [
    path("worklist/", worklist_views.worklist, name="worklist"),
    path("participants/<str:subject_id>/cycles/new/", views.cycle_create, name="cycle-create"),
    path("participants/<str:subject_id>/baseline/new/", views.baseline_create, name="baseline-create"),
    path("participants/<str:subject_id>/assessments/new/", views.assessment_create, name="assessment-create"),
    path("participants/<str:subject_id>/<str:kind>/new/", views.record_create, name="efficacy-record-create"),
    path("assessments/<int:pk>/", views.assessment_detail, name="assessment-detail"),
    path("assessments/<int:pk>/edit/", views.assessment_edit, name="assessment-edit"),
    path("assessments/<int:pk>/void/", views.assessment_void, name="assessment-void"),
    path("assessments/<int:pk>/history/", views.assessment_history, name="assessment-history"),
    path("efficacy/<str:kind>/<int:pk>/", views.record_detail, name="efficacy-record"),
    path("efficacy/<str:kind>/<int:pk>/edit/", views.record_edit, name="efficacy-record-edit"),
    path("efficacy/<str:kind>/<int:pk>/void/", views.record_void, name="efficacy-record-void"),
    path("efficacy/<str:kind>/<int:pk>/history/", views.record_history, name="efficacy-record-history"),
]
