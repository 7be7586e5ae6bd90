from django.urls import path

from enrollment import api

urlpatterns = [
    path("screenings/", api.ScreeningListCreate.as_view(), name="api-screening-list"),
    path("screenings/<int:pk>/", api.ScreeningDetail.as_view(), name="api-screening-detail"),
    path("screenings/<int:pk>/enroll/", api.ScreeningEnroll.as_view(), name="api-screening-enroll"),
    path("participants/", api.ParticipantList.as_view(), name="api-participant-list"),
    path("participants/<str:subject_id>/", api.ParticipantDetail.as_view(), name="api-participant-detail"),
    path("participants/<str:subject_id>/withdraw/", api.ParticipantWithdraw.as_view(), name="api-participant-withdraw"),
    path("participants/<str:subject_id>/complete/", api.ParticipantComplete.as_view(), name="api-participant-complete"),
    path("participants/<str:subject_id>/death/", api.ParticipantDeath.as_view(), name="api-participant-death"),
    path("screenings/<int:pk>/void/", api.ScreeningVoid.as_view(), name="api-screening-void"),
]
