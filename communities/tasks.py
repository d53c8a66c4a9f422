"""A partner's Celery tasks: each runs in the tenant's schema (tenant-schemas-celery sets it from
the task headers) or loops over the partners, and calls communities.emails or a service."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from communities.emails import deliver_digests, deliver_instant_emails, send_welcome
from communities.safety import evaluate_all_trust
from communities.search import rebuild_search_vocabulary
from members.models import Member
from tenants.selectors import current_tenant
from tenants.services import for_each_tenant


# A mail server or database hiccup must not lose the email: retry with back-off (about 40 minutes
# in all). Sending twice is harmless; never sending is not.
@shared_task(acks_late=True, autoretry_for=(OSError, OperationalError), retry_backoff=True, max_retries=12)
def send_welcome_email(member_id: int) -> bool:
    """Runs in the tenant's schema."""
    member = Member.objects.filter(pk=member_id, is_active=True).first()
    tenant = current_tenant()
    if member is None or tenant is None or tenant.schema_name == "public":
        return False
    send_welcome(member=member, tenant=tenant)
    return True


@shared_task(acks_late=True)
def deliver_notification_emails() -> int:
    """Runs in the tenant's schema: emails for members who want one per notification."""
    tenant = current_tenant()
    if tenant is None or tenant.schema_name == "public":
        return 0
    return deliver_instant_emails(tenant=tenant)


@shared_task(acks_late=True)
def deliver_pending_notification_emails() -> dict[str, int]:
    """Beat, every few minutes: instant emails whose task never reached the broker (it was down)."""
    return for_each_tenant(lambda tenant: deliver_instant_emails(tenant=tenant))


@shared_task(acks_late=True)
def send_daily_digests() -> dict[str, int]:
    """Beat, once a day: each partner's digest to the members who chose it."""
    return for_each_tenant(lambda tenant: deliver_digests(tenant=tenant))


@shared_task(acks_late=True)
def send_crisis_alert(review_item_id: int) -> int:
    """Runs in the tenant's schema: email the on-call moderators about an urgent post (once)."""
    # cycle: communities.tasks -> communities.crisis -> communities.tasks
    from communities.crisis import deliver_crisis_alert  # noqa: PLC0415

    tenant = current_tenant()
    if tenant is None or tenant.schema_name == "public":
        return 0
    return deliver_crisis_alert(tenant=tenant, item_id=review_item_id)


@shared_task(acks_late=True)
def evaluate_trust_levels() -> dict[str, int]:
    """Beat, once a day: every partner's members climb (or drop) the trust ladder as time passes.
    Safe to run twice: it recomputes levels from the same numbers."""
    return for_each_tenant(lambda tenant: evaluate_all_trust(tenant=tenant))


@shared_task(acks_late=True)
def rebuild_search_vocabularies() -> dict[str, int]:
    """Beat, once a day: recount each partner's "did you mean" vocabulary from its published posts.

    New words join as they are published (communities.search); the rebuild drops the words of
    removed, hidden or erased posts and refreshes the counts that rank suggestions. Idempotent.
    """
    return for_each_tenant(lambda tenant: rebuild_search_vocabulary())
