from django.urls import path

from randomization import views

urlpatterns = [
    path("randomization/", views.overview, name="randomization"),
    path("randomization/list/", views.list_entries, name="allocation-list"),
    path("participants/<str:subject_id>/randomize/", views.randomize, name="participant-randomize"),
]
