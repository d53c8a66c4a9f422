from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import OperationalError
from django.template.loader import render_to_string
from django.utils.http import urlencode

from members.models import Member
from members.services import make_verification_token, purge_spent_handoff_nonces

logger = logging.getLogger(__name__)


# A mail server or database hiccup must not lose the email: retry with back-off (about 40 minutes
# in all). Sending twice is harmless; never sending is not.
@shared_task(acks_late=True, autoretry_for=(OSError, OperationalError), retry_backoff=True, max_retries=12)
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
