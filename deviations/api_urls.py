from django.urls import path

from deviations import api

urlpatterns = [
    path("deviations/", api.DeviationListCreate.as_view(), name="api-deviation-list"),
    path("deviations/<int:pk>/", api.DeviationDetail.as_view(), name="api-deviation-detail"),
    path("deviations/<int:pk>/void/", api.DeviationVoid.as_view(), name="api-deviation-void"),
]
