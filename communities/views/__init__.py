"""Server-rendered community pages of a tenant host. Thin: selectors read, services write.

Every read goes through a selector that fails with 404 for "missing" and "forbidden" alike, so ids and
slugs reveal nothing. Writes are POST-only and show the services' messages.
"""

from communities.views.home import community_detail, community_join, community_leave, community_watch, tenant_home
from communities.views.inbox import FILTER_LABELS, notification_list, notification_open, notifications_mark_read, search
from communities.views.rendering import ROBOTS_NOINDEX
from communities.views.resources import resource_index
from communities.views.topics import (
    REACTIONS,
    post_answer,
    post_delete,
    post_edit,
    post_react,
    post_remove,
    post_report,
    post_restore,
    topic_detail,
    topic_new,
    topic_reply,
    topic_watch,
)
from communities.views.trials import trial_discuss, trial_discussions_panel

__all__ = [
    "FILTER_LABELS",
    "REACTIONS",
    "ROBOTS_NOINDEX",
    "community_detail",
    "community_join",
    "community_leave",
    "community_watch",
    "notification_list",
    "notification_open",
    "notifications_mark_read",
    "post_answer",
    "post_delete",
    "post_edit",
    "post_react",
    "post_remove",
    "post_report",
    "post_restore",
    "resource_index",
    "search",
    "tenant_home",
    "topic_detail",
    "topic_new",
    "topic_reply",
    "topic_watch",
    "trial_discuss",
    "trial_discussions_panel",
]
