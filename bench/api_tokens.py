"""What a bearer token costs per API request, against a session (the same-run baseline).

    .venv/bin/python bench/api_tokens.py [--requests 300]

Runs in the bench database (bench/_setup.py). Makes (or reuses) the partner ``bench-tokens`` and a
member of it, then times ``GET /api/v1/communities/`` on that host through Django's test client,
interleaving a session-authenticated request and a bearer-token request, and counts the queries of
each. Last line: {"session_ms": ..., "bearer_ms": ..., "extra_ms": ..., "session_queries": ...,
"bearer_queries": ...} (medians).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._setup import setup_django

os.environ["KINDRED_DEBUG"] = "0"
SLUG = "bench-tokens"
PATH = "/api/v1/communities/"


def _queries(client: Any) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(PATH).status_code == 200
    return len(captured.captured_queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    setup_django()

    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from apitokens.services import create_personal_token
    from members.middleware import SESSION_GENERATION_KEY
    from members.models import Member
    from members.services import join_tenant
    from tenants.models import Tenant
    from tenants.services import bootstrap_platform, provision_tenant

    bootstrap_platform()
    connection.set_schema_to_public()
    if not Tenant.objects.filter(slug=SLUG).exists():
        provision_tenant(name="Bench tokens", slug=SLUG, domain=f"{SLUG}.localhost")
    connection.set_schema_to_public()
    tenant = Tenant.objects.get(slug=SLUG)
    member, _ = Member.objects.get_or_create(
        email="bench-tokens@example.test", defaults={"email_verified_at": timezone.now()}
    )
    join_tenant(member=member, tenant=tenant)
    connection.set_schema_to_public()
    raw = create_personal_token(member=member, tenant=tenant, name="bench", scopes=["read"], expires_in_days=1).secret
    host = f"{SLUG}.localhost"
    session = Client(HTTP_HOST=host)
    session.force_login(member)
    stored = session.session
    stored[SESSION_GENERATION_KEY] = member.session_generation
    stored.save()
    bearer = Client(HTTP_HOST=host, HTTP_AUTHORIZATION=f"Bearer {raw}")

    for client in (session, bearer):  # warm up
        for _ in range(10):
            assert client.get(PATH).status_code == 200
    times: dict[str, list[float]] = {"session": [], "bearer": []}
    for _ in range(args.requests):
        for name, client in (("session", session), ("bearer", bearer)):
            started = time.perf_counter()
            response = client.get(PATH)
            times[name].append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
    session_q, bearer_q = _queries(session), _queries(bearer)
    result = {
        "session_ms": round(statistics.median(times["session"]), 2),
        "bearer_ms": round(statistics.median(times["bearer"]), 2),
        "session_queries": session_q,
        "bearer_queries": bearer_q,
    }
    result["extra_ms"] = round(result["bearer_ms"] - result["session_ms"], 2)
    print(f"GET {PATH} on {host}, {args.requests} requests each, interleaved (medians)")
    print(f"  session (baseline): {result['session_ms']:.2f} ms, {session_q} queries")
    print(f"  bearer token:       {result['bearer_ms']:.2f} ms, {bearer_q} queries")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
