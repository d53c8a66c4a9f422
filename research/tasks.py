from __future__ import annotations

from celery import shared_task

from research import services


@shared_task(acks_late=True, reject_on_worker_lost=True)
def run_export_task(export_id: int) -> str:
    """Safe to run twice (a redelivered message after a lost worker): see services.build_export."""
    return services.build_export(export_id=export_id).status
