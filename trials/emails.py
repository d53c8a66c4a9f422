"""What a member hears about the trials they follow."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail

from tenants.selectors import root_path
from trials.models import TrialNotice


def send_trial_notice(*, notice: TrialNotice) -> None:
    send_mail(
        subject=f"Clinical trial update: {notice.trial.nct_id}",
        message=f"{notice.message}\n\n{notice.trial.ctgov_url}\n"
        f"Your trials on Kindred: {settings.ROOT_URL}{root_path('my-trials')}\n",
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[notice.member.email],
    )
