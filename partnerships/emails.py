"""What the platform writes to partners' billing contacts and to members about agreements and studies."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.core.mail import send_mail

from partnerships.models import PartnershipAgreement, StudyInvitation
from tenants.models import Tenant
from tenants.selectors import root_path


def send_payment_link(*, agreement: PartnershipAgreement, link: str, email: str) -> None:
    if not link:
        return
    send_mail(
        subject=f"Kindred: payment for your {agreement.get_kind_display().lower()} agreement",
        message=(
            f"Hello,\n\nThe fee for your agreement with Kindred is {agreement.fee_display}.\n"
            f"Pay it securely through Stripe here:\n{link}\n\nThank you for supporting patient communities.\n"
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[email],
    )


def send_agreement_ended(*, tenant: Tenant, email: str) -> None:
    """To a member of a tenant that became read-only when its agreement ended."""
    send_mail(
        subject=f"{tenant.name} is now read-only",
        message=(
            f"Hello,\n\n{tenant.name}'s agreement with Kindred has ended. The community stays online, "
            "read-only: your posts and data are still there.\n"
            f"You can download all your data from {settings.ROOT_URL}{root_path('privacy')} "
            f"or join another community at {settings.ROOT_URL}{root_path('community-directory')}.\n"
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[email],
    )


def study_invitation_message(*, study: StudyInvitation) -> tuple[str, str]:
    """Subject and body of an approved study invitation (the same text for every recipient)."""
    subject = f"Study invitation: {study.title}"
    body = (
        f"STUDY INVITATION from {study.agreement.partner.name}, approved by Kindred and {study.tenant.name}.\n\n"
        f"{study.title}\n\n{study.summary}\n\nWho can take part: {study.eligibility}\n"
        f"Ethics approval: {study.ethics_approval_ref}\nContact the researchers: {study.contact}\n\n"
        "You receive this because you agreed to be contacted about studies. The researchers do not know "
        f"who received it. Change this at {settings.ROOT_URL}{root_path('consent-page')}.\n"
    )
    return subject, body


def send_study_invitation(*, subject: str, body: str, emails: Iterable[str]) -> None:
    """One message per recipient: nobody sees who else was invited."""
    for email in emails:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [email])
