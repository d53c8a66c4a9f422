"""Stripe webhooks: real signatures over real-shaped events; replays, stale and out-of-order events."""

from __future__ import annotations

import time

import pytest

from partnerships import services
from partnerships.models import (
    AgreementEvent,
    AgreementKind,
    AgreementStatus,
    Invoice,
    PartnershipAgreement,
    StripeEvent,
)
from tests.partnerships.helpers import WEBHOOK_SECRET, invoice_object, make_agreement, post_webhook, signed_event

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def webhook_secret(settings):
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET


@pytest.fixture
def agreement() -> PartnershipAgreement:
    agreement = make_agreement(kind=AgreementKind.RESEARCH)
    services.set_agreement_scope(actor=None, agreement=agreement, purpose_codes=["research-contact"])
    return services.activate_agreement(actor=None, agreement_id=agreement.pk)


def snapshot(agreement: PartnershipAgreement) -> tuple:
    agreement.refresh_from_db()
    return (
        agreement.status,
        agreement.past_due_since,
        agreement.billing_state_at,
        AgreementEvent.objects.filter(agreement=agreement).count(),
        list(Invoice.objects.filter(agreement=agreement).values_list("stripe_invoice_id", "status")),
        StripeEvent.objects.count(),
    )


def test_payment_failed_makes_the_agreement_past_due_and_paid_makes_it_active_again(root_client, agreement):
    now = int(time.time())
    failed = invoice_object(agreement, invoice_id="in_1", status="open", created=now - 60)
    response = post_webhook(root_client, *signed_event("invoice.payment_failed", failed))
    assert response.status_code == 200, response.content
    assert response.json() == {"received": True, "outcome": "past due"}
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.PAST_DUE
    assert agreement.past_due_since is not None
    event = AgreementEvent.objects.filter(agreement=agreement).first()
    assert (event.action, event.source, event.old_status, event.new_status) == (
        "payment_failed", "stripe", "active", "past_due",
    )  # fmt: skip

    paid = invoice_object(agreement, invoice_id="in_1", status="paid", created=now - 60)
    assert post_webhook(root_client, *signed_event("invoice.paid", paid)).json()["outcome"] == "paid; reactivated"
    agreement.refresh_from_db()
    assert (agreement.status, agreement.past_due_since) == (AgreementStatus.ACTIVE, None)
    assert Invoice.objects.get(stripe_invoice_id="in_1").status == "paid"


@pytest.mark.parametrize(
    "signature",
    [
        None,  # missing
        "",
        "t=1700000000,v1=deadbeef",  # bad HMAC
        "garbage",
    ],
)
def test_missing_or_bad_signatures_are_refused_and_change_nothing(root_client, agreement, signature):
    payload, _ = signed_event(
        "invoice.payment_failed", invoice_object(agreement, invoice_id="in_2", status="open", created=1)
    )
    before = snapshot(agreement)
    response = post_webhook(root_client, payload, signature)
    assert response.status_code == 400
    assert response.json()["code"] in {"signature_missing", "signature_invalid"}
    assert snapshot(agreement) == before


def test_a_signature_made_with_another_secret_is_refused(root_client, agreement):
    obj = invoice_object(agreement, invoice_id="in_3", status="open", created=1)
    before = snapshot(agreement)
    response = post_webhook(root_client, *signed_event("invoice.payment_failed", obj, secret="whsec_someone_else"))
    assert response.status_code == 400
    assert snapshot(agreement) == before


def test_a_tampered_payload_is_refused(root_client, agreement):
    payload, header = signed_event(
        "invoice.paid", invoice_object(agreement, invoice_id="in_4", status="paid", created=1)
    )
    before = snapshot(agreement)
    response = post_webhook(root_client, payload.replace("in_4", "in_5"), header)
    assert response.status_code == 400
    assert snapshot(agreement) == before


def test_a_stale_signature_is_refused(root_client, agreement):
    obj = invoice_object(agreement, invoice_id="in_6", status="open", created=1)
    before = snapshot(agreement)
    stale = int(time.time()) - 301
    response = post_webhook(root_client, *signed_event("invoice.payment_failed", obj, timestamp=stale))
    assert response.status_code == 400
    assert response.json()["code"] == "signature_invalid"
    assert snapshot(agreement) == before
    # Just inside the tolerance still works: the limit is the one configured, not an accident.
    fresh = int(time.time()) - 250
    assert post_webhook(root_client, *signed_event("invoice.payment_failed", obj, timestamp=fresh)).status_code == 200


def test_a_replayed_event_changes_nothing(root_client, agreement):
    now = int(time.time())
    failed = invoice_object(agreement, invoice_id="in_7", status="open", created=now)
    payload, header = signed_event("invoice.payment_failed", failed, event_id="evt_replayed")
    assert post_webhook(root_client, payload, header).json()["outcome"] == "past due"
    # Staff settle it some other way in between; a replay of the old failure must not undo that.
    paid = invoice_object(agreement, invoice_id="in_7", status="paid", created=now)
    post_webhook(root_client, *signed_event("invoice.paid", paid))
    before = snapshot(agreement)
    response = post_webhook(root_client, payload, header)
    assert response.status_code == 200
    assert response.json()["outcome"] == "duplicate"
    assert snapshot(agreement) == before
    assert StripeEvent.objects.filter(event_id="evt_replayed").count() == 1


