"""Thin Celery tasks: ids in, a service call, safe to run twice."""

from __future__ import annotations

from celery import shared_task

from partnerships import services


@shared_task(acks_late=True)
def provision_agreement_tenant_task(agreement_id: int) -> str:
    return services.run_provisioning(agreement_id=agreement_id).status


@shared_task(acks_late=True, autoretry_for=(services.Conflict,), retry_backoff=60, max_retries=5)
def start_billing_task(agreement_id: int) -> str:
    return services.start_billing(agreement_id=agreement_id).payment_link_url


@shared_task
def suspend_overdue_agreements_task() -> int:
    return services.suspend_overdue_agreements()


@shared_task(acks_late=True)
def agreement_ended_task(agreement_id: int) -> int:
    services.build_partner_archive(agreement_id=agreement_id)
    return services.announce_agreement_ended(agreement_id=agreement_id)


@shared_task(acks_late=True)
def send_study_invitation_task(study_id: int) -> int:
    return services.send_study_invitation(study_id=study_id).recipients
