"""URLs of every partner tenant host (tenant schema)."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from apitokens import views as token_views
from cms import views as cms_views
from communities import manage_views
from communities import views as community_views
from config.readiness import ready
from members import views as member_views
from partnerships import views as partnership_views
from privacy import views as privacy_views
from tenants.health import health
from themes import views as theme_views

urlpatterns = [
    path("healthz/", health, name="health"),
    path("readyz/", ready, name="ready"),
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
    path("t/<int:topic_id>/p/<int:post_id>/report/", community_views.post_report, name="post-report"),
    path("t/<int:topic_id>/p/<int:post_id>/answer/", community_views.post_answer, name="post-answer"),
    path("t/<int:topic_id>/p/<int:post_id>/react/", community_views.post_react, name="post-react"),
    path("notifications/", community_views.notification_list, name="notifications"),
    path("notifications/read/", community_views.notifications_mark_read, name="notifications-read"),
    path("notifications/<int:notification_id>/", community_views.notification_open, name="notification-open"),
    path("search/", community_views.search, name="community-search"),
    path("resources/", community_views.resource_index, name="resources"),
    path("manage/", manage_views.dashboard, name="manage-dashboard"),
    path("manage/theme/", theme_views.manage_theme, name="manage-theme"),
    path("theme/logo/", theme_views.theme_logo, name="theme-logo"),
    path("theme/favicon/", theme_views.theme_favicon, name="theme-favicon"),
    path("manage/partnership/", partnership_views.partnership_page, name="manage-partnership"),
    path("manage/partnership/publish/", partnership_views.publish_tenant, name="manage-publish"),
    path("manage/studies/", partnership_views.manage_studies, name="manage-studies"),
    path("manage/studies/<uuid:public_id>/decide/", partnership_views.manage_study_decide, name="manage-study-decide"),
    path("sponsorship/", partnership_views.sponsorship_disclosure, name="sponsorship"),
    path("studies/", partnership_views.study_invitations, name="study-invitations"),
    path("manage/log/", manage_views.moderation_log_page, name="manage-moderation-log"),
    path("manage/log/export.csv", manage_views.moderation_log_export, name="manage-moderation-log-export"),
    path("manage/queue/", manage_views.review_queue_page, name="manage-queue"),
    path("manage/queue/<int:item_id>/decide/", manage_views.review_decide, name="manage-queue-decide"),
    path("manage/queue/settings/", manage_views.moderation_settings_save, name="manage-queue-settings"),
    path("manage/words/", manage_views.watched_words, name="manage-words"),
    path("manage/words/<int:word_id>/remove/", manage_views.watched_word_remove, name="manage-word-remove"),
    path("manage/words/links/", manage_views.link_rules, name="manage-link-rules"),
    path("manage/crisis/", manage_views.crisis_settings, name="manage-crisis"),
    path("manage/members/", manage_views.members_page, name="manage-members"),
    path("manage/trust/", manage_views.trust_settings, name="manage-trust"),
    path("manage/members/<str:member_id>/", manage_views.member_page, name="manage-member"),
    path("manage/members/<str:member_id>/restrict/", manage_views.member_restrict, name="manage-member-restrict"),
    path("manage/members/<str:member_id>/trust/", manage_views.member_trust, name="manage-member-trust"),
    path(
        "manage/restrictions/<int:restriction_id>/lift/", manage_views.restriction_lift, name="manage-restriction-lift"
    ),
    path("manage/moderators/", manage_views.moderators_page, name="manage-moderators"),
    path("manage/moderators/<str:member_id>/remove/", manage_views.moderator_remove, name="manage-moderator-remove"),
    path("manage/topics/<int:topic_id>/slow-mode/", manage_views.topic_slow_mode, name="manage-topic-slow-mode"),
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
    path("members/me/tokens/", token_views.token_list, name="token-list"),
    path("members/me/tokens/<int:token_id>/revoke/", token_views.token_revoke, name="token-revoke"),
    path("members/<str:member_id>/", privacy_views.member_profile, name="member-profile"),
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
    # Passwords are typed on the root only: Wagtail's sign-in and reset forms never run here.
    path("admin/login/", member_views.password_on_root_only, {"default_next": "/admin/"}),
    re_path(r"^admin/password_reset/", member_views.password_on_root_only, {"default_next": "/admin/"}),
    path("admin/logout/", member_views.sign_out),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    # This tenant's media (images); another tenant's files are never served here.
    path("media/<path:path>", cms_views.serve_media, name="tenant-media"),
    path("sessions/<int:session_id>/questions/", cms_views.session_question_submit, name="session-question-submit"),
    path("sessions/questions/<int:question_id>/vote/", cms_views.question_vote, name="session-question-vote"),
    path("sessions/questions/<int:question_id>/answer/", cms_views.question_answer, name="session-question-answer"),
    path("embed/feed/", cms_views.embed_feed, name="embed-feed"),
    path("embed/feed.js", cms_views.embed_script, name="embed-feed-script"),
    path("pages/_util/login/", member_views.password_on_root_only),
    path("pages/", include(wagtail_urls)),
]

# A database that is gone answers 503 (config/unavailable.py).
handler500 = "config.unavailable.server_error"