def test_a_failure_arriving_after_the_same_invoice_was_paid_is_ignored(root_client, agreement):
    now = int(time.time())
    paid = invoice_object(agreement, invoice_id="in_8", status="paid", created=now)
    failed = invoice_object(agreement, invoice_id="in_8", status="open", created=now)
    post_webhook(root_client, *signed_event("invoice.paid", paid, created=now + 10))
    response = post_webhook(root_client, *signed_event("invoice.payment_failed", failed, created=now + 5))
    assert response.json()["outcome"] == "failure of a paid invoice ignored"
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.ACTIVE
    assert Invoice.objects.get(stripe_invoice_id="in_8").status == "paid"


def test_an_older_invoice_event_never_overrides_a_newer_invoice(root_client, agreement):
    now = int(time.time())
    new_failed = invoice_object(agreement, invoice_id="in_new", status="open", created=now)
    old_paid = invoice_object(agreement, invoice_id="in_old", status="paid", created=now - 86400 * 30)
    assert (
        post_webhook(root_client, *signed_event("invoice.payment_failed", new_failed)).json()["outcome"] == "past due"
    )
    response = post_webhook(root_client, *signed_event("invoice.paid", old_paid))
    assert response.json()["outcome"] == "stale invoice ignored"
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.PAST_DUE  # last month's payment does not pay this month's invoice
    assert Invoice.objects.get(stripe_invoice_id="in_old").status == "paid"  # but our copy of it is current


def test_subscription_deleted_ends_the_agreement_and_a_late_payment_does_not_revive_it(root_client, agreement):
    subscription = {
        "id": "sub_test_1", "object": "subscription", "status": "canceled", "customer": "cus_test_1",
        "metadata": {"kindred_agreement": str(agreement.public_id)}, "canceled_at": int(time.time()),
    }  # fmt: skip
    response = post_webhook(root_client, *signed_event("customer.subscription.deleted", subscription))
    assert response.json()["outcome"] == "ended"
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.ENDED
    late = invoice_object(agreement, invoice_id="in_9", status="paid", created=int(time.time()) + 5)
    assert (
        post_webhook(root_client, *signed_event("invoice.paid", late)).json()["outcome"]
        == "paid; agreement stays ended"
    )
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.ENDED


def test_unknown_event_types_are_acknowledged_and_ignored(root_client, agreement):
    before = snapshot(agreement)
    obj = {"id": "cus_test_1", "object": "customer", "metadata": {"kindred_agreement": str(agreement.public_id)}}
    response = post_webhook(root_client, *signed_event("customer.updated", obj, event_id="evt_unknown"))
    assert response.status_code == 200
    assert response.json()["outcome"] == "ignored"
    status, past_due, state_at, events, invoices, stripe_events = snapshot(agreement)
    assert (status, past_due, state_at, events, invoices) == before[:5]
    assert stripe_events == before[5] + 1  # recorded, so a replay is recognised too
    assert StripeEvent.objects.get(event_id="evt_unknown").outcome == "ignored"


def test_webhook_is_off_until_its_secret_is_set(root_client, agreement, settings):
    settings.STRIPE_WEBHOOK_SECRET = ""
    obj = invoice_object(agreement, invoice_id="in_10", status="open", created=1)
    response = post_webhook(root_client, *signed_event("invoice.payment_failed", obj))
    assert response.status_code == 503
    assert StripeEvent.objects.count() == 0


def test_webhook_is_served_on_the_root_domain_only(client_a, agreement):
    obj = invoice_object(agreement, invoice_id="in_11", status="open", created=1)
    response = post_webhook(client_a, *signed_event("invoice.payment_failed", obj))
    assert response.status_code == 404
    assert StripeEvent.objects.count() == 0


def test_an_invoice_without_our_metadata_is_matched_by_its_subscription(root_client, agreement):
    PartnershipAgreement.objects.filter(pk=agreement.pk).update(stripe_subscription_id="sub_known")
    obj = invoice_object(
        agreement, invoice_id="in_12", status="open", created=int(time.time()), subscription="sub_known"
    )
    obj["parent"]["subscription_details"]["metadata"] = {}
    assert post_webhook(root_client, *signed_event("invoice.payment_failed", obj)).json()["outcome"] == "past due"
    stranger = invoice_object(agreement, invoice_id="in_13", status="open", created=1, subscription="sub_unknown")
    stranger["parent"]["subscription_details"]["metadata"] = {}
    response = post_webhook(root_client, *signed_event("invoice.payment_failed", stranger))
    assert response.json()["outcome"] == "no matching agreement"
    assert not Invoice.objects.filter(stripe_invoice_id="in_13").exists()
