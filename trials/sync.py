"""Keep trials current from the ClinicalTrials.gov API v2 (``settings.CTGOV_API_URL``).

One run asks, for each condition any community covers (``covered_condition_names``), for the studies
updated since the last successful run (``filter.advanced=AREA[LastUpdatePostDate]RANGE[date,MAX]``),
page by page with ``pageToken``/``nextPageToken`` (the same parameters on every page). Each page is
imported and the run's checkpoint (condition index + next page token) saved in the same transaction,
so a crash loses at most the page in flight and the next run resumes there; the import is idempotent
(a version that is not newer is skipped), so a page fetched twice changes nothing. The watermark is the
date a run started, and it only becomes the next ``since`` of a condition when a run that covered
that condition completes (a condition no run has completed yet is asked for in full).

HTTP 429, 5xx, timeouts, connection errors and unreadable bodies are retried with exponential
back-off (``CTGOV_BACKOFF_SECONDS`` doubling, capped at ``CTGOV_MAX_BACKOFF_SECONDS``), honouring
``Retry-After``; after ``CTGOV_MAX_RETRIES`` the run fails and keeps its checkpoint. Other 4xx fail at once.
"""

from __future__ import annotations

import datetime
import http.client
import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from email.utils import parsedate_to_datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from conditions.models import Condition
from core.errors import DomainError
from tenants.services import for_each_tenant
from trials.importer import ImportReport, iter_payload_records, load_studies
from trials.models import SyncRun, SyncStatus
from trials.registry import condition_sources
from trials.services import record_trial_changes

logger = logging.getLogger(__name__)
SYNC_LOCK_KEY = 0x7472_6973  # 'tris'
USER_AGENT = "Kindred trial sync (+https://github.com/kindred)"


class SyncFailed(DomainError):
    code = "sync_failed"
    http_status = 502


class SyncBusy(DomainError):
    code = "sync_busy"
    http_status = 409


def covered_condition_ids() -> set[int]:
    """Taxonomy condition ids covered by any community of any tenant (through registered sources)."""
    sources = condition_sources()

    def gather(_tenant: Any) -> set[int]:
        found: set[int] = set()
        for source in sources:
            found |= set(source())
        return found

    ids: set[int] = set()
    for found in for_each_tenant(gather).values():
        ids |= found
    return ids


def covered_condition_names() -> list[str]:
    return list(
        Condition.objects.filter(pk__in=covered_condition_ids()).order_by("name").values_list("name", flat=True)
    )


def _retry_after(headers: Any) -> float | None:
    value = headers.get("Retry-After") if headers is not None else None
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, (parsedate_to_datetime(value) - timezone.now()).total_seconds())
        except (TypeError, ValueError):
            return None


def page_url(*, base_url: str, condition: str, since: Any, page_token: str, page_size: int) -> str:
    params = {"format": "json", "query.cond": condition, "pageSize": str(page_size), "countTotal": "false"}
    if since:
        params["filter.advanced"] = f"AREA[LastUpdatePostDate]RANGE[{since.isoformat()},MAX]"
    if page_token:
        params["pageToken"] = page_token
    return f"{base_url}?{urllib.parse.urlencode(params)}"


