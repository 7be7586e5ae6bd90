from django.urls import path

from efficacy import api, assessment_api

urlpatterns = [
    path("worklist/", assessment_api.Worklist.as_view(), name="api-worklist"),
    path("participants/<str:subject_id>/efficacy/", assessment_api.EfficacySummary.as_view(), name="api-efficacy"),
    path("participants/<str:subject_id>/cycles/", api.CycleCreate.as_view(), name="api-cycle-create"),
    path(
        "participants/<str:subject_id>/tumour-assessments/",
        assessment_api.AssessmentListCreate.as_view(),
        name="api-assessment-list",
    ),
    path("tumour-assessments/<int:pk>/", assessment_api.AssessmentDetail.as_view(), name="api-assessment-detail"),
    path("tumour-assessments/<int:pk>/void/", assessment_api.AssessmentVoid.as_view(), name="api-assessment-void"),
    path("participants/<str:subject_id>/<str:kind>/", api.RecordListCreate.as_view(), name="api-efficacy-records"),
    path("efficacy/<str:kind>/<int:pk>/", api.RecordDetail.as_view(), name="api-efficacy-record"),
    path("efficacy/<str:kind>/<int:pk>/void/", api.RecordVoid.as_view(), name="api-efficacy-record-void"),
]
