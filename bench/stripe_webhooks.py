"""Stripe webhook handling cost per event, against the same-run floor of verifying the signature alone.

    .venv/bin/python bench/stripe_webhooks.py [--events 400]

Runs in its own bench database (``kindred_bench_partnerships`` unless ``KINDRED_BENCH_DATABASE`` says
otherwise; see bench/_setup.py), bootstrapped on first use. Each event is a real-shaped
``invoice.payment_failed`` / ``invoice.paid`` pair for one research agreement, signed with the stripe
library's scheme, posted to ``/stripe/webhook/`` on the root domain through Django's test client (full
middleware stack, verification, the event-id ledger, the agreement update and its audit row). The floor is
``stripe.Webhook.construct_event`` on the same payloads: the work any correct handler must do.
Then every event is replayed once (the duplicate path). Prints p50/p95 in ms and ends with one JSON line.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("KINDRED_BENCH_DATABASE", "kindred_bench_partnerships")
os.environ["KINDRED_DEBUG"] = "0"

from bench._setup import setup_django

SECRET = "whsec_bench_local_only"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=400)
    args = parser.parse_args()
    setup_django()

    import stripe
    from django.conf import settings
    from django.test import Client

    from partnerships import services
    from tenants.services import bootstrap_platform

    bootstrap_platform()
    settings.STRIPE_WEBHOOK_SECRET = SECRET
    partner = services.save_partner(
        actor=None, name=f"Bench partner {uuid.uuid4().hex[:8]}", kind="research", billing_email="bench@partner.test"
    )
    agreement = services.create_agreement(
        actor=None, partner=partner, kind="research", starts_on=datetime.date(2026, 1, 1), fee_cents=1000
    )
    services.set_agreement_scope(actor=None, agreement=agreement, purpose_codes=["research-contact"])
    services.activate_agreement(actor=None, agreement_id=agreement.pk)

    payloads: list[tuple[str, str]] = []
    now = int(time.time())
    for index in range(args.events):
        event_type = "invoice.payment_failed" if index % 2 == 0 else "invoice.paid"
        invoice = {
            "id": f"in_bench_{uuid.uuid4().hex[:12]}", "object": "invoice",
            "status": "open" if index % 2 == 0 else "paid",
            "amount_due": 1000, "amount_paid": 0 if index % 2 == 0 else 1000, "currency": "usd",
            "created": now + index, "metadata": {"kindred_agreement": str(agreement.public_id)},
        }  # fmt: skip
        body = json.dumps({"id": f"evt_bench_{uuid.uuid4().hex}", "object": "event", "created": now + index,
                           "type": event_type, "data": {"object": invoice}, "livemode": False})  # fmt: skip
        timestamp = int(time.time())
        signature = stripe.WebhookSignature._compute_signature(f"{timestamp}.{body}", SECRET)
        payloads.append((body, f"t={timestamp},v1={signature}"))

    floor = []
    for body, header in payloads:
        started = time.perf_counter()
        stripe.Webhook.construct_event(body, header, SECRET)
        floor.append((time.perf_counter() - started) * 1000)

    client = Client(HTTP_HOST=settings.ROOT_DOMAIN)
    handled: list[float] = []
    replayed: list[float] = []
    for timings in (handled, replayed):
        for body, header in payloads:
            started = time.perf_counter()
            response = client.post(
                "/stripe/webhook/", data=body, content_type="application/json", headers={"Stripe-Signature": header}
            )
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.content

    result = {
        "events": args.events,
        "webhook_p50_ms": round(statistics.median(handled), 3),
        "webhook_p95_ms": round(percentile(handled, 0.95), 3),
        "replay_p50_ms": round(statistics.median(replayed), 3),
        "verify_floor_p50_ms": round(statistics.median(floor), 3),
        "verify_floor_p95_ms": round(percentile(floor, 0.95), 3),
    }
    p50, p95 = result["webhook_p50_ms"], result["webhook_p95_ms"]
    print(f"webhook (verify + record + apply + audit): p50 {p50} ms, p95 {p95} ms")
    print(f"replayed event (duplicate path):           p50 {result['replay_p50_ms']} ms")
    print(f"floor, signature verification alone:       p50 {result['verify_floor_p50_ms']} ms")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
