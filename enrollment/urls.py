from django.urls import path

from enrollment import views

urlpatterns = [
    path("screenings/", views.screening_list, name="screening-list"),
    path("screenings/new/", views.screening_create, name="screening-create"),
    path("screenings/<int:pk>/", views.screening_detail, name="screening-detail"),
    path("screenings/<int:pk>/edit/", views.screening_edit, name="screening-edit"),
    path("screenings/<int:pk>/enroll/", views.screening_enroll, name="screening-enroll"),
    path("screenings/<int:pk>/history/", views.screening_history, name="screening-history"),
    path("screenings/<int:pk>/void/", views.screening_void, name="screening-void"),
    path("screenings/<int:previous_pk>/rescreen/", views.screening_create, name="screening-rescreen"),
    path("participants/", views.participant_list, name="participant-list"),
    path("participants/<str:subject_id>/", views.participant_detail, name="participant-detail"),
    path(
        "participants/<str:subject_id>/withdraw/",
        views.participant_status_change,
        {"change": "withdraw"},
        name="participant-withdraw",
    ),
    path(
        "participants/<str:subject_id>/complete/",
        views.participant_status_change,
        {"change": "complete"},
        name="participant-complete",
    ),
    path(
        "participants/<str:subject_id>/death/",
        views.participant_status_change,
        {"change": "death"},
        name="participant-death",
    ),
    path("participants/<str:subject_id>/history/", views.participant_history, name="participant-history"),
]
