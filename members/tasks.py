from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, send_mail
from django.db import OperationalError
from django.template.loader import render_to_string
from django.utils.http import urlencode

from members.models import Member, MembershipRole, TenantInvitation
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
    from tenants.selectors import root_url

    token = make_verification_token(member=member)
    query = f"?{urlencode({'next': next_url})}" if next_url else ""
    link = root_url(path=f"/accounts/verify/{token}/{query}")
    context = {"member": member, "link": link, "platform": settings.KINDRED_PLATFORM_NAME}
    send_mail(
        subject="Confirm your email for Kindred",
        message=render_to_string("members/email/verify.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[member.email],
    )
    return True


@shared_task
def purge_spent_handoff_nonces_task() -> int:
    return purge_spent_handoff_nonces()


@shared_task(**MAIL_TASK)
def send_rendered_email(*, subject: str, body: str, to: list[str], html: str = "") -> None:
    """Send a message the request already rendered (account emails: reset links, notices)."""
    message = EmailMultiAlternatives(subject, body, settings.DEFAULT_FROM_EMAIL, to)
    if html:
        message.attach_alternative(html, "text/html")
    message.send()


def _send_template(*, template: str, subject: str, to: str, context: dict[str, Any]) -> None:
    context = {"platform": settings.KINDRED_PLATFORM_NAME, **context}
    send_mail(
        subject=subject,
        message=render_to_string(template, context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[to],
    )


@shared_task(**MAIL_TASK)
def send_signup_attempt_email(member_id: int) -> bool:
    """Someone tried to sign up with an address that has an account: tell its owner, not the visitor."""
    member = Member.objects.filter(pk=member_id, is_active=True).first()
    if member is None:
        return False
    if not member.email_verified:
        return send_verification_email(member.pk)
    from tenants.selectors import root_url

    _send_template(
        template="members/email/signup_attempt.txt",
        subject="You already have a Kindred account",
        to=member.email,
        context={
            "member": member,
            "sign_in": root_url(path="/accounts/login/"),
            "reset": root_url(path="/accounts/password/reset/"),
        },
    )
    return True


@shared_task(**MAIL_TASK)
def send_email_change_link(member_id: int, new_email: str, token: str) -> bool:
    member = Member.objects.filter(pk=member_id, is_active=True).first()
    if member is None:
        return False
    from tenants.selectors import root_url

    _send_template(
        template="members/email/email_change.txt",
        subject="Confirm your new email address for Kindred",
        to=new_email,
        context={"member": member, "link": root_url(path=f"/accounts/email/confirm/{token}/")},
    )
    return True


@shared_task(**MAIL_TASK)
def send_email_in_use_notice(new_email: str) -> None:
    """The address asked for already has an account: say so to that address only (no enumeration)."""
    from tenants.selectors import root_url

    _send_template(
        template="members/email/email_in_use.txt",
        subject="Someone tried to use your address on Kindred",
        to=new_email,
        context={"reset": root_url(path="/accounts/password/reset/")},
    )


@shared_task(**MAIL_TASK)
def send_email_changed_notice(old_email: str, new_email: str) -> None:
    """Tell the old address that the account now uses another one."""
    _send_template(
        template="members/email/email_changed.txt",
        subject="Your Kindred email address was changed",
        to=old_email,
        context={"old_email": old_email, "new_email": new_email},
    )


@shared_task(**MAIL_TASK)
def send_tenant_invitation(invitation_id: int) -> bool:
    invitation = TenantInvitation.objects.select_related("tenant").filter(pk=invitation_id).first()
    if invitation is None or invitation.accepted_at is not None:
        return False
    from tenants.selectors import root_url

    link = root_url(path=f"/accounts/invitations/{make_invitation_token(invitation=invitation)}/")
    days = settings.TENANT_INVITATION_MAX_AGE // 86400
    context = {"invitation": invitation, "link": link, "days": days, "platform": settings.KINDRED_PLATFORM_NAME}
    send_mail(
        subject=(
            f"You are invited to run {invitation.tenant.name} on {settings.KINDRED_PLATFORM_NAME}"
            if invitation.role == MembershipRole.ADMIN
            else f"You are invited to join {invitation.tenant.name} on {settings.KINDRED_PLATFORM_NAME}"
        ),
        message=render_to_string("members/email/tenant_invitation.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[invitation.email],
    )
    return True
