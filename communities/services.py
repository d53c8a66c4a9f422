"""Writes for communities (tenant schema)."""

from __future__ import annotations

from django.db import transaction
from django_tenants.utils import tenant_context

from members.models import Member
from tenants.models import Tenant


def welcome_new_member(member: Member, tenant: Tenant) -> None:
    """After someone joins a partner, email them that partner's open communities (by Celery)."""
    from communities.tasks import send_welcome_email

    def enqueue() -> None:
        # The tenant travels with the task: it must be sent from inside the tenant's context.
        with tenant_context(tenant):
            send_welcome_email.delay(member.pk)

    transaction.on_commit(enqueue)
