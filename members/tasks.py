"""Account mail and housekeeping: each task loads its rows and calls members.emails or a service."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.db import OperationalError

from members import emails
from members.models import Member, TenantInvitation
from members.services import make_invitation_token, make_verification_token, purge_spent_handoff_nonces

logger = logging.getLogger(__name__)

# A mail server or database hiccup must not lose the email: retry with back-off (about 40 minutes
# in all). Sending twice is harmless; never sending is not.
MAIL_TASK: dict[str, Any] = {
    "acks_late": True,
    "autoretry_for": (OSError, OperationalError),
    "retry_backoff": True,
    "max_retries": 12,
}


@shared_task(**MAIL_TASK)
def send_verification_email(member_id: int, next_url: str = "") -> bool:
    member = Member.objects.filter(pk=member_id, email_verified_at__isnull=True).first()
    if member is None:  # already verified or gone: sending twice is harmless, sending late is pointless
        logger.info("verification email for member %s skipped: verified already or gone", member_id)
        return False
    emails.send_verification(member=member, token=make_verification_token(member=member), next_url=next_url)
    return True


@shared_task
def purge_spent_handoff_nonces_task() -> int:
    return purge_spent_handoff_nonces()


@shared_task(**MAIL_TASK)
def send_rendered_email(*, subject: str, body: str, to: list[str], html: str = "") -> None:
    """Send a message the request already rendered (account emails: reset links, notices)."""
    emails.send_rendered(subject=subject, body=body, to=to, html=html)


@shared_task(**MAIL_TASK)
def send_signup_attempt_email(member_id: int) -> bool:
    """Someone tried to sign up with an address that has an account: tell its owner, not the visitor."""
    member = Member.objects.filter(pk=member_id, is_active=True).first()
    if member is None:
        return False
    if not member.email_verified:
        return send_verification_email(member.pk)
    emails.send_signup_attempt(member=member)
    return True


@shared_task(**MAIL_TASK)
def send_email_change_link(member_id: int, new_email: str, token: str) -> bool:
    member = Member.objects.filter(pk=member_id, is_active=True).first()
    if member is None:
        return False
    emails.send_email_change_link(member=member, new_email=new_email, token=token)
    return True


@shared_task(**MAIL_TASK)
def send_email_in_use_notice(new_email: str) -> None:
    """The address asked for already has an account: say so to that address only (no enumeration)."""
    emails.send_email_in_use_notice(new_email=new_email)


@shared_task(**MAIL_TASK)
def send_email_changed_notice(old_email: str, new_email: str) -> None:
    """Tell the old address that the account now uses another one."""
    emails.send_email_changed_notice(old_email=old_email, new_email=new_email)


@shared_task(**MAIL_TASK)
def send_tenant_invitation(invitation_id: int) -> bool:
    invitation = TenantInvitation.objects.select_related("tenant").filter(pk=invitation_id).first()
    if invitation is None or invitation.accepted_at is not None:
        return False
    emails.send_tenant_invitation(invitation=invitation, token=make_invitation_token(invitation=invitation))
    return True
