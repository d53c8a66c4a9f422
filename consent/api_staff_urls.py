"""Platform-staff consent API, on the root domain only (/api/v1/consent/staff/)."""

from django.urls import path

from consent import api

urlpatterns = [
    path("purposes/", api.StaffPurposeView.as_view(), name="api-consent-staff-purposes"),
    path("policies/", api.StaffPolicyView.as_view(), name="api-consent-staff-policies"),
    path("on-behalf/", api.StaffOnBehalfView.as_view(), name="api-consent-staff-on-behalf"),
]
