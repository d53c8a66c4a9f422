"""Lock down Wagtail's Users admin inside tenants.

Members are global: a tenant admin who could edit a Member could make anyone a platform
superuser or take over their account on every partner. Only platform superusers may create,
edit or delete members through Wagtail; tenant admins manage roles through Kindred's own
membership API, which changes only their tenant's groups.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from wagtail import hooks


def _superusers_only(request: HttpRequest, *args: Any) -> None:
    if not request.user.is_superuser:
        raise PermissionDenied("Members are managed by the platform; change roles from your community settings.")


hooks.register("before_create_user", _superusers_only)
hooks.register("before_edit_user", _superusers_only)
hooks.register("before_delete_user", _superusers_only)
