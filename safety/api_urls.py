from django.urls import path

from safety import api

urlpatterns = [
    path(
        "participants/<str:subject_id>/adverse-events/",
        api.ParticipantAdverseEvents.as_view(),
        name="api-participant-aes",
    ),
    path("adverse-events/<int:pk>/", api.AdverseEventDetail.as_view(), name="api-ae-detail"),
    path("adverse-events/<int:pk>/void/", api.AdverseEventVoid.as_view(), name="api-ae-void"),
    path(
        "adverse-events/<int:pk>/sign-attribution/",
        api.AdverseEventSignAttribution.as_view(),
        name="api-ae-sign-attribution",
    ),
    path("ctcae-terms/", api.CtcaeTermList.as_view(), name="api-ctcae-terms"),
]
