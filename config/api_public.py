"""API v1 on the root domain."""

from django.urls import include, path

from directory.api import DirectorySearchView
from members.api import MeView, SignUpView
from tenants.api import PartnerListView, TenantProvisionView

urlpatterns = [
    path("auth/signup/", SignUpView.as_view(), name="api-sign-up"),
    path("me/", MeView.as_view(), name="api-me"),
    path("directory/", DirectorySearchView.as_view(), name="api-directory"),
    path("partners/", PartnerListView.as_view(), name="api-partners"),
    path("tenants/", TenantProvisionView.as_view(), name="api-provision-tenant"),
    # Trials (public data, same on every host)
    path("", include("trials.api_urls")),
]