def fetch_page(url: str, *, run: SyncRun | None = None) -> dict[str, Any]:
    """GET one API page, retrying what is worth retrying; raises SyncFailed when it gives up."""
    retries = settings.CTGOV_MAX_RETRIES
    backoff = settings.CTGOV_BACKOFF_SECONDS
    problem = ""
    for attempt in range(retries + 1):
        delay: float | None = None
        try:
            request = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": USER_AGENT})  # noqa: S310
            with urllib.request.urlopen(request, timeout=settings.CTGOV_HTTP_TIMEOUT) as response:  # noqa: S310
                body = response.read()
            payload = json.loads(body)
            if not isinstance(payload, dict) or not isinstance(payload.get("studies", []), list):
                raise ValueError("not an API v2 page")
            return payload
        except urllib.error.HTTPError as exc:
            if exc.code != 429 and exc.code < 500:
                raise SyncFailed(f"HTTP {exc.code} from {url}", details={"status": exc.code}) from exc
            problem = f"HTTP {exc.code}"
            delay = _retry_after(exc.headers)
        except (TimeoutError, urllib.error.URLError, ConnectionError, http.client.HTTPException) as exc:
            problem = f"{type(exc).__name__}: {exc}"
        except ValueError as exc:  # truncated or not JSON
            problem = f"unreadable response: {exc}"
        if attempt == retries:
            break
        wait = min(delay if delay is not None else backoff * (2**attempt), settings.CTGOV_MAX_BACKOFF_SECONDS)
        logger.warning("trial sync: %s on %s; retry %s/%s in %.1f s", problem, url, attempt + 1, retries, wait)
        if run is not None:
            SyncRun.objects.filter(pk=run.pk).update(retries=run.retries + 1)
            run.retries += 1
        time.sleep(wait)
    raise SyncFailed(f"Gave up after {retries} retries: {problem}", details={"url": url})


def _last_watermark() -> Any:
    done = SyncRun.objects.filter(status=SyncStatus.SUCCEEDED).order_by("-run_date").first()
    return done.run_date if done else None


def _start_or_resume(conditions: list[str] | None) -> SyncRun:
    unfinished = SyncRun.objects.filter(status__in=[SyncStatus.RUNNING, SyncStatus.FAILED]).order_by("-id").first()
    if unfinished is not None:
        # We hold the sync lock, so a "running" row is a run that crashed: resume it where it stopped.
        unfinished.status = SyncStatus.RUNNING
        unfinished.attempts += 1
        unfinished.error = ""
        unfinished.save(update_fields=["status", "attempts", "error", "heartbeat_at"])
        return unfinished
    names = covered_condition_names() if conditions is None else conditions
    last_done: dict[str, str] = {}
    for done in SyncRun.objects.filter(status=SyncStatus.SUCCEEDED).order_by("-run_date", "-id")[:100]:
        for name in done.conditions:
            last_done.setdefault(name, done.run_date.isoformat())
    return SyncRun.objects.create(
        since=_last_watermark(),
        run_date=timezone.localdate(),
        conditions=names,
        condition_since={name: last_done.get(name) for name in names},
    )


def run_sync(*, conditions: list[str] | None = None, base_url: str | None = None) -> SyncRun:
    """Run (or resume) one sync. ``conditions`` overrides the communities' conditions (tests, staff)."""
    base_url = base_url or settings.CTGOV_API_URL
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [SYNC_LOCK_KEY])
        if not cursor.fetchone()[0]:
            raise SyncBusy("A trial sync is already running.")
    try:
        run = _start_or_resume(conditions)
        try:
            _run(run, base_url=base_url)
        except Exception as exc:
            SyncRun.objects.filter(pk=run.pk).update(status=SyncStatus.FAILED, error=str(exc)[:2000])
            run.refresh_from_db()
            raise
        return run
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [SYNC_LOCK_KEY])


def _run(run: SyncRun, *, base_url: str) -> None:
    while run.condition_index < len(run.conditions):
        condition = run.conditions[run.condition_index]
        since_text = run.condition_since.get(condition)
        url = page_url(
            base_url=base_url,
            condition=condition,
            since=datetime.date.fromisoformat(since_text) if since_text else None,
            page_token=run.page_token,
            page_size=settings.CTGOV_PAGE_SIZE,
        )
        payload = fetch_page(url, run=run)
        next_token = payload.get("nextPageToken") or ""
        if not isinstance(next_token, str):
            next_token = ""
        with transaction.atomic():
            report: ImportReport = load_studies(iter_payload_records(payload, source=url))
            record_trial_changes(report=report)
            for rejection in report.rejections:
                logger.warning("trial sync rejected %s", rejection)
            run.pages += 1
            run.created += report.created
            run.updated += report.updated
            run.unchanged += report.unchanged
            run.rejected += report.rejected
            if next_token:
                run.page_token = next_token
            else:
                run.page_token = ""
                run.condition_index += 1
            run.save()
    run.status = SyncStatus.SUCCEEDED
    run.finished_at = timezone.now()
    run.save()
