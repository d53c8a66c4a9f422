"""schemathesis against a live server (issue 17): both URL sets (the root host and a partner host),
signed out and signed in, a bounded number of generated examples per operation (valid and invalid
data). It fails on any 5xx, any answer the schema does not describe (status, content type, body)
and any error under /api/v1/ that is not JSON in the one error shape.

The summary (operations, examples, failures per run) is printed and written to
``.kindred/schemathesis-summary.json``. Environment: ``KINDRED_FUZZ_EXAMPLES`` (examples per operation),
``KINDRED_FUZZ_PHASES`` and ``KINDRED_FUZZ_EXCLUDE`` (comma-separated schemathesis phases / checks).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from drf_spectacular.generators import SchemaGenerator

from tests.browser.conftest import _live_server_helper  # noqa: F401 (fixture: a live server on committed rows)
from tests.conftest import COMMITTED_EMAIL_DOMAIN, ROOT, TENANT_A, signed_in

pytestmark = [pytest.mark.integration]

EXAMPLES = int(os.environ.get("KINDRED_FUZZ_EXAMPLES", "6"))
# "coverage" adds schemathesis' boundary-value phase (about ten times the requests).
PHASES = os.environ.get("KINDRED_FUZZ_PHASES", "examples,fuzzing")
# Every other check runs (5xx, status codes, content types, headers, response bodies, 405s with
# Allow, the error-shape check below). Left out: checks that judge business rules the schema cannot
# state (a valid-looking id that does not exist is a 4xx, not a schema lie) or need auth schemes.
EXCLUDED_CHECKS = os.environ.get("KINDRED_FUZZ_EXCLUDE") or ",".join(
    [
        "positive_data_acceptance",
        "negative_data_rejection",
        "ignored_auth",
        "object_level_authorization",
        "use_after_free",
        "ensure_resource_availability",
    ]
)
HOSTS = {"root": (settings.ROOT_DOMAIN, "config.urls_public"), "partner": (TENANT_A["domain"], "config.urls_tenant")}
ST = Path(sys.executable).with_name("st")
SUMMARY = ROOT / ".kindred" / "schemathesis-summary.json"


@pytest.fixture
def fuzz_member(committed_db: None, tenant_a: Any) -> Any:
    from members.services import join_tenant
    from tests.factories import MemberFactory

    member: Any = MemberFactory(email=f"fuzz@{COMMITTED_EMAIL_DOMAIN}", display_name="Fuzz")
    join_tenant(member=member, tenant=tenant_a)
    return member


def _session_headers(host: str, member: Any) -> list[str]:
    """A signed-in browser's cookies, and the CSRF header a same-site script would send."""
    from django.middleware.csrf import _get_new_csrf_string

    client = signed_in(host, member)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    csrf = _get_new_csrf_string()
    return [
        "-H",
        f"Cookie: {settings.SESSION_COOKIE_NAME}={session}; {settings.CSRF_COOKIE_NAME}={csrf}",
        "-H",
        f"X-CSRFToken: {csrf}",
    ]


def _assert_signed_in(live_server: Any, host: str, headers: list[str]) -> None:
    """The signed-in run really is signed in (else it would only repeat the anonymous one)."""
    pairs = dict(header.split(": ", 1) for header in headers[1::2])
    request = urllib.request.Request(f"{live_server.url}/api/v1/me/", headers={"Host": host, **pairs})
    with urllib.request.urlopen(request, timeout=30) as response:
        me = json.loads(response.read())
    # The root shows the account's email; a partner only its own id for the member (issue 9).
    assert me["email"].endswith(COMMITTED_EMAIL_DOMAIN) if "email" in me else me["id"]


def _run(*, tmp_path: Path, live_server: Any, where: str, member: Any | None) -> dict[str, Any]:
    host, urlconf = HOSTS[where]
    auth = _session_headers(host, member) if member else []
    if member:
        _assert_signed_in(live_server, host, auth)
    schema_path = tmp_path / f"{where}.json"
    schema = SchemaGenerator(urlconf=urlconf).get_schema(request=None, public=True)
    schema_path.write_text(json.dumps(schema, default=str))
    report = tmp_path / f"{where}-{'member' if member else 'anonymous'}.json"
    command = [
        str(ST), "run", str(schema_path),
        "--url", live_server.url,
        "-H", f"Host: {host}",
        *auth,
        "--exclude-checks", EXCLUDED_CHECKS,
        "--max-examples", str(EXAMPLES),
        "--phases", PHASES,
        "--mode", "all",
        "--seed", "17",
        "--workers", "1",
        "--no-shrink",
        "--request-timeout", "30",
        "--suppress-health-check", "all",
        "--report", "json",
        "--report-json-path", str(report),
    ]  # fmt: skip
    environment = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.api.schemathesis_hooks", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(command, capture_output=True, text=True, env=environment, cwd=ROOT, timeout=900)
    return {"returncode": result.returncode, "output": result.stdout[-6000:] + result.stderr[-3000:], "report": report}


def _summary(report: Path) -> dict[str, Any]:
    """Operations, examples and failures of one run (from schemathesis' JSON report)."""
    data = json.loads(report.read_text()) if report.exists() else {}
    return {
        "operations": data.get("operations", {}).get("tested"),
        "examples": data.get("test_cases", {}).get("generated"),
        "failures": len(data.get("failures", [])),
        "errors": len(data.get("errors", [])),
        "seconds": round(data.get("running_time", 0), 1),
        "checks_excluded": EXCLUDED_CHECKS.split(","),
        "failure_titles": [str(f)[:300] for f in data.get("failures", [])][:20],
    }


@pytest.mark.parametrize("signed", ["anonymous", "member"])
@pytest.mark.parametrize("where", ["root", "partner"])
def test_schemathesis_finds_nothing(live_server, fuzz_member, tmp_path, where, signed):
    run = _run(
        tmp_path=tmp_path, live_server=live_server, where=where, member=fuzz_member if signed == "member" else None
    )
    summary = _summary(run["report"])
    SUMMARY.parent.mkdir(exist_ok=True)
    existing = json.loads(SUMMARY.read_text()) if SUMMARY.exists() else {}
    existing[f"{where}/{signed}"] = {"returncode": run["returncode"], **summary}
    SUMMARY.write_text(json.dumps(existing, indent=2, default=str))
    print(f"schemathesis {where}/{signed}: {summary}")
    assert run["returncode"] == 0, run["output"]
