from django.urls import path

from randomization import api

urlpatterns = [
    path("participants/<str:subject_id>/randomize/", api.Randomize.as_view(), name="api-randomize"),
]
