from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils.http import urlencode

from members.models import Member, TenantInvitation
from members.services import make_invitation_token, make_verification_token, purge_spent_handoff_nonces

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def send_verification_email(member_id: int, next_url: str = "") -> bool:
    member = Member.objects.filter(pk=member_id, email_verified_at__isnull=True).first()
    if member is None:  # already verified or gone: sending twice is harmless, sending late is pointless
        logger.info("verification email for member %s skipped: verified already or gone", member_id)
        return False
    from tenants.selectors import root_url

    token = make_verification_token(member=member)
    query = f"?{urlencode({'next': next_url})}" if next_url else ""
    link = root_url(path=f"/accounts/verify/{token}/{query}")
    context = {"member": member, "link": link, "platform": settings.WAGTAIL_SITE_NAME}
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


@shared_task(acks_late=True)
def send_tenant_invitation(invitation_id: int) -> bool:
    invitation = TenantInvitation.objects.select_related("tenant").filter(pk=invitation_id).first()
    if invitation is None or invitation.accepted_at is not None:
        return False
    from tenants.selectors import root_url

    link = root_url(path=f"/accounts/invitations/{make_invitation_token(invitation=invitation)}/")
    days = settings.TENANT_INVITATION_MAX_AGE // 86400
    context = {"invitation": invitation, "link": link, "days": days, "platform": settings.WAGTAIL_SITE_NAME}
    send_mail(
        subject=f"You are invited to run {invitation.tenant.name} on Kindred",
        message=render_to_string("members/email/tenant_invitation.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[invitation.email],
    )
    return True
