"""The sign-up consent step: one unticked checkbox per purpose of the current policy."""

from __future__ import annotations

from typing import Any

from django import forms

from consent import selectors, services
from core.errors import InvalidInput
from members.models import Member
from members.signup import SignupStep
from tenants.models import Tenant

FIELD = "consents"


def consent_fields() -> dict[str, forms.Field]:
    purposes = selectors.signup_purposes()
    if not purposes:
        return {}
    return {
        FIELD: forms.MultipleChoiceField(
            label="What you agree to (optional; nothing is shared unless you tick it)",
            choices=[(p.code, f"{p.name}: {p.description}") for p in purposes],
            widget=forms.CheckboxSelectMultiple,
            required=False,
            initial=[],
        )
    }


def record_signup_consents(*, member: Member, data: dict[str, Any], channel: str, tenant: Tenant | None) -> None:
    """A decision only for what the member actively ticked: unticked stays "not asked", i.e. no."""
    codes = list(dict.fromkeys(data.get(FIELD) or []))
    if codes:
        try:
            services.record_consents(
                member=member, decisions=dict.fromkeys(codes, True), channel=channel, tenant=tenant
            )
        except InvalidInput as error:
            # The member sent "consents", not "purpose": say so, on the field they filled in.
            messages = [message for field_messages in error.details.values() for message in field_messages]
            raise InvalidInput(error.message, code=error.code, details={FIELD: messages}) from None


SIGNUP_STEP = SignupStep(name="consent", form_fields=consent_fields, after=record_signup_consents)
