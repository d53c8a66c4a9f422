"""URLs of every partner tenant host (tenant schema)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from communities import views as community_views
from members import views as member_views

urlpatterns = [
    path("", community_views.tenant_home, name="tenant-home"),
    path("c/<slug:slug>/", community_views.community_detail, name="community-detail"),
    path("auth/login/", member_views.tenant_sign_in, name="tenant-sign-in"),
    path("auth/signup/", member_views.tenant_sign_up, name="tenant-sign-up"),
    path("auth/handoff/complete/", member_views.complete_handoff, name="complete-handoff"),
    path("auth/logout/", member_views.sign_out, name="tenant-sign-out"),
    path("join/", member_views.join, name="join-tenant"),
    path("api/v1/", include("config.api_tenant")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("pages/", include(wagtail_urls)),
]
