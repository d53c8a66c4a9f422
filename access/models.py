"""Per-schema links between global members and each schema's own groups and permissions.

This app is in both SHARED_APPS and TENANT_APPS: every schema has its own ``auth_group`` and
its own link tables, so a member's groups in tenant A are A's groups only.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.db import models


class MemberGroup(models.Model):
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["member", "group"], name="unique_member_group")]

    def __str__(self) -> str:
        return f"member {self.member_id} in group {self.group_id}"


class MemberPermission(models.Model):
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    permission = models.ForeignKey(Permission, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["member", "permission"], name="unique_member_permission")]

    def __str__(self) -> str:
        return f"member {self.member_id} has permission {self.permission_id}"
