"""URLs of the root domain (public schema)."""

from allauth.account import views as account_views
from allauth.mfa import urls as mfa_urls
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config.readiness import ready
from directory.views import community_directory
from members import views as member_views
from partnerships import views as partnership_views
from privacy import views as privacy_views
from research import views as research_views
from tenants.health import health
from tenants.views import platform_home
from themes import views as theme_views

urlpatterns = [
    path("healthz/", health, name="health"),
    path("readyz/", ready, name="ready"),
    path("", include("consent.urls")),
    path("", platform_home, name="platform-home"),
    path("partners/<slug:slug>/logo/", theme_views.partner_logo, name="partner-logo"),
    path("communities/", community_directory, name="community-directory"),
    path("accounts/signup/", member_views.sign_up, name="sign-up"),
    path("accounts/signup/", member_views.sign_up, name="account_signup"),
    path("accounts/verify/<str:token>/", member_views.verify, name="verify-email"),
    path("accounts/verify-again/", member_views.resend_verification, name="resend-verification"),
    # Sign-in, password reset and change, reauthentication: allauth's views, Kindred's templates.
    # Only these are mounted: allauth's own sign-up and email management would bypass Kindred's.
    path("accounts/login/", account_views.login, name="account_login"),
    path("accounts/logout/", member_views.sign_out, name="sign-out"),
    path("accounts/logout/", member_views.sign_out, name="account_logout"),
    path("accounts/inactive/", account_views.account_inactive, name="account_inactive"),
    path("accounts/reauthenticate/", account_views.reauthenticate, name="account_reauthenticate"),
    path("accounts/password/change/", account_views.password_change, name="account_change_password"),
    path("accounts/password/reset/", account_views.password_reset, name="account_reset_password"),
    path("accounts/password/reset/done/", account_views.password_reset_done, name="account_reset_password_done"),
    re_path(
        r"^accounts/password/reset/key/(?P<uidb36>[0-9A-Za-z]+)-(?P<key>.+)/$",
        account_views.password_reset_from_key,
        name="account_reset_password_from_key",
    ),
    path(
        "accounts/password/reset/key/done/",
        account_views.password_reset_from_key_done,
        name="account_reset_password_from_key_done",
    ),
    path("accounts/email/change/", member_views.email_change, name="email-change"),
    path("accounts/email/confirm/<str:token>/", member_views.email_change_confirm, name="email-change-confirm"),
    # Two-factor: allauth.mfa, with enrolment that remembers where a privileged member was going.
    path("accounts/2fa/totp/activate/", member_views.ActivateTOTPView.as_view(), name="mfa_activate_totp"),
    path("accounts/2fa/recovery-codes/", member_views.RecoveryCodesView.as_view(), name="mfa_view_recovery_codes"),
    path("accounts/2fa/", include(mfa_urls)),
    path("auth/mfa/", member_views.mfa_gate, name="mfa-gate"),
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
    path("auth/login/", member_views.root_sign_in, name="root-sign-in"),
    path("auth/handoff/", member_views.issue_handoff, name="issue-handoff"),
    path("admin/login/", member_views.root_sign_in, name="admin-sign-in"),
    path("stripe/webhook/", partnership_views.stripe_webhook, name="stripe-webhook"),
    path("studies/submit/", partnership_views.submit_study, name="submit-study"),
    path("partnerships/archives/<uuid:public_id>/", partnership_views.archive_download, name="partner-archive"),
    path("research/exports/", research_views.exports_page, name="research-exports"),
    path("research/exports/<uuid:public_id>/", research_views.release_page, name="research-export"),
    path("research/downloads/<str:token>/", research_views.download, name="research-download"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("config.api_public")),
    path("", include("trials.urls")),
    # The generator reads ROOT_URLCONF (the tenant URLs) unless told which URLs this host serves.
    path("api/schema/", SpectacularAPIView.as_view(urlconf="config.urls_public"), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]

# A database that is gone answers 503 (config/unavailable.py).
handler500 = "config.unavailable.server_error"
