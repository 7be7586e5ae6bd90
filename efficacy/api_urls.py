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
]
for kind in api.KINDS:
    listing, detail, void = api.views_for(kind)
    urlpatterns += [
        path(f"participants/<str:subject_id>/{kind}/", listing.as_view(), name=f"api-{kind}-list"),
        path(f"{kind}/<int:pk>/", detail.as_view(), name=f"api-{kind}-detail"),
        path(f"{kind}/<int:pk>/void/", void.as_view(), name=f"api-{kind}-void"),
    ]
