"""A partner's emails to its members: the welcome on joining, and notification emails in the
partner's brand (one per notification or a daily digest, by choice).

Runs inside the tenant's schema (Celery carries it). Rows are claimed with ``SELECT … FOR UPDATE
SKIP LOCKED`` and marked ``emailed_at`` in the same transaction, so two workers never send the
same notification and a retried task sends only what is still unsent. Every email carries a
one-click unsubscribe link (signed, no sign-in) and RFC 8058 ``List-Unsubscribe`` headers.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, send_mail
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from communities.models import Community, ContentStatus, Notification, NotificationKind, Visibility
from communities.selectors import notification_target
from members.models import EmailNotifications, Member
from members.selectors import FALLBACK_NAME, tenant_name_of
from members.services import make_unsubscribe_token
from tenants.models import Tenant
from tenants.selectors import root_link, tenant_path, tenant_url
from themes.selectors import theme_for

# Older unsent notifications are not worth an email any more; they stay in the in-app list.
MAX_AGE = datetime.timedelta(days=7)


def _claim(*, mode: str, now: datetime.datetime) -> list[Notification]:
    return list(
        Notification.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(
            emailed_at__isnull=True,
            read_at__isnull=True,
            created_at__gte=now - MAX_AGE,
            recipient__email_notifications=mode,
            recipient__is_active=True,
            recipient__email_verified_at__isnull=False,
        )
        # A post held or hidden since the notice was written is not emailed (the rule of the inbox).
        .filter(Q(post__isnull=True) | Q(post__status=ContentStatus.PUBLISHED) | Q(kind=NotificationKind.MODERATION))
        .select_related("recipient", "topic", "actor")
        .order_by("recipient_id", "created_at", "id")
    )


def send_welcome(*, member: Member, tenant: Tenant) -> None:
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


def _name_here(*, member: Member, tenant: Tenant) -> str:
    name = tenant_name_of(member=member, tenant=tenant)
    return "" if name == FALLBACK_NAME else name


def _send(*, tenant: Tenant, member: Member, notifications: Iterable[Notification], digest: bool) -> None:
    notifications = list(notifications)
    unsubscribe_url = root_link("unsubscribe", kwargs={"token": make_unsubscribe_token(member=member)})
    home_url = tenant_url(tenant=tenant)
    items = [
        {"notification": item, "url": f"{home_url}{notification_target(notification=item).lstrip('/')}"}
        for item in notifications
    ]
    context = {
        "tenant": tenant,
        "theme": theme_for(tenant=tenant),
        "member": member,
        # Greet them by the name they use here (their pseudonym on this tenant, if they chose one).
        "name_here": _name_here(member=member, tenant=tenant),
        "items": items,
        "digest": digest,
        "home_url": home_url,
        "unsubscribe_url": unsubscribe_url,
    }
    if digest:
        subject = f"{tenant.name}: {len(items)} new notification{'s' if len(items) != 1 else ''}"
    else:
        subject = f"{tenant.name}: {notifications[0].get_kind_display()}"
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("communities/email/notifications.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[member.email],
        headers={"List-Unsubscribe": f"<{unsubscribe_url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
    )
    message.attach_alternative(render_to_string("communities/email/notifications.html", context), "text/html")
    message.send()


def deliver_instant_emails(*, tenant: Tenant) -> int:
    """One email per unsent notification for members who chose "each". Returns emails sent."""
    now = timezone.now()
    sent = 0
    with transaction.atomic():
        for notification in _claim(mode=EmailNotifications.EACH, now=now):
            _send(tenant=tenant, member=notification.recipient, notifications=[notification], digest=False)
            Notification.objects.filter(pk=notification.pk).update(emailed_at=now)
            sent += 1
    return sent


def deliver_digests(*, tenant: Tenant) -> int:
    """One digest per member (who chose the digest) of this tenant's unsent notifications."""
    now = timezone.now()
    by_member: dict[int, list[Notification]] = defaultdict(list)
    with transaction.atomic():
        for notification in _claim(mode=EmailNotifications.DIGEST, now=now):
            by_member[notification.recipient_id].append(notification)
        for notifications in by_member.values():
            _send(tenant=tenant, member=notifications[0].recipient, notifications=notifications, digest=True)
            Notification.objects.filter(pk__in=[n.pk for n in notifications]).update(emailed_at=now)
    return len(by_member)


def email_on_call_moderators(
    *, tenant: Tenant, recipients: Iterable[Member], community_name: str, topic_title: str, risk: str
) -> None:
    """The on-call moderators' alert about a post that may show an urgent risk of harm."""
    queue_url = f"{tenant_url(tenant=tenant).rstrip('/')}{tenant_path('manage-queue')}"
    body = (
        f"A post in {community_name} ({tenant.name}) may show an urgent risk of harm ({risk} risk).\n\n"
        f"Topic: {topic_title}\n"
        f"Review it now: {queue_url}\n\n"
        "You get this because you are on call for this community site."
    )
    for member in recipients:
        send_mail(
            subject=f"[{tenant.name}] Urgent: a post needs a moderator now ({risk} risk)",
            message=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[member.email],
        )
