"""Two-factor for privileged roles: who must have passed it, where, and whether this session did.

allauth.mfa verifies the code at the root sign-in and records it in the root session; a partner host
learns it from the hand-off token (members.services) and keeps it in its own session under
``MFA_SESSION_KEY``.
"""

from __future__ import annotations

from allauth.account.authentication import get_authentication_records
from allauth.mfa.utils import is_mfa_enabled
from django.http import HttpRequest

from members import selectors
from members.models import Member, MembershipRole

MFA_SESSION_KEY = "kindred_mfa"

# Privileged areas, by URL name (and the methods that make them privileged; None = every method).
TENANT_PRIVILEGED: dict[str, set[str] | None] = {
    "post-remove": None,
    "post-restore": None,
    "api-tenant-members": None,
    "api-tenant-member-role": None,
    "api-community-requests": None,
    "api-community-request": None,
    "api-tag-merge": None,
    "api-post-restore": None,
    "api-review-queue": None,
    "api-review-decision": None,
    "api-moderation-log-export": None,
    "api-moderation-settings": None,
    "api-watched-words": None,
    "api-watched-word-test": None,
    "api-watched-word": None,
    "api-link-rules": None,
    "api-crisis-settings": None,
    "api-theme": {"PATCH", "PUT", "POST", "DELETE"},
    "api-theme-logo": {"PATCH", "PUT", "POST", "DELETE"},
    "api-theme-favicon": {"PATCH", "PUT", "POST", "DELETE"},
    "api-restrictions": None,
    "api-restriction": None,
    "api-member-trust": None,
    "api-moderators": None,
    "api-moderator": None,
    "api-topic-slow-mode": None,
    "api-communities": {"POST"},
    # The partner's pages: answers posted for the expert, the stale report, insights, invitations
    "session-question-answer": None,
    "api-expert-question-answer": None,
    "api-resources-stale": None,
    "api-insights": None,
    "api-invitations": None,
    "api-invitations-preview": None,
    "api-community": {"PATCH", "PUT", "DELETE"},
    # A token carries its member's role into the API without a session: a moderator or admin
    # makes one only from a session that passed two-factor.
    "token-list": {"POST"},
    "api-tokens": {"POST"},
    "api-service-tokens": {"POST"},
    # Removing a post: a moderator removes others' posts here (their own too: the check is by role).
    "api-post": {"DELETE"},
}
TENANT_PRIVILEGED_PREFIXES = ("/manage/", "/admin/")
PUBLIC_PRIVILEGED: dict[str, set[str] | None] = {
    "api-provision-tenant": {"POST"},
    "api-staff-member-data": None,
    "api-research-dataset": None,
    # Named research staff define exports; recipients (not staff) download without this rule applying.
    "api-research-exports": None,
    "api-research-export": None,
    "research-exports": None,
    "research-export": None,
    "api-agreements": None,
    "api-agreement": None,
    "api-agreement-action": None,
    "api-studies": None,
    "api-study-decide": None,
    "api-tenant-publish": None,
    "api-staff-suspension": None,
}
PUBLIC_PRIVILEGED_PREFIXES = ("/admin/", "/api/v1/consent/staff/")
PUBLIC_OPEN = ("/admin/login/", "/admin/logout/")


def session_passed_mfa(request: HttpRequest) -> bool:
    if request.session.get(MFA_SESSION_KEY):
        return True
    records = get_authentication_records(request, request.user)
    return any(record.get("method") == "mfa" for record in records)


def member_has_mfa(member: Member) -> bool:
    return is_mfa_enabled(member)


def is_privileged_request(request: HttpRequest, *, public: bool) -> bool:
    path = request.path
    # Signing in and out never needs two-factor first (a partner host's admin login only sends
    # people to the root's sign-in; its logout signs them out everywhere).
    if path.startswith(PUBLIC_OPEN):
        return False
    if path.startswith(PUBLIC_PRIVILEGED_PREFIXES if public else TENANT_PRIVILEGED_PREFIXES):
        return True
    match = getattr(request, "resolver_match", None)
    name = match.url_name if match is not None else None
    table = PUBLIC_PRIVILEGED if public else TENANT_PRIVILEGED
    if name not in table:
        return False
    methods = table[name]
    return methods is None or request.method in methods


def holds_privileged_role(request: HttpRequest, *, member: Member, public: bool) -> bool:
    """Platform staff anywhere; a partner's admins and moderators on that partner's host."""
    if member.is_staff or member.is_superuser:
        return True
    if public:
        return False
    role = selectors.tenant_role(member=member, tenant=request.tenant)  # type: ignore[attr-defined]
    return role in {MembershipRole.ADMIN, MembershipRole.MODERATOR}
