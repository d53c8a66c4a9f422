"""A local HTTP server speaking the part of Stripe's API that billing uses (no call leaves the machine).

It parses the form-encoded bodies the official library sends, answers with Stripe-shaped objects,
replays the stored answer for a repeated Idempotency-Key (as Stripe does), and records every request.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl


@dataclass
class Recorded:
    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]


@dataclass
class FakeStripe:
    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    invoices: dict[str, dict[str, Any]] = field(default_factory=dict)
    idempotent: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    fail_with: tuple[int, dict[str, Any]] | None = None
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_test{next(self._ids):06d}"

    def invoice(self, *, customer: str, metadata: dict[str, str], amount: int = 0, currency: str = "usd") -> dict:
        invoice_id = self.new_id("in")
        invoice = {
            "id": invoice_id, "object": "invoice", "customer": customer, "status": "draft",
            "amount_due": amount, "amount_paid": 0, "currency": currency, "created": int(time.time()),
            "hosted_invoice_url": None, "metadata": metadata, "livemode": False,
        }  # fmt: skip
        self.invoices[invoice_id] = invoice
        return invoice

    def finalize(self, invoice: dict[str, Any]) -> dict[str, Any]:
        invoice["status"] = "open"
        invoice["hosted_invoice_url"] = f"https://invoice.stripe.test/i/{invoice['id']}"
        return invoice

    def respond(self, method: str, path: str, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if self.fail_with is not None:
            return self.fail_with
        metadata = {key[9:-1]: value for key, value in params.items() if key.startswith("metadata[")}
        parts = path.strip("/").split("/")  # ["v1", resource, (id), (action)]
        if method == "POST" and parts == ["v1", "customers"]:
            return 200, {"id": self.new_id("cus"), "object": "customer", "email": params.get("email"),
                         "name": params.get("name"), "metadata": metadata}  # fmt: skip
        if method == "POST" and parts == ["v1", "invoices"]:
            return 200, self.invoice(customer=params["customer"], metadata=metadata)
        if method == "POST" and parts == ["v1", "invoiceitems"]:
            invoice = self.invoices[params["invoice"]]
            invoice["amount_due"] += int(params["amount"])
            invoice["currency"] = params["currency"]
            return 200, {"id": self.new_id("ii"), "object": "invoiceitem", "invoice": invoice["id"],
                         "amount": int(params["amount"]), "currency": params["currency"]}  # fmt: skip
        if method == "POST" and len(parts) == 4 and parts[1] == "invoices" and parts[3] == "finalize":
            return 200, self.finalize(self.invoices[parts[2]])
        if method == "GET" and len(parts) == 3 and parts[1] == "invoices" and parts[2] in self.invoices:
            return 200, self.invoices[parts[2]]
        if method == "POST" and parts == ["v1", "products"]:
            return 200, {"id": self.new_id("prod"), "object": "product", "name": params.get("name")}
        if method == "POST" and parts == ["v1", "subscriptions"]:
            subscription_id = self.new_id("sub")
            amount = int(params["items[0][price_data][unit_amount]"])
            invoice = self.invoice(customer=params["customer"], metadata={}, amount=amount,
                                   currency=params["items[0][price_data][currency]"])  # fmt: skip
            details = {"metadata": metadata, "subscription": subscription_id}
            invoice["parent"] = {"type": "subscription_details", "subscription_details": details}
            self.finalize(invoice)
            latest: Any = invoice if params.get("expand[0]") == "latest_invoice" else invoice["id"]
            return 200, {"id": subscription_id, "object": "subscription", "customer": params["customer"],
                         "status": "active", "metadata": metadata, "latest_invoice": latest}  # fmt: skip
        return 404, {
            "error": {"type": "invalid_request_error", "message": f"Unrecognized request URL ({method}: {path})"}
        }


@contextmanager
def fake_stripe() -> Iterator[FakeStripe]:
    state = FakeStripe()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def _handle(self, method: str) -> None:
            path, _, query = self.path.partition("?")
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else query
            params = dict(parse_qsl(body, keep_blank_values=True))
            with lock:
                state.requests.append(Recorded(method, path, params, {k.lower(): v for k, v in self.headers.items()}))
                key = self.headers.get("Idempotency-Key")
                if method == "POST" and key and key in state.idempotent:
                    status, payload = state.idempotent[key]
                else:
                    status, payload = state.respond(method, path, params)
                    if method == "POST" and key and status == 200:
                        state.idempotent[key] = (status, payload)
                data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Request-Id", "req_local")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
