"""Outgoing Stripe calls, made by the official library against a local server speaking Stripe's API."""

from __future__ import annotations

import logging

import pytest
from django.core import mail

from core.errors import Conflict
from partnerships import services
from partnerships.models import AgreementKind, FeeInterval, Invoice, Partner
from tests.conftest import signed_in
from tests.factories import MemberFactory
from tests.partnerships.helpers import SECRET_KEY, make_agreement
from tests.partnerships.stripe_server import FakeStripe, fake_stripe

pytestmark = pytest.mark.django_db


@pytest.fixture
def stripe_api(settings):
    with fake_stripe() as server:
        settings.STRIPE_SECRET_KEY = SECRET_KEY
        settings.STRIPE_API_BASE = server.url
        yield server


def _active(interval: str, fee_cents: int = 250_000):
    agreement = make_agreement(kind=AgreementKind.RESEARCH, interval=interval, fee_cents=fee_cents)
    services.set_agreement_scope(actor=None, agreement=agreement, purpose_codes=["research-contact"])
    return services.activate_agreement(actor=None, agreement_id=agreement.pk)


def test_a_one_off_fee_becomes_a_finalized_invoice_whose_link_is_emailed(
    stripe_api: FakeStripe, django_capture_on_commit_callbacks
):
    agreement = _active(FeeInterval.ONE_OFF)
    with django_capture_on_commit_callbacks(execute=True):
        services.start_billing(agreement_id=agreement.pk)
    agreement.refresh_from_db()
    partner = Partner.objects.get(pk=agreement.partner_id)

    calls = [(r.method, r.path) for r in stripe_api.requests]
    assert calls[0] == ("POST", "/v1/customers")
    assert calls[1:] == [
        ("POST", "/v1/invoices"),
        ("POST", "/v1/invoiceitems"),
        ("POST", f"/v1/invoices/{stripe_api.requests[2].params['invoice']}/finalize"),
    ]
    customer = stripe_api.requests[0]
    assert customer.params == {
        "name": partner.name, "email": partner.billing_email, "metadata[kindred_partner]": str(partner.pk),
    }  # fmt: skip
    assert customer.headers["authorization"] == f"Bearer {SECRET_KEY}"
    assert all(r.headers.get("idempotency-key", "").startswith("kindred-") for r in stripe_api.requests)
    item = stripe_api.requests[2].params
    assert (item["amount"], item["currency"], item["customer"]) == ("250000", "usd", partner.stripe_customer_id)
    assert stripe_api.requests[1].params["metadata[kindred_agreement]"] == str(agreement.public_id)

    invoice = Invoice.objects.get(agreement=agreement)
    assert (invoice.status, invoice.amount_due, invoice.currency) == ("open", 250_000, "usd")
    assert agreement.payment_link_url == invoice.hosted_invoice_url
    assert agreement.payment_link_url.startswith("https://invoice.stripe.test/i/in_")
    [email] = mail.outbox
    assert email.to == [partner.billing_email]
    assert agreement.payment_link_url in email.body
    assert "2,500.00 USD" in email.body


def test_a_recurring_fee_becomes_a_subscription(stripe_api: FakeStripe, django_capture_on_commit_callbacks):
    agreement = _active(FeeInterval.MONTH, fee_cents=40_000)
    with django_capture_on_commit_callbacks(execute=True):
        services.start_billing(agreement_id=agreement.pk)
    agreement.refresh_from_db()
    subscription = next(r for r in stripe_api.requests if r.path == "/v1/subscriptions")
    assert subscription.params["items[0][price_data][unit_amount]"] == "40000"
    assert subscription.params["items[0][price_data][recurring][interval]"] == "month"
    assert subscription.params["collection_method"] == "send_invoice"
    assert subscription.params["expand[0]"] == "latest_invoice"
    assert agreement.stripe_subscription_id.startswith("sub_")
    assert Invoice.objects.get(agreement=agreement).hosted_invoice_url == agreement.payment_link_url
    assert len(mail.outbox) == 1


def test_billing_twice_creates_nothing_new(stripe_api: FakeStripe):
    agreement = _active(FeeInterval.YEAR)
    services.start_billing(agreement_id=agreement.pk)
    requests = len(stripe_api.requests)
    services.start_billing(agreement_id=agreement.pk)
    assert len(stripe_api.requests) == requests
    assert Invoice.objects.filter(agreement=agreement).count() == 1


def test_a_customer_is_made_once_per_partner(stripe_api: FakeStripe):
    first = _active(FeeInterval.YEAR)
    second = make_agreement(partner=first.partner, kind=AgreementKind.RESEARCH, interval=FeeInterval.ONE_OFF)
    services.set_agreement_scope(actor=None, agreement=second, purpose_codes=["research-contact"])
    services.activate_agreement(actor=None, agreement_id=second.pk)
    services.start_billing(agreement_id=first.pk)
    services.start_billing(agreement_id=second.pk)
    assert [r.path for r in stripe_api.requests].count("/v1/customers") == 1


def test_a_stripe_refusal_is_a_clear_error_and_records_nothing(stripe_api: FakeStripe):
    agreement = _active(FeeInterval.ONE_OFF)
    stripe_api.fail_with = (402, {"error": {"type": "card_error", "message": "Your card was declined."}})
    with pytest.raises(Conflict, match="Stripe refused"):
        services.start_billing(agreement_id=agreement.pk)
    agreement.refresh_from_db()
    assert agreement.payment_link_url == ""
    assert not Invoice.objects.filter(agreement=agreement).exists()


def test_billing_is_off_until_the_key_is_set(settings):
    settings.STRIPE_SECRET_KEY = ""
    agreement = _active(FeeInterval.ONE_OFF)
    with pytest.raises(services.BillingUnavailable):
        services.start_billing(agreement_id=agreement.pk)


def test_the_secret_key_never_reaches_logs_admin_or_api(stripe_api: FakeStripe, caplog):
    caplog.set_level(logging.DEBUG)
    agreement = _active(FeeInterval.ONE_OFF)
    stripe_api.fail_with = (401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key"}})
    with pytest.raises(Conflict):
        services.start_billing(agreement_id=agreement.pk)
    stripe_api.fail_with = None
    services.start_billing(agreement_id=agreement.pk)
    staff = signed_in("localhost", MemberFactory(is_staff=True, is_superuser=True))
    pages = [
        staff.get(f"/admin/partnerships/partnershipagreement/{agreement.pk}/change/"),
        staff.get(f"/admin/partnerships/partner/{agreement.partner_id}/change/"),
        staff.get("/api/v1/partnerships/agreements/"),
        staff.get(f"/api/v1/partnerships/agreements/{agreement.public_id}/"),
    ]
    assert all(page.status_code == 200 for page in pages)
    assert agreement.partner.name in pages[1].content.decode()
    seen = "\n".join(page.content.decode() for page in pages) + "\n".join(r.getMessage() for r in caplog.records)
    assert SECRET_KEY not in seen
    assert SECRET_KEY[-8:] not in seen
