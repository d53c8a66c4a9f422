"""API v1 on every tenant host."""

from django.urls import include, path

from apitokens import api as token_api
from cms import api as cms_api
from communities import api as community_api
from members.api import MyMembershipView, TenantMemberRoleView, TenantMembersView, TenantMeView
from privacy import api as privacy_api
from themes import api as theme_api

urlpatterns = [
    path("me/", TenantMeView.as_view(), name="api-me"),
    path("membership/", MyMembershipView.as_view(), name="api-membership"),
    path("members/", TenantMembersView.as_view(), name="api-tenant-members"),
    path("members/<str:member_id>/role/", TenantMemberRoleView.as_view(), name="api-tenant-member-role"),
    # Privacy: my name here, my settings (the same everywhere), listed members' profiles
    path("me/name/", privacy_api.TenantNameView.as_view(), name="api-tenant-name"),
    path("privacy/settings/", privacy_api.PrivacySettingsView.as_view(), name="api-privacy-settings"),
    path("profiles/", privacy_api.ProfileListView.as_view(), name="api-profiles"),
    path("profiles/<str:member_id>/", privacy_api.ProfileDetailView.as_view(), name="api-profile"),
    path("consent/", include("consent.api_urls")),
    # API clients: personal access tokens, and service tokens for the partner's own systems
    path("tokens/", token_api.TokenListView.as_view(), name="api-tokens"),
    path("tokens/<int:token_id>/", token_api.TokenDetailView.as_view(), name="api-token"),
    path("service-tokens/", token_api.ServiceTokenListView.as_view(), name="api-service-tokens"),
    path("service-tokens/<int:token_id>/", token_api.ServiceTokenDetailView.as_view(), name="api-service-token"),
    # The site's theme (tenant admins change it)
    path("theme/", theme_api.ThemeView.as_view(), name="api-theme"),
    path("theme/logo/", theme_api.ThemeLogoView.as_view(), name="api-theme-logo"),
    path("theme/favicon/", theme_api.ThemeFaviconView.as_view(), name="api-theme-favicon"),
    # Communities
    path("communities/", community_api.CommunityListView.as_view(), name="api-communities"),
    path("communities/<slug:slug>/", community_api.CommunityDetailView.as_view(), name="api-community"),
    path(
        "communities/<slug:slug>/membership/",
        community_api.CommunityMembershipView.as_view(),
        name="api-community-membership",
    ),
    path(
        "communities/<slug:slug>/requests/", community_api.JoinRequestListView.as_view(), name="api-community-requests"
    ),
    path(
        "communities/<slug:slug>/requests/<int:request_id>/",
        community_api.JoinRequestDecisionView.as_view(),
        name="api-community-request",
    ),
    path("communities/<slug:slug>/watch/", community_api.CommunityWatchView.as_view(), name="api-community-watch"),
    path("communities/<slug:slug>/tags/", community_api.CommunityTagsView.as_view(), name="api-community-tags"),
    path("communities/<slug:slug>/topics/", community_api.CommunityTopicsView.as_view(), name="api-community-topics"),
    # Tags
    path("tags/<int:tag_id>/merge/", community_api.TagMergeView.as_view(), name="api-tag-merge"),
    # Topics
    path("topics/<int:topic_id>/", community_api.TopicDetailView.as_view(), name="api-topic"),
    path("topics/<int:topic_id>/watch/", community_api.TopicWatchView.as_view(), name="api-topic-watch"),
    path("topics/<int:topic_id>/answer/", community_api.TopicAnswerView.as_view(), name="api-topic-answer"),
    path("topics/<int:topic_id>/posts/", community_api.TopicPostsView.as_view(), name="api-topic-posts"),
    path("search/topics/", community_api.TopicSearchView.as_view(), name="api-search-topics"),
    path("search/", community_api.SearchView.as_view(), name="api-search"),
    path("search/synonyms/", community_api.SearchSynonymListView.as_view(), name="api-search-synonyms"),
    path(
        "search/synonyms/<int:synonym_id>/",
        community_api.SearchSynonymDetailView.as_view(),
        name="api-search-synonym",
    ),
    # Posts
    path("posts/<int:post_id>/", community_api.PostDetailView.as_view(), name="api-post"),
    path("posts/<int:post_id>/restore/", community_api.PostRestoreView.as_view(), name="api-post-restore"),
    path(
        "posts/<int:post_id>/reactions/<str:kind>/",
        community_api.PostReactionView.as_view(),
        name="api-post-reaction",
    ),
    # Feed and notifications
    path("feed/", community_api.FeedView.as_view(), name="api-feed"),
    path("notifications/", community_api.NotificationListView.as_view(), name="api-notifications"),
    path("moderation-log/", community_api.ModerationLogView.as_view(), name="api-moderation-log"),
    path("moderation-log/export/", community_api.ModerationLogExportView.as_view(), name="api-moderation-log-export"),
    path("moderation/queue/", community_api.ReviewQueueView.as_view(), name="api-review-queue"),
    path(
        "moderation/queue/<int:item_id>/decision/",
        community_api.ReviewDecisionView.as_view(),
        name="api-review-decision",
    ),
    path("moderation/settings/", community_api.ModerationSettingsView.as_view(), name="api-moderation-settings"),
    path("moderation/watched-words/", community_api.WatchedWordListView.as_view(), name="api-watched-words"),
    path("moderation/watched-words/test/", community_api.WatchedWordTestView.as_view(), name="api-watched-word-test"),
    path(
        "moderation/watched-words/<int:word_id>/",
        community_api.WatchedWordDetailView.as_view(),
        name="api-watched-word",
    ),
    path("moderation/link-rules/", community_api.LinkRulesView.as_view(), name="api-link-rules"),
    path("moderation/crisis/", community_api.CrisisSettingsView.as_view(), name="api-crisis-settings"),
    path("moderation/restrictions/", community_api.RestrictionListView.as_view(), name="api-restrictions"),
    path(
        "moderation/restrictions/<int:restriction_id>/",
        community_api.RestrictionDetailView.as_view(),
        name="api-restriction",
    ),
    path("moderation/members/<str:member_id>/trust/", community_api.MemberTrustView.as_view(), name="api-member-trust"),
    path("moderation/moderators/", community_api.ModeratorListView.as_view(), name="api-moderators"),
    path("moderation/moderators/<str:member_id>/", community_api.ModeratorDetailView.as_view(), name="api-moderator"),
    path("topics/<int:topic_id>/slow-mode/", community_api.TopicSlowModeView.as_view(), name="api-topic-slow-mode"),
    path("posts/<int:post_id>/flags/", community_api.PostFlagView.as_view(), name="api-post-flags"),
    path("notifications/read/", community_api.NotificationReadView.as_view(), name="api-notifications-read"),
    # Trials (public data) and this tenant's discussions of them
    path(
        "trials/<str:nct_id>/discussions/",
        community_api.TrialDiscussionsView.as_view(),
        name="api-trial-discussions",
    ),
    path("", include("trials.api_urls")),
    # The partner's pages: resource library, expert sessions, curation, insights, invitations, embed feed
    path("resources/", cms_api.ResourceListView.as_view(), name="api-resources"),
    path("resources/filters/", cms_api.LibraryFiltersView.as_view(), name="api-resource-filters"),
    path("resources/stale/", cms_api.StaleResourcesView.as_view(), name="api-resources-stale"),
    path("resources/<int:page_id>/", cms_api.ResourceDetailView.as_view(), name="api-resource"),
    path("expert-sessions/", cms_api.SessionListView.as_view(), name="api-expert-sessions"),
    path("expert-sessions/<int:session_id>/", cms_api.SessionDetailView.as_view(), name="api-expert-session"),
    path(
        "expert-sessions/<int:session_id>/questions/",
        cms_api.SessionQuestionsView.as_view(),
        name="api-expert-session-questions",
    ),
    path(
        "expert-questions/<int:question_id>/vote/", cms_api.QuestionVoteView.as_view(), name="api-expert-question-vote"
    ),
    path(
        "expert-questions/<int:question_id>/answer/",
        cms_api.QuestionAnswerView.as_view(),
        name="api-expert-question-answer",
    ),
    path("insights/", cms_api.InsightsView.as_view(), name="api-insights"),
    path("invitations/", cms_api.InvitationListView.as_view(), name="api-invitations"),
    path("invitations/preview/", cms_api.InvitationPreviewView.as_view(), name="api-invitations-preview"),
    path("embed/feed/", cms_api.EmbedFeedView.as_view(), name="api-embed-feed"),
]
