from __future__ import annotations

from typing import Any

from celery import shared_task

from trials.services import deliver_trial_notices
from trials.sync import SyncBusy, run_sync


@shared_task(acks_late=True)
def sync_trials_task() -> dict[str, Any]:
    """Beat, daily: fetch studies updated since the last successful sync (resumes a crashed run)."""
    try:
        run = run_sync()
    except SyncBusy:
        return {"skipped": "busy"}
    return {"run": run.pk, "status": run.status, "new": run.created, "updated": run.updated, "pages": run.pages}


@shared_task(acks_late=True)
def deliver_trial_notices_task() -> int:
    """Email trial notices not emailed yet; safe to run twice (each notice is emailed once)."""
    return deliver_trial_notices()
