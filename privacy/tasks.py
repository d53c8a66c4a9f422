from __future__ import annotations

from celery import shared_task

from privacy import services


@shared_task(acks_late=True)
def build_export_task(export_id: int) -> str:
    return services.build_export(export_id=export_id).status


@shared_task(acks_late=True, bind=True, max_retries=5)
def erase_member_task(self, request_id: int) -> str:
    request = services.run_erasure(request_id=request_id)
    if request.status != "done":
        # One schema failed: the others stay done; try again later (the run resumes).
        raise self.retry(countdown=60 * (self.request.retries + 1))
    return request.status


@shared_task
def purge_expired_exports_task() -> int:
    return services.purge_expired_exports()
