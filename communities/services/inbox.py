"""Notifications: open one, mark them read."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils import timezone

from communities.models import Notification
from communities.services.guards import CommunityNotFound, _require_signed_in
from members.models import Member


def open_notification(*, member: Member, notification_id: int) -> Notification:
    """The member opens one of their notifications: it is read from now on. Someone else's (or a
    missing) notification is refused alike."""
    _require_signed_in(member)
    notification = Notification.objects.filter(pk=notification_id, recipient_id=member.pk).first()
    if notification is None:
        raise CommunityNotFound("No such notification.")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=notification.read_at)
    return notification


def mark_notifications_read(*, member: Member, notification_ids: Iterable[int] | None = None) -> int:
    """Mark some (or all) of the member's notifications read; returns how many changed."""
    _require_signed_in(member)
    unread = Notification.objects.filter(recipient_id=member.pk, read_at__isnull=True)
    if notification_ids is not None:
        unread = unread.filter(pk__in=list(notification_ids))
    return unread.update(read_at=timezone.now())
