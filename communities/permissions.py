"""Who may do what in a tenant's communities: the one home of the rules.

Services call these before writing (and raise their domain errors), selectors before reading, and
views and the API to decide which buttons to show, so every side agrees on one rule. Predicates
that need a row already in hand take it; those that need the database ask it themselves.
"""

from __future__ import annotations

import datetime

from django.conf import settings

from communities.models import (
    Community,
    CommunityMembership,
    CommunityMembershipStatus,
    ContentStatus,
    Post,
    Topic,
    TopicKind,
    Visibility,
)
from members.models import Member
from members.selectors import can_moderate_tenant
from tenants.models import Tenant

DEFAULT_EDIT_WINDOW_MINUTES = 24 * 60


# ---------------------------------------------------------------------------------------------
# Reading and moderating
# ---------------------------------------------------------------------------------------------


def can_moderate(*, member: Member, tenant: Tenant) -> bool:
    """Tenant moderators and admins moderate every community of their tenant; superusers everywhere."""
    return can_moderate_tenant(member=member, tenant=tenant)


def is_active_community_member(*, member: Member, community: Community) -> bool:
    if not member.is_authenticated:
        return False
    return CommunityMembership.objects.filter(
        community_id=community.pk, member_id=member.pk, status=CommunityMembershipStatus.ACTIVE
    ).exists()


def can_read_community(*, member: Member, tenant: Tenant, community: Community) -> bool:
    """Open: anyone. Members-only: active community members, tenant moderators/admins, superusers."""
    if community.visibility == Visibility.OPEN:
        return True
    if not member.is_authenticated or not member.is_active:
        return False
    if member.is_superuser or can_moderate(member=member, tenant=tenant):
        return True
    return is_active_community_member(member=member, community=community)


def can_post_highlighted_answer(*, member: Member, tenant: Tenant, community: Community, invited_expert: bool) -> bool:
    """Answers from outside the forum (an expert session's) are posted by this tenant's moderators, or by
    the invited expert the caller vouches for (``invited_expert``: cms checks the session names them)
    while they may read the community."""
    if not member.is_authenticated or not member.is_active:
        return False
    if can_moderate(member=member, tenant=tenant):
        return True
    return invited_expert and can_read_community(member=member, tenant=tenant, community=community)


def can_see_content(*, member: Member, tenant: Tenant, status: str, author_id: int | None) -> bool:
    """Held and hidden content: its author and this tenant's moderators only (one row in hand;
    selectors.content_visibility is the same rule as a query filter)."""
    if status == ContentStatus.PUBLISHED:
        return True
    if not member.is_authenticated or not member.is_active:
        return False
    return (author_id is not None and author_id == member.pk) or can_moderate(member=member, tenant=tenant)


# ---------------------------------------------------------------------------------------------
# A post's author, the edit window, removal and answers
# ---------------------------------------------------------------------------------------------


def is_author(*, member: Member, author_id: int | None) -> bool:
    """Authors who erased their account leave author_id NULL: never anyone's, least of all an
    anonymous visitor's."""
    return member.is_authenticated and author_id is not None and author_id == member.pk


def edit_window() -> datetime.timedelta:
    return datetime.timedelta(minutes=getattr(settings, "KINDRED_EDIT_WINDOW_MINUTES", DEFAULT_EDIT_WINDOW_MINUTES))


def editable_since(now: datetime.datetime) -> datetime.datetime:
    """Posts written at or after this moment may still be edited by their authors."""
    return now - edit_window()


def within_edit_window(*, post: Post, now: datetime.datetime) -> bool:
    return post.created_at >= editable_since(now)


def can_edit_post(*, member: Member, post: Post, since: datetime.datetime) -> bool:
    """Authors edit their own posts until the window (``since``, from editable_since) closes;
    moderators don't edit other people's words: they remove and restore."""
    return is_author(member=member, author_id=post.author_id) and post.deleted_at is None and post.created_at >= since


def may_take_down_post(*, member: Member, post: Post, is_moderator: bool) -> bool:
    """Who may take a post down at all: its author (a deletion) or a moderator (a removal)."""
    return is_author(member=member, author_id=post.author_id) or is_moderator


def can_delete_post(*, member: Member, post: Post) -> bool:
    """An author deletes their own visible post (no reason asked)."""
    return post.deleted_at is None and is_author(member=member, author_id=post.author_id)


def can_remove_post(*, member: Member, post: Post, is_moderator: bool) -> bool:
    """Someone else's visible post: a moderator removes it through a page that asks why."""
    return post.deleted_at is None and is_moderator and not is_author(member=member, author_id=post.author_id)


def can_report_post(*, member: Member, post: Post) -> bool:
    """Anyone signed in may report someone else's published post (the service checks the rest)."""
    return (
        member.is_authenticated
        and post.deleted_at is None
        and not is_author(member=member, author_id=post.author_id)
        and post.status == ContentStatus.PUBLISHED
    )


def can_mark_answer(*, member: Member, topic: Topic, post: Post) -> bool:
    """The question's author marks a reply (not the opening post, not a removed one) as the answer."""
    return (
        topic.kind == TopicKind.QUESTION
        and is_author(member=member, author_id=topic.author_id)
        and post.topic_id == topic.pk
        and not post.is_opening
        and post.deleted_at is None
    )
