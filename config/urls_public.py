"""URLs of the root domain (public schema)."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from directory.views import community_directory
from members import views as member_views
from tenants.health import health
from tenants.views import platform_home

urlpatterns = [
    path("healthz/", health, name="health"),
    path("", platform_home, name="platform-home"),
    path("communities/", community_directory, name="community-directory"),
    path("accounts/signup/", member_views.sign_up, name="sign-up"),
    path("accounts/verify/<str:token>/", member_views.verify, name="verify-email"),
    path("accounts/verify-again/", member_views.resend_verification, name="resend-verification"),
    path("accounts/login/", member_views.sign_in, name="sign-in"),
    path("accounts/logout/", member_views.sign_out, name="sign-out"),
    path("accounts/profile/", member_views.profile, name="profile"),
    path("accounts/unsubscribe/<str:token>/", member_views.unsubscribe, name="unsubscribe"),
    path("auth/login/", member_views.sign_in),
    path("auth/handoff/", member_views.issue_handoff, name="issue-handoff"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("config.api_public")),
    path("", include("trials.urls")),
    # The generator reads ROOT_URLCONF (the tenant URLs) unless told which URLs this host serves.
    path("api/schema/", SpectacularAPIView.as_view(urlconf="config.urls_public"), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
