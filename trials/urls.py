"""Trial pages, included on the root and every tenant host."""

from django.urls import path

from trials import views

urlpatterns = [
    path("trials/", views.trial_search, name="trial-search"),
    path("trials/saved/", views.my_trials, name="my-trials"),
    path("trials/alert/", views.alert_settings, name="trial-alert"),
    path("trials/<str:nct_id>/", views.trial_detail, name="trial-detail"),
    path("trials/<str:nct_id>/save/", views.trial_save, name="trial-save"),
]
