from django.urls import path

from safety import views

urlpatterns = [
    path("adverse-events/", views.ae_list, name="ae-list"),
    path("adverse-events/terms/", views.term_search, name="ctcae-term-search"),
    path("adverse-events/terms/<int:pk>/", views.term_detail, name="ctcae-term-detail"),
    path("adverse-events/<int:pk>/", views.ae_detail, name="ae-detail"),
    path("adverse-events/<int:pk>/edit/", views.ae_edit, name="ae-edit"),
    path("adverse-events/<int:pk>/void/", views.ae_void, name="ae-void"),
    path("adverse-events/<int:pk>/history/", views.ae_history, name="ae-history"),
    path("adverse-events/<int:pk>/sign/", views.ae_sign, name="ae-sign"),
    path("participants/<str:subject_id>/adverse-events/new/", views.ae_create, name="ae-create"),
]
