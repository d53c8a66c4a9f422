"""Agreements, partners and real Stripe-signed webhook events for the partnerships tests."""

from __future__ import annotations

import datetime
import itertools
import json
import time
from typing import Any

import stripe
from django.test import Client

from partnerships import services
from partnerships.models import AgreementKind, FeeInterval, Partner, PartnerKind, PartnershipAgreement

WEBHOOK_SECRET = "whsec_test_secret_for_local_signatures"
SECRET_KEY = "sk_test_local_never_logged_1234567890"
_numbers = itertools.count(1)


def make_partner(*, name: str = "", kind: str = PartnerKind.ADVOCACY) -> Partner:
    number = next(_numbers)
    return services.save_partner(
        actor=None,
        name=name or f"Partner {number}",
        kind=kind,
        contact_name="Dana Contact",
        contact_email=f"contact{number}@partner.test",
        billing_email=f"billing{number}@partner.test",
    )


def make_agreement(
    *,
    partner: Partner | None = None,
    kind: str = AgreementKind.HOSTED,
    slug: str = "",
    fee_cents: int = 120_000,
    interval: str = FeeInterval.YEAR,
    **fields: Any,
) -> PartnershipAgreement:
    number = next(_numbers)
    partner = partner or make_partner()
    defaults: dict[str, Any] = {
        "starts_on": datetime.date(2026, 1, 1),
        "fee_cents": fee_cents,
        "currency": "usd",
        "interval": interval,
    }
    if kind != AgreementKind.RESEARCH:
        slug = slug or f"agreed-{number}"
        defaults.update(
            tenant_name=f"Agreed community {number}",
            tenant_slug=slug,
            first_admin_email=f"admin{number}@partner.test",
            theme_primary_colour="#225577",
        )
    return services.create_agreement(actor=None, partner=partner, kind=kind, **{**defaults, **fields})


def signed_event(
    event_type: str,
    obj: dict[str, Any],
    *,
    event_id: str = "",
    secret: str = WEBHOOK_SECRET,
    timestamp: int | None = None,
    created: int | None = None,
) -> tuple[str, str]:
    """A real-shaped Stripe event and its Stripe-Signature header (HMAC-SHA256 by the library's scheme)."""
    payload = json.dumps(
        {
            "id": event_id or f"evt_test{next(_numbers):08d}",
            "object": "event",
            "api_version": "2025-03-31.basil",
            "created": created or int(time.time()),
            "data": {"object": obj},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": event_type,
        }
    )
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = stripe.WebhookSignature._compute_signature(f"{timestamp}.{payload}", secret)
    return payload, f"t={timestamp},v1={signature}"


def invoice_object(
    agreement: PartnershipAgreement,
    *,
    invoice_id: str,
    status: str,
    created: int,
    amount: int = 120_000,
    subscription: str = "sub_test_1",
) -> dict[str, Any]:
    paid = status == "paid"
    return {
        "id": invoice_id,
        "object": "invoice",
        "amount_due": amount,
        "amount_paid": amount if paid else 0,
        "amount_remaining": 0 if paid else amount,
        "attempt_count": 1,
        "billing_reason": "subscription_cycle",
        "collection_method": "send_invoice",
        "created": created,
        "currency": "usd",
        "customer": "cus_test_1",
        "hosted_invoice_url": f"https://invoice.stripe.test/i/{invoice_id}",
        "livemode": False,
        "metadata": {},
        "parent": {
            "type": "subscription_details",
            "quote_details": None,
            "subscription_details": {
                "metadata": {"kindred_agreement": str(agreement.public_id)},
                "subscription": subscription,
            },
        },
        "status": status,
    }


def post_webhook(client: Client, payload: str, signature: str | None) -> Any:
    headers: dict[str, Any] = {"Stripe-Signature": signature} if signature is not None else {}
    return client.post("/stripe/webhook/", data=payload, content_type="application/json", headers=headers)
