"""Which scope a token needs for each API endpoint.

Reads (GET, HEAD, OPTIONS) need ``read`` and other methods ``write``, unless the table below says
the endpoint (by URL name, then method) moderates or administers. The role checks of the services
still run: a scope never grants more than the member's current role (members.selectors caps a
token's principal to its scopes too).
"""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS

from apitokens.models import Scope

ALL = "*"

# URL name -> {method or "*": scope}. The moderation log is not here: a member reads the decisions
# about them with `read`; the whole log needs a moderator's role, which a token without `moderate`
# does not carry (members.selectors).
ENDPOINT_SCOPES: dict[str, dict[str, str]] = {
    # moderation
    "api-tenant-members": {ALL: Scope.MODERATE},
    "api-community-requests": {ALL: Scope.MODERATE},
    "api-community-request": {ALL: Scope.MODERATE},
    "api-tag-merge": {ALL: Scope.MODERATE},
    "api-post-restore": {ALL: Scope.MODERATE},
    "api-review-queue": {ALL: Scope.MODERATE},
    "api-review-decision": {ALL: Scope.MODERATE},
    "api-moderation-log-export": {ALL: Scope.MODERATE},
    "api-moderation-settings": {ALL: Scope.MODERATE},
    "api-watched-words": {ALL: Scope.MODERATE},
    "api-watched-word-test": {ALL: Scope.MODERATE},
    "api-watched-word": {ALL: Scope.MODERATE},
    "api-link-rules": {ALL: Scope.MODERATE},
    "api-crisis-settings": {ALL: Scope.MODERATE},
    "api-expert-question-answer": {ALL: Scope.MODERATE},
    "api-restrictions": {ALL: Scope.MODERATE},
    "api-restriction": {ALL: Scope.MODERATE},
    "api-member-trust": {ALL: Scope.MODERATE},
    "api-topic-slow-mode": {ALL: Scope.MODERATE},
    # administration
    "api-tenant-member-role": {ALL: Scope.ADMIN},
    "api-moderators": {ALL: Scope.ADMIN},
    "api-moderator": {ALL: Scope.ADMIN},
    "api-staff-suspension": {ALL: Scope.ADMIN},
    "api-communities": {"POST": Scope.ADMIN},
    "api-community": {"PATCH": Scope.ADMIN, "PUT": Scope.ADMIN, "DELETE": Scope.ADMIN},
    "api-service-tokens": {ALL: Scope.ADMIN},
    "api-service-token": {ALL: Scope.ADMIN},
    "api-theme": {"PATCH": Scope.ADMIN, "PUT": Scope.ADMIN},
    "api-theme-logo": {"PUT": Scope.ADMIN, "DELETE": Scope.ADMIN},
    "api-theme-favicon": {"PUT": Scope.ADMIN, "DELETE": Scope.ADMIN},
    "api-resources-stale": {ALL: Scope.ADMIN},
    "api-insights": {ALL: Scope.ADMIN},
    "api-invitations": {ALL: Scope.ADMIN},
    "api-invitations-preview": {ALL: Scope.ADMIN},
}


def required_scope(*, url_name: str | None, method: str) -> str:
    by_method = ENDPOINT_SCOPES.get(url_name or "", {})
    if method in by_method:
        return by_method[method]
    if ALL in by_method:
        return by_method[ALL]
    return Scope.READ if method in SAFE_METHODS else Scope.WRITE


def register_endpoint_scope(*, url_name: str, scope: str, methods: tuple[str, ...] = (ALL,)) -> None:
    """For apps that add moderation or admin endpoints (called from their AppConfig.ready())."""
    if scope not in Scope.values:
        raise ValueError(f"unknown scope {scope!r}")
    entry = ENDPOINT_SCOPES.setdefault(url_name, {})
    for method in methods:
        entry[method] = scope
