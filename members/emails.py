"""Account emails: what each says and where its links go. Tasks load the rows and call these;
sending is the only side effect, so a retried task at worst sends an email twice."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, send_mail
from django.template.loader import render_to_string
from django.utils.http import urlencode

from members.models import Member, MembershipRole, TenantInvitation
from tenants.selectors import root_link


def _send_template(*, template: str, subject: str, to: str, context: dict[str, Any]) -> None:
    context = {"platform": settings.KINDRED_PLATFORM_NAME, **context}
    send_mail(
        subject=subject,
        message=render_to_string(template, context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[to],
    )


def send_rendered(*, subject: str, body: str, to: list[str], html: str = "") -> None:
    """A message the request already rendered (allauth's account emails: reset links, notices)."""
    message = EmailMultiAlternatives(subject, body, settings.DEFAULT_FROM_EMAIL, to)
    if html:
        message.attach_alternative(html, "text/html")
    message.send()


def send_verification(*, member: Member, token: str, next_url: str = "") -> None:
    query = f"?{urlencode({'next': next_url})}" if next_url else ""
    link = root_link("verify-email", kwargs={"token": token}, query=query)
    _send_template(
        template="members/email/verify.txt",
        subject="Confirm your email for Kindred",
        to=member.email,
        context={"member": member, "link": link},
    )


def send_signup_attempt(*, member: Member) -> None:
    """Someone tried to sign up with this verified member's address: tell its owner, not the visitor."""
    _send_template(
        template="members/email/signup_attempt.txt",
        subject="You already have a Kindred account",
        to=member.email,
        context={
            "member": member,
            "sign_in": root_link("account_login"),
            "reset": root_link("account_reset_password"),
        },
    )


def send_email_change_link(*, member: Member, new_email: str, token: str) -> None:
    _send_template(
        template="members/email/email_change.txt",
        subject="Confirm your new email address for Kindred",
        to=new_email,
        context={"member": member, "link": root_link("email-change-confirm", kwargs={"token": token})},
    )


def send_email_in_use_notice(*, new_email: str) -> None:
    _send_template(
        template="members/email/email_in_use.txt",
        subject="Someone tried to use your address on Kindred",
        to=new_email,
        context={"reset": root_link("account_reset_password")},
    )


def send_email_changed_notice(*, old_email: str, new_email: str) -> None:
    _send_template(
        template="members/email/email_changed.txt",
        subject="Your Kindred email address was changed",
        to=old_email,
        context={"old_email": old_email, "new_email": new_email},
    )


def send_tenant_invitation(*, invitation: TenantInvitation, token: str) -> None:
    platform, tenant_name = settings.KINDRED_PLATFORM_NAME, invitation.tenant.name
    _send_template(
        template="members/email/tenant_invitation.txt",
        subject=(
            f"You are invited to run {tenant_name} on {platform}"
            if invitation.role == MembershipRole.ADMIN
            else f"You are invited to join {tenant_name} on {platform}"
        ),
        to=invitation.email,
        context={
            "invitation": invitation,
            "link": root_link("tenant-invitation", kwargs={"token": token}),
            "days": settings.TENANT_INVITATION_MAX_AGE // 86400,
        },
    )


def send_platform_suspension_notice(*, email: str, reason: str, ends_at: datetime.datetime | None) -> None:
    until = f"until {ends_at:%d %B %Y, %H:%M} UTC" if ends_at else "until platform staff lift it"
    send_mail(
        subject="Your Kindred account is suspended",
        message=(
            f"Platform staff suspended your account on every Kindred community {until}.\n"
            f"Reason: {reason}\n\nYou can still sign in to read your own posts and download your data."
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[email],
        fail_silently=True,
    )
