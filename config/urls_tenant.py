"""URLs of every partner tenant host (tenant schema)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from communities import manage_views
from communities import views as community_views
from members import views as member_views
from privacy import views as privacy_views
from tenants.health import health

urlpatterns = [
    path("healthz/", health, name="health"),
    path("", include("consent.urls")),
    path("", community_views.tenant_home, name="tenant-home"),
    path("c/<slug:slug>/", community_views.community_detail, name="community-detail"),
    path("c/<slug:slug>/join/", community_views.community_join, name="community-join"),
    path("c/<slug:slug>/leave/", community_views.community_leave, name="community-leave"),
    path("c/<slug:slug>/watch/", community_views.community_watch, name="community-watch"),
    path("c/<slug:slug>/new/", community_views.topic_new, name="topic-new"),
    path("t/<int:topic_id>/", community_views.topic_detail, name="topic-detail"),
    path("t/<int:topic_id>/reply/", community_views.topic_reply, name="topic-reply"),
    path("t/<int:topic_id>/watch/", community_views.topic_watch, name="topic-watch"),
    path("t/<int:topic_id>/p/<int:post_id>/edit/", community_views.post_edit, name="post-edit"),
    path("t/<int:topic_id>/p/<int:post_id>/delete/", community_views.post_delete, name="post-delete"),
    path("t/<int:topic_id>/p/<int:post_id>/remove/", community_views.post_remove, name="post-remove"),
    path("t/<int:topic_id>/p/<int:post_id>/restore/", community_views.post_restore, name="post-restore"),
    path("t/<int:topic_id>/p/<int:post_id>/answer/", community_views.post_answer, name="post-answer"),
    path("t/<int:topic_id>/p/<int:post_id>/react/", community_views.post_react, name="post-react"),
    path("notifications/", community_views.notification_list, name="notifications"),
    path("notifications/read/", community_views.notifications_mark_read, name="notifications-read"),
    path("search/", community_views.search, name="community-search"),
    path("manage/", manage_views.dashboard, name="manage-dashboard"),
    path("manage/log/", manage_views.moderation_log_page, name="manage-moderation-log"),
    path("manage/search/synonyms/", manage_views.search_synonyms, name="manage-search-synonyms"),
    path(
        "manage/search/synonyms/<int:synonym_id>/",
        manage_views.search_synonym_edit,
        name="manage-search-synonym-edit",
    ),
    path(
        "manage/search/synonyms/<int:synonym_id>/delete/",
        manage_views.search_synonym_delete,
        name="manage-search-synonym-delete",
    ),
    path("manage/communities/new/", manage_views.community_new, name="manage-community-new"),
    path("manage/communities/<slug:slug>/edit/", manage_views.community_edit, name="manage-community-edit"),
    path("manage/communities/<slug:slug>/requests/", manage_views.join_requests, name="manage-requests"),
    path(
        "manage/communities/<slug:slug>/requests/<int:membership_id>/decide/",
        manage_views.join_request_decide,
        name="manage-request-decide",
    ),
    path("manage/communities/<slug:slug>/tags/", manage_views.tags, name="manage-tags"),
    path(
        "manage/communities/<slug:slug>/tags/<int:tag_id>/approve/",
        manage_views.tag_approve,
        name="manage-tag-approve",
    ),
    path("manage/communities/<slug:slug>/tags/<int:tag_id>/merge/", manage_views.tag_merge, name="manage-tag-merge"),
    path("members/", privacy_views.member_list, name="member-list"),
    path("members/me/name/", privacy_views.tenant_name, name="tenant-name"),
    path("members/<uuid:public_id>/", privacy_views.member_profile, name="member-profile"),
    path("auth/login/", member_views.tenant_sign_in, name="tenant-sign-in"),
    path("auth/signup/", member_views.tenant_sign_up, name="tenant-sign-up"),
    path("auth/handoff/complete/", member_views.complete_handoff, name="complete-handoff"),
    path("auth/logout/", member_views.sign_out, name="tenant-sign-out"),
    path("join/", member_views.join, name="join-tenant"),
    path("api/v1/", include("config.api_tenant")),
    path("trials/<str:nct_id>/discuss/", community_views.trial_discuss, name="trial-discuss"),
    path("", include("trials.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("pages/", include(wagtail_urls)),
]
