"""The only module that talks to Stripe's API (official ``stripe`` library, ``StripeClient``).

Keys come from the environment and never leave this module: nothing here logs, returns or stores them.
Tests point ``STRIPE_API_BASE`` at a local HTTP server speaking Stripe's API shape.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import stripe
from django.conf import settings

if TYPE_CHECKING:
    from partnerships.models import Partner, PartnershipAgreement


def enabled() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


def client() -> stripe.StripeClient:
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses={"api": settings.STRIPE_API_BASE},
        max_network_retries=2,
    )


def _plain(obj: Any) -> dict[str, Any]:
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


def create_customer(*, partner: Partner) -> str:
    customer = client().v1.customers.create(
        params={
            "name": partner.name,
            "email": partner.billing_email,
            "metadata": {"kindred_partner": str(partner.pk)},
        },
        options={"idempotency_key": f"kindred-partner-{partner.pk}-customer"},
    )
    return str(customer.id)


def create_one_off_invoice(*, agreement: PartnershipAgreement) -> dict[str, Any]:
    api = client().v1
    key = f"kindred-agreement-{agreement.public_id}"
    metadata = {"kindred_agreement": str(agreement.public_id)}
    invoice = api.invoices.create(
        params={
            "customer": agreement.partner.stripe_customer_id,
            "collection_method": "send_invoice",
            "days_until_due": settings.STRIPE_DAYS_UNTIL_DUE,
            "auto_advance": False,
            "metadata": metadata,
        },
        options={"idempotency_key": f"{key}-invoice"},
    )
    api.invoice_items.create(
        params={
            "customer": agreement.partner.stripe_customer_id,
            "invoice": str(invoice.id),
            "amount": agreement.fee_cents,
            "currency": agreement.currency,
            "description": f"Kindred {agreement.get_kind_display().lower()}",
        },
        options={"idempotency_key": f"{key}-item"},
    )
    finalized = api.invoices.finalize_invoice(str(invoice.id), options={"idempotency_key": f"{key}-finalize"})
    return _plain(finalized)


def create_subscription(*, agreement: PartnershipAgreement) -> tuple[str, dict[str, Any]]:
    api = client().v1
    key = f"kindred-agreement-{agreement.public_id}"
    metadata = {"kindred_agreement": str(agreement.public_id)}
    product = api.products.create(
        params={"name": f"Kindred {agreement.get_kind_display().lower()}", "metadata": metadata},
        options={"idempotency_key": f"{key}-product"},
    )
    subscription = api.subscriptions.create(
        params={
            "customer": agreement.partner.stripe_customer_id,
            "collection_method": "send_invoice",
            "days_until_due": settings.STRIPE_DAYS_UNTIL_DUE,
            "items": [
                {
                    "price_data": {
                        "currency": agreement.currency,
                        "product": str(product.id),
                        "unit_amount": agreement.fee_cents,
                        "recurring": {"interval": agreement.interval},
                    }
                }
            ],
            "metadata": metadata,
            "expand": ["latest_invoice"],
        },
        options={"idempotency_key": f"{key}-subscription"},
    )
    latest = subscription.latest_invoice
    if isinstance(latest, str) or latest is None:
        latest = api.invoices.retrieve(str(latest))
    return str(subscription.id), _plain(latest)
