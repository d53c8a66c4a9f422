"""API v1 consent routes, included under /api/v1/consent/ on the root domain and every tenant host."""

from django.urls import path

from consent import api

urlpatterns = [
    path("purposes/", api.PurposeListView.as_view(), name="api-consent-purposes"),
    path("policy/", api.CurrentPolicyView.as_view(), name="api-consent-policy"),
    path("me/", api.MyConsentView.as_view(), name="api-consent-me"),
    path("decisions/", api.DecisionView.as_view(), name="api-consent-decisions"),
    path("history/", api.HistoryView.as_view(), name="api-consent-history"),
    path("fhir/", api.FhirConsentView.as_view(), name="api-consent-fhir"),
]
