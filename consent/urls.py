"""Consent pages: the same paths on the root domain and on every tenant host."""

from django.urls import path

from consent import views

urlpatterns = [
    path("accounts/consent/", views.consent_page, name="consent-page"),
    path("accounts/consent/decide/", views.decide, name="consent-decide"),
    path("consent/review/", views.review, name="consent-review"),
    path("consent/policy/<int:version>/", views.policy_page, name="consent-policy"),
    path("privacy-policy/", views.current_policy_page, name="privacy-policy"),
]
