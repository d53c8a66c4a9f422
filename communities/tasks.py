from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import OperationalError
from django.template.loader import render_to_string

from communities.models import Community, Visibility
from members.models import Member


# A mail server or database hiccup must not lose the email: retry with back-off (about 40 minutes
# in all). Sending twice is harmless; never sending is not.
@shared_task(acks_late=True, autoretry_for=(OSError, OperationalError), retry_backoff=True, max_retries=12)
def send_welcome_email(member_id: int) -> bool:
    """Runs in the tenant's schema (tenant-schemas-celery sets it from the task headers)."""
    from tenants.selectors import current_tenant, tenant_url

    member = Member.objects.filter(pk=member_id, is_active=True).first()
    tenant = current_tenant()
    if member is None or tenant is None or tenant.schema_name == "public":
        return False

    context = {
        "member": member,
        "tenant": tenant,
        "url": tenant_url(tenant=tenant),
        "communities": list(Community.objects.filter(visibility=Visibility.OPEN).order_by("name")[:10]),
    }
    send_mail(
        subject=f"Welcome to {tenant.name}",
        message=render_to_string("communities/email/welcome.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[member.email],
    )
    return True


@shared_task(acks_late=True)
def deliver_notification_emails() -> int:
    """Runs in the tenant's schema: emails for members who want one per notification."""
    from communities.emails import deliver_instant_emails
    from tenants.selectors import current_tenant

    tenant = current_tenant()
    if tenant is None or tenant.schema_name == "public":
        return 0
    return deliver_instant_emails(tenant=tenant)


@shared_task(acks_late=True)
def send_daily_digests() -> dict[str, int]:
    """Beat, once a day: each partner's digest to the members who chose it."""
    from communities.emails import deliver_digests
    from tenants.services import for_each_tenant

    return for_each_tenant(lambda tenant: deliver_digests(tenant=tenant))


@shared_task(acks_late=True)
def send_crisis_alert(review_item_id: int) -> int:
    """Runs in the tenant's schema: email the on-call moderators about an urgent post (once)."""
    from communities.crisis import deliver_crisis_alert  # crisis imports this module to enqueue
    from tenants.selectors import current_tenant

    tenant = current_tenant()
    if tenant is None or tenant.schema_name == "public":
        return 0
    return deliver_crisis_alert(tenant=tenant, item_id=review_item_id)


@shared_task(acks_late=True)
def evaluate_trust_levels() -> dict[str, int]:
    """Beat, once a day: every partner's members climb (or drop) the trust ladder as time passes.
    Safe to run twice: it recomputes levels from the same numbers."""
    from communities.safety import evaluate_all_trust  # safety imports the models this module loads
    from tenants.services import for_each_tenant

    return for_each_tenant(lambda tenant: evaluate_all_trust(tenant=tenant))
