"""API v1 on the root domain."""

from django.urls import include, path

from directory.api import DirectorySearchView
from members.api import (
    EmailChangeView,
    MeView,
    PasswordChangeView,
    PasswordResetRequestView,
    PlatformSuspensionView,
    SignUpView,
)
from privacy import api as privacy_api
from research import api as research_api
from tenants.api import PartnerListView, TenantProvisionView

urlpatterns = [
    path("auth/signup/", SignUpView.as_view(), name="api-sign-up"),
    path("auth/password-reset/", PasswordResetRequestView.as_view(), name="api-password-reset"),
    path("me/", MeView.as_view(), name="api-me"),
    path("me/password/", PasswordChangeView.as_view(), name="api-password-change"),
    path("me/email/", EmailChangeView.as_view(), name="api-email-change"),
    path("directory/", DirectorySearchView.as_view(), name="api-directory"),
    path("partners/", PartnerListView.as_view(), name="api-partners"),
    path("tenants/", TenantProvisionView.as_view(), name="api-provision-tenant"),
    path("privacy/settings/", privacy_api.PrivacySettingsView.as_view(), name="api-privacy-settings"),
    path("privacy/exports/", privacy_api.ExportListView.as_view(), name="api-privacy-exports"),
    path("privacy/exports/<uuid:public_id>/", privacy_api.ExportDetailView.as_view(), name="api-privacy-export"),
    path("privacy/erasure/", privacy_api.ErasureView.as_view(), name="api-privacy-erasure"),
    path("privacy/staff-access/", privacy_api.MyStaffAccessView.as_view(), name="api-privacy-staff-access"),
    path(
        "staff/members/<uuid:public_id>/",
        privacy_api.StaffMemberDataView.as_view(),
        name="api-staff-member-data",
    ),
    path(
        "staff/members/<uuid:public_id>/suspension/",
        PlatformSuspensionView.as_view(),
        name="api-staff-suspension",
    ),
    path("consent/", include("consent.api_urls")),
    path("consent/staff/", include("consent.api_staff_urls")),
    path("partnerships/", include("partnerships.api_urls")),
    path("research/dataset/", research_api.ResearchDatasetView.as_view(), name="api-research-dataset"),
    path("research/exports/", research_api.ExportListView.as_view(), name="api-research-exports"),
    path("research/exports/<uuid:public_id>/", research_api.ExportDetailView.as_view(), name="api-research-export"),
    path("research/releases/mine/", research_api.MyReleasesView.as_view(), name="api-research-my-releases"),
    # Trials (public data, same on every host)
    path("", include("trials.api_urls")),
]
