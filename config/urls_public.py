"""URLs of the root domain (public schema)."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from directory.views import community_directory
from members import views as member_views
from partnerships import views as partnership_views
from privacy import views as privacy_views
from tenants.health import health
from tenants.views import platform_home

urlpatterns = [
    path("healthz/", health, name="health"),
    path("", include("consent.urls")),
    path("", platform_home, name="platform-home"),
    path("communities/", community_directory, name="community-directory"),
    path("accounts/signup/", member_views.sign_up, name="sign-up"),
    path("accounts/verify/<str:token>/", member_views.verify, name="verify-email"),
    path("accounts/verify-again/", member_views.resend_verification, name="resend-verification"),
    path("accounts/login/", member_views.sign_in, name="sign-in"),
    path("accounts/logout/", member_views.sign_out, name="sign-out"),
    path("accounts/profile/", member_views.profile, name="profile"),
    path("accounts/profile/edit/", member_views.profile_edit, name="profile-edit"),
    path("accounts/invitations/<str:token>/", member_views.tenant_invitation, name="tenant-invitation"),
    path("accounts/unsubscribe/<str:token>/", member_views.unsubscribe, name="unsubscribe"),
    path("accounts/privacy/", privacy_views.privacy_page, name="privacy"),
    path("accounts/privacy/exports/", privacy_views.export_create, name="privacy-export-create"),
    path("accounts/privacy/exports/<uuid:public_id>/", privacy_views.export_status, name="privacy-export"),
    path(
        "accounts/privacy/exports/download/<str:token>/",
        privacy_views.export_download,
        name="privacy-export-download",
    ),
    path("accounts/delete/", privacy_views.delete_account, name="delete-account"),
    path("accounts/deleted/<str:token>/", privacy_views.erasure_status, name="erasure-status"),
    path("auth/login/", member_views.sign_in),
    path("auth/handoff/", member_views.issue_handoff, name="issue-handoff"),
    path("stripe/webhook/", partnership_views.stripe_webhook, name="stripe-webhook"),
    path("partnerships/archives/<uuid:public_id>/", partnership_views.archive_download, name="partner-archive"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("config.api_public")),
    path("", include("trials.urls")),
    # The generator reads ROOT_URLCONF (the tenant URLs) unless told which URLs this host serves.
    path("api/schema/", SpectacularAPIView.as_view(urlconf="config.urls_public"), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
