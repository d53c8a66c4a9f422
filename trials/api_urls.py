"""API routes of the trials app, included under /api/v1/ on the root and every tenant host."""

from django.urls import path

from trials import api

urlpatterns = [
    path("trials/", api.TrialListView.as_view(), name="api-trials"),
    path("trials/saved/", api.SavedTrialsView.as_view(), name="api-trials-saved"),
    path("trials/alert/", api.TrialAlertView.as_view(), name="api-trials-alert"),
    path("trials/notices/", api.TrialNoticesView.as_view(), name="api-trials-notices"),
    path("trials/notices/read/", api.TrialNoticesReadView.as_view(), name="api-trials-notices-read"),
    path("trials/<str:nct_id>/", api.TrialDetailView.as_view(), name="api-trial"),
    path("trials/<str:nct_id>/save/", api.TrialSaveView.as_view(), name="api-trial-save"),
]
