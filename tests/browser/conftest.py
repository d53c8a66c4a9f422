"""Real-browser fixtures: Debian's chromium driven by Playwright against pytest-django's live server.

Playwright's own browser download does not work here, so the system chromium is launched. Without it
the browser tests are skipped, unless ``KINDRED_REQUIRE_BROWSER=1`` (CI) turns that into a failure.

The live server listens on ``localhost:<port>``; Chromium resolves every ``*.localhost`` name to the
loopback address, so ``http://<tenant>.localhost:<port>/`` reaches the same server and is routed to
that tenant by its Host header, exactly as in production.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DEFAULT_TIMEOUT_MS = 15_000


def _browser_unavailable(reason: str) -> NoReturn:
    if os.environ.get("KINDRED_REQUIRE_BROWSER") == "1":
        pytest.fail(f"KINDRED_REQUIRE_BROWSER=1 but the browser cannot run: {reason}", pytrace=False)
    pytest.skip(f"browser tests need chromium: {reason}")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless chromium per test module (contexts keep the tests apart).

    Playwright's sync API keeps an asyncio loop marked as running in the main thread for as long as
    it is started. Django then refuses ORM calls from the test body (SynchronousOnlyOperation), and
    asgiref's async_to_sync refuses to run at all. So the browser lives only while a browser module
    runs, never for the rest of the session, and only meanwhile is DJANGO_ALLOW_ASYNC_UNSAFE set (the
    test's own ORM calls are plain synchronous code; the live server serves from its own threads).
    """
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        _browser_unavailable(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        _browser_unavailable(f"the playwright package is not installed ({exc})")
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            try:
                instance = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            except Exception as exc:
                _browser_unavailable(f"chromium did not start ({exc})")
            try:
                yield instance
            finally:
                instance.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Remember each phase's report on the item, so fixtures can tell whether the test failed."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture
def browser_context(browser: Any, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """A fresh cookie jar per test; screenshots of every open page are kept when the test fails."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    context.set_default_navigation_timeout(DEFAULT_TIMEOUT_MS)
    try:
        yield context
    finally:
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            for index, open_page in enumerate(context.pages):
                shot = tmp_path / f"failure-{index}.png"
                try:
                    open_page.screenshot(path=str(shot), full_page=True)
                    print(f"\nfailure screenshot: {shot} (last URL {open_page.url})")
                except Exception as exc:  # the page may be gone; the test failure matters more
                    print(f"\nno failure screenshot for page {index}: {exc}")
        context.close()


@pytest.fixture
def page(browser_context: Any) -> Any:
    return browser_context.new_page()


@pytest.fixture(autouse=True)
def _live_server_helper(request: pytest.FixtureRequest) -> Iterator[None]:
    """Replaces pytest-django's helper of the same name for the browser tests.

    pytest-django's version pulls in ``transactional_db`` for any test that uses ``live_server``;
    its teardown FLUSHes the database, which would truncate the public schema (tenants, domains,
    the condition taxonomy) that the session built once. Here the live server gets ``committed_db``
    instead: real commits, with the test's members erased afterwards.
    """
    if "live_server" not in request.fixturenames:
        yield
        return
    request.getfixturevalue("committed_db")
    live_server = request.getfixturevalue("live_server")
    live_server._live_server_modified_settings.enable()
    try:
        yield
    finally:
        live_server._live_server_modified_settings.disable()


@dataclass(frozen=True)
class LiveSite:
    """URLs of the live server as the root domain and as each tenant host."""

    scheme: str
    port: int

    def host(self, domain: str) -> str:
        return f"{self.scheme}://{domain}:{self.port}"

    @property
    def root(self) -> str:
        from django.conf import settings

        return self.host(settings.ROOT_DOMAIN)


@pytest.fixture
def live_site(live_server: Any, settings: Any) -> LiveSite:
    """The live server, with the site's configured port pointed at it.

    Links made outside a request (the verification email sent by Celery) use SITE_SCHEME and
    SITE_PORT; settings are process-wide, so the live server thread sees the override too.
    """
    port = int(live_server.thread.port)
    settings.SITE_SCHEME = "http"
    settings.SITE_PORT = str(port)
    settings.ROOT_URL = f"http://{settings.ROOT_DOMAIN}:{port}"
    return LiveSite(scheme="http", port=port)


AXE_PATH = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


def require_axe() -> Path:
    """axe-core from npm (package.json; `make test` runs `npm ci`). Missing: skipped, or failed on CI."""
    if not AXE_PATH.is_file():
        _browser_unavailable(f"{AXE_PATH} is missing: run `npm ci` (make test does)")
    return AXE_PATH
