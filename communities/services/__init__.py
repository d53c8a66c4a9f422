"""Writes for communities (tenant schema).

Every function validates and checks permissions before it writes, writes in one transaction, and
raises a domain exception (core.errors) with a code when it refuses: a refused call changes nothing.
Call them inside the tenant's context (the middleware's, or ``tenant_context`` elsewhere).
"""

from communities.services.guards import (
    BODY_MAX,
    DEFAULT_POSTING_RATE,
    REACTION_COUNTERS,
    TITLE_MAX,
    TITLE_MIN,
    CommunityNotFound,
    PostingRateLimited,
    needs_premoderation,
    parse_rate,
    welcome_new_member,
)
from communities.services.highlighted import post_highlighted_answer
from communities.services.inbox import mark_notifications_read, open_notification
from communities.services.memberships import (
    UPDATABLE_COMMUNITY_FIELDS,
    create_community,
    decide_join_request,
    join_community,
    leave_community,
    update_community,
)
from communities.services.posts import create_reply, create_topic, delete_post, edit_post, restore_post, set_post_status
from communities.services.reactions import mark_answer, react, set_community_watch_level, set_topic_watch_level, unreact
from communities.services.synonyms import (
    SYNONYM_TERM_MAX,
    SYNONYM_TERMS_MAX,
    create_search_synonym,
    delete_search_synonym,
    update_search_synonym,
)
from communities.services.tags import create_tag, merge_tags, propose_tag
from communities.services.trials import open_trial_discussion

__all__ = [
    "BODY_MAX",
    "DEFAULT_POSTING_RATE",
    "REACTION_COUNTERS",
    "SYNONYM_TERMS_MAX",
    "SYNONYM_TERM_MAX",
    "TITLE_MAX",
    "TITLE_MIN",
    "UPDATABLE_COMMUNITY_FIELDS",
    "CommunityNotFound",
    "PostingRateLimited",
    "create_community",
    "create_reply",
    "create_search_synonym",
    "create_tag",
    "create_topic",
    "decide_join_request",
    "delete_post",
    "delete_search_synonym",
    "edit_post",
    "join_community",
    "leave_community",
    "mark_answer",
    "mark_notifications_read",
    "merge_tags",
    "needs_premoderation",
    "open_notification",
    "open_trial_discussion",
    "parse_rate",
    "post_highlighted_answer",
    "propose_tag",
    "react",
    "restore_post",
    "set_community_watch_level",
    "set_post_status",
    "set_topic_watch_level",
    "unreact",
    "update_community",
    "update_search_synonym",
    "welcome_new_member",
]
