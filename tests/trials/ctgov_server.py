"""A local ClinicalTrials.gov API v2 stand-in: real HTTP, real pagination, injected failures.

Serves ``GET /api/v2/studies`` from a list of study records: ``query.cond`` matches a study's conditions,
keywords or MeSH terms (case-insensitive substring), ``filter.advanced=AREA[LastUpdatePostDate]RANGE[d,MAX]``
keeps studies updated on or after d, ``pageSize`` and ``pageToken`` page through the result (the token is
``<cond>|<offset>``), and the last page has no ``nextPageToken``. ``faults`` maps a page key
(``(condition, offset)``) to a queue of failures served before the real page: "429" (with Retry-After),
"500", "503", "timeout" (sleeps past the client's timeout), "truncated" (half the JSON, status 200), "404",
"hang" (60 s: a client killed while waiting).
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_RANGE_RE = re.compile(r"AREA\[LastUpdatePostDate\]RANGE\[(\d{4}-\d{2}-\d{2}),MAX\]")


def last_update(study: dict[str, Any]) -> str:
    return study["protocolSection"].get("statusModule", {}).get("lastUpdatePostDateStruct", {}).get("date", "")


def study_text(study: dict[str, Any]) -> str:
    module = study.get("protocolSection", {}).get("conditionsModule", {})
    meshes = study.get("derivedSection", {}).get("conditionBrowseModule", {}).get("meshes", [])
    return "\n".join([*module.get("conditions", []), *module.get("keywords", []), *(m["term"] for m in meshes)]).lower()


@dataclass
class FakeCtgov:
    studies: list[dict[str, Any]]
    faults: dict[tuple[str, int], list[str]] = field(default_factory=dict)
    retry_after: str = "0"
    timeout_sleep: float = 1.0
    requests: list[dict[str, str]] = field(default_factory=list)
    url: str = ""

    def page(self, params: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        condition = params.get("query.cond", "").lower()
        size = int(params.get("pageSize", "10"))
        token = params.get("pageToken", "")
        offset = int(token.rsplit("|", 1)[1]) if token else 0
        fault_queue = self.faults.get((condition, offset))
        if fault_queue:
            fault = fault_queue.pop(0)
            if fault == "429":
                return 429, {"Retry-After": self.retry_after}, b'{"message": "rate limited"}'
            if fault in ("500", "503", "404"):
                return int(fault), {}, b"oops"
            if fault == "timeout":
                time.sleep(self.timeout_sleep)
            if fault == "hang":  # long enough for the test to kill the client mid-run
                time.sleep(60)
            if fault == "truncated":
                return 200, {}, b'{"studies": [{"protocolSection": {"identificationModule": {"nctId": "NCT0'
        since = None
        match = _RANGE_RE.search(params.get("filter.advanced", ""))
        if match:
            since = match.group(1)
        chosen = [s for s in self.studies if condition in study_text(s) and (since is None or last_update(s) >= since)]
        chosen.sort(key=lambda s: str(s["protocolSection"]["identificationModule"].get("nctId")))
        body: dict[str, Any] = {"studies": chosen[offset : offset + size]}
        if offset + size < len(chosen):
            body["nextPageToken"] = f"{condition}|{offset + size}"
        return 200, {}, json.dumps(body).encode()


@contextmanager
def serve(fake: FakeCtgov) -> Iterator[FakeCtgov]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parsed = urllib.parse.urlparse(self.path)
            params = dict(urllib.parse.parse_qsl(parsed.query))
            fake.requests.append(params)
            if parsed.path != "/api/v2/studies":
                self.send_response(404)
                self.end_headers()
                return
            status, headers, body = fake.page(params)
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout): fine

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/api/v2/studies"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
