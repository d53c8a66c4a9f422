"""Sign-up steps that higher apps add (members knows no feature itself; e.g. consent registers one).

A step contributes form fields to the sign-up form and acts once the account exists, inside the
same transaction as ``register_member``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms

from members.models import Member
from tenants.models import Tenant


@dataclass(frozen=True)
class SignupStep:
    name: str
    form_fields: Callable[[], dict[str, forms.Field]]
    # after(member=, data=, channel=, tenant=): data holds this step's cleaned fields.
    after: Callable[..., None]


_steps: dict[str, SignupStep] = {}


def register_signup_step(step: SignupStep) -> None:
    _steps[step.name] = step


def signup_steps() -> list[SignupStep]:
    return list(_steps.values())


def signup_field_names() -> set[str]:
    return {name for step in _steps.values() for name in step.form_fields()}


def run_signup_steps(*, member: Member, data: dict[str, Any], channel: str, tenant: Tenant | None) -> None:
    for step in _steps.values():
        own = {key: data[key] for key in step.form_fields() if key in data}
        step.after(member=member, data=own, channel=channel, tenant=tenant)
