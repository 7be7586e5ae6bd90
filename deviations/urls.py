from django.urls import path

from deviations import views

urlpatterns = [
    path("deviations/", views.deviation_list, name="deviation-list"),
    path("deviations/new/", views.deviation_create, name="deviation-create"),
    path("deviations/<int:pk>/", views.deviation_detail, name="deviation-detail"),
    path("deviations/<int:pk>/edit/", views.deviation_edit, name="deviation-edit"),
    path("deviations/<int:pk>/void/", views.deviation_void, name="deviation-void"),
    path("deviations/<int:pk>/history/", views.deviation_history, name="deviation-history"),
]
