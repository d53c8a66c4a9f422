"""Writes for partnerships: partners, agreements and their life cycle, provisioning, Stripe billing.

Every change of an agreement writes an ``AgreementEvent`` (who, what, when, why) in the same
transaction. Side effects (provisioning, billing calls, emails) run in Celery tasks enqueued on commit.
"""

from __future__ import annotations

import datetime
import logging
from typing import Any

import stripe
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from consent.models import ConsentPurpose
from consent.selectors import members_consenting_to
from core.errors import Conflict, DomainError, InvalidInput, NotAllowed
from core.text import collapse_whitespace, hidden_character_message
from members.models import Member, TenantMembership
from members.selectors import can_administer_tenant
from members.services import invite_to_tenant
from partnerships import archive, billing, emails
from partnerships.models import (
    AgreementEvent,
    AgreementKind,
    AgreementStatus,
    FeeInterval,
    Invoice,
    Partner,
    PartnerKind,
    PartnershipAgreement,
    StripeEvent,
    StudyInvitation,
    StudyStatus,
)
from partnerships.selectors import active_members_by_email
from tenants.models import Tenant
from tenants.services import provision_tenant, set_tenant_listed, set_tenant_read_only, validate_new_tenant

logger = logging.getLogger(__name__)


class BillingUnavailable(DomainError):
    code = "billing_off"
    http_status = 503


# Fields staff may edit while an agreement is a draft; later only the notes and the document change
# (a signed agreement's terms are changed by a new agreement, not by editing the old one).
DRAFT_FIELDS = {
    "kind", "beneficiary", "starts_on", "ends_on", "fee_cents", "currency", "interval", "notes",
    "tenant_name", "tenant_slug", "theme_primary_colour", "first_admin_email", "signed_document",
}  # fmt: skip
LATER_FIELDS = {"notes", "signed_document", "ends_on"}


def _audit(
    *,
    agreement: PartnershipAgreement,
    action: str,
    actor: Member | None = None,
    source: str = "staff",
    old_status: str = "",
    changes: dict[str, Any] | None = None,
    reason: str = "",
) -> AgreementEvent:
    return AgreementEvent.objects.create(
        agreement=agreement,
        actor=actor if actor is not None and actor.is_authenticated else None,
        source=source,
        action=action,
        old_status=old_status,
        new_status=agreement.status,
        changes=changes or {},
        reason=reason[:500],
    )


def _set_status(
    agreement: PartnershipAgreement,
    status: str,
    *,
    action: str,
    actor: Member | None = None,
    source: str = "staff",
    reason: str = "",
    extra: dict[str, Any] | None = None,
) -> None:
    old = agreement.status
    agreement.status = status
    agreement.updated_at = timezone.now()
    for attr, value in (extra or {}).items():
        setattr(agreement, attr, value)
    agreement.save(update_fields=["status", "updated_at", *(extra or {})])
    changes = {key: str(value) for key, value in (extra or {}).items()}
    _audit(
        agreement=agreement, action=action, actor=actor, source=source, old_status=old, changes=changes, reason=reason
    )


# --- partners ---------------------------------------------------------------------------------


def _clean_partner(fields: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    name = collapse_whitespace(str(fields.get("name") or ""))
    hidden = hidden_character_message(name)
    if not name:
        errors["name"] = ["A name is required."]
    elif hidden:
        errors["name"] = [hidden]
    if fields.get("kind") not in PartnerKind.values:
        errors["kind"] = [f"Choose one of: {', '.join(PartnerKind.values)}."]
    if not fields.get("billing_email"):
        errors["billing_email"] = ["A billing email is required."]
    if errors:
        raise InvalidInput("Check the partner's details.", details=errors)
    return {**fields, "name": name, "billing_email": str(fields["billing_email"]).strip().lower()}


PARTNER_FIELDS = ("name", "kind", "contact_name", "contact_email", "contact_phone", "billing_email")


def save_partner(*, actor: Member | None, partner: Partner | None = None, **fields: Any) -> Partner:
    """Create a partner or change its details (kind, contacts, billing email)."""
    allowed = set(PARTNER_FIELDS)
    if unknown := set(fields) - allowed:
        raise InvalidInput(f"Unknown fields: {', '.join(sorted(unknown))}.")
    current = {key: getattr(partner, key) for key in allowed} if partner else {}
    cleaned = _clean_partner({**current, **fields})
    try:
        with transaction.atomic():
            if partner is None:
                return Partner.objects.create(**cleaned)
            for key, value in cleaned.items():
                setattr(partner, key, value)
            partner.save()
            return partner
    except IntegrityError as exc:
        raise InvalidInput("A partner with this name exists.", details={"name": ["Already exists."]}) from exc


def set_partner_representatives(*, partner: Partner, member_ids: list[int], actor: Member | None) -> Partner:
    """Who acts for the partner (submits study invitations); logged on each of its agreements."""
    with transaction.atomic():
        old = sorted(partner.representatives.values_list("pk", flat=True))
        if old == sorted(set(member_ids)):
            return partner
        partner.representatives.set(member_ids)
        for agreement in partner.agreements.all():
            _audit(
                agreement=agreement,
                action="representatives_changed",
                actor=actor,
                old_status=agreement.status,
                changes={"from": old, "to": sorted(set(member_ids))},
            )
    return partner


# --- agreements -------------------------------------------------------------------------------


def _validate_terms(values: dict[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    if values.get("kind") not in AgreementKind.values:
        errors["kind"] = [f"Choose one of: {', '.join(AgreementKind.values)}."]
    if values.get("interval") not in FeeInterval.values:
        errors["interval"] = [f"Choose one of: {', '.join(FeeInterval.values)}."]
    fee = values.get("fee_cents")
    if not isinstance(fee, int) or fee < 0:
        errors["fee_cents"] = ["Enter the fee as a whole number of cents, 0 or more."]
    currency = str(values.get("currency") or "")
    if len(currency) != 3 or not currency.isalpha():
        errors["currency"] = ["Use a three-letter ISO currency code such as usd or eur."]
    starts, ends = values.get("starts_on"), values.get("ends_on")
    if starts is None:
        errors["starts_on"] = ["A start date is required."]
    elif ends is not None and ends < starts:
        errors["ends_on"] = ["The term cannot end before it starts."]
    if values.get("kind") == AgreementKind.SPONSORED and not values.get("beneficiary"):
        errors["beneficiary"] = ["Name the advocacy partner whose community the sponsor pays for."]
    colour = str(values.get("theme_primary_colour") or "")
    if colour and not (len(colour) == 7 and colour.startswith("#")):
        errors["theme_primary_colour"] = ["Use a colour such as #2f5d8a."]
    if errors:
        raise InvalidInput("Check the agreement's terms.", details=errors)


# A person's address never enters the append-only log (it could not be erased): only that it was set.
_PERSONAL_TERMS = {"first_admin_email"}


def _audited(key: str, value: Any) -> str:
    if key in _PERSONAL_TERMS:
        return "(set)" if value else ""
    return str(value)


def create_agreement(
    *, actor: Member | None, partner: Partner, reason: str = "", **fields: Any
) -> PartnershipAgreement:
    if unknown := set(fields) - DRAFT_FIELDS:
        raise InvalidInput(f"Unknown fields: {', '.join(sorted(unknown))}.")
    fields.setdefault("currency", "usd")
    fields.setdefault("interval", FeeInterval.YEAR)
    fields.setdefault("fee_cents", 0)
    fields["currency"] = str(fields["currency"]).lower()
    _validate_terms(fields)
    with transaction.atomic():
        agreement = PartnershipAgreement.objects.create(partner=partner, **fields)
        _audit(
            agreement=agreement,
            action="created",
            actor=actor,
            changes={key: _audited(key, value) for key, value in fields.items() if value not in ("", None)},
            reason=reason,
        )
    return agreement


def update_agreement(
    *, actor: Member | None, agreement: PartnershipAgreement, reason: str = "", **changes: Any
) -> PartnershipAgreement:
    """Change an agreement's terms (drafts) or its notes, end date and document (later)."""
    allowed = DRAFT_FIELDS if agreement.status == AgreementStatus.DRAFT else LATER_FIELDS
    if refused := set(changes) - allowed:
        raise Conflict(
            f"These can only change while the agreement is a draft: {', '.join(sorted(refused))}.",
            code="agreement_not_draft",
        )
    if "currency" in changes:
        changes["currency"] = str(changes["currency"]).lower()
    values = {key: getattr(agreement, key) for key in DRAFT_FIELDS if key != "beneficiary"}
    values["beneficiary"] = agreement.beneficiary
    _validate_terms({**values, **changes})
    diff = {
        key: {"from": _audited(key, values.get(key) or ""), "to": _audited(key, value or "")}
        for key, value in changes.items()
        if values.get(key) != value
    }
    if not diff:
        return agreement
    with transaction.atomic():
        for key, value in changes.items():
            setattr(agreement, key, value)
        agreement.updated_at = timezone.now()
        agreement.save()
        _audit(agreement=agreement, action="updated", actor=actor, changes=diff, reason=reason)
    return agreement


def set_agreement_scope(
    *,
    actor: Member | None,
    agreement: PartnershipAgreement,
    tenant_ids: list[int] | None = None,
    condition_ids: list[int] | None = None,
    purpose_codes: list[str] | None = None,
    reason: str = "",
) -> PartnershipAgreement:
    """Which tenants, conditions and (research only) consent purposes the agreement covers."""
    if purpose_codes and agreement.kind != AgreementKind.RESEARCH:
        raise InvalidInput(
            "Only research agreements use consent purposes.", details={"consent_purposes": ["Research only."]}
        )
    diff: dict[str, Any] = {}
    with transaction.atomic():
        if tenant_ids is not None:
            old = sorted(agreement.tenants.values_list("pk", flat=True))
            if old != sorted(set(tenant_ids)):
                agreement.tenants.set(Tenant.objects.partners().filter(pk__in=tenant_ids))
                diff["tenants"] = {"from": old, "to": sorted(agreement.tenants.values_list("pk", flat=True))}
        if condition_ids is not None:
            old = sorted(agreement.conditions.values_list("pk", flat=True))
            if old != sorted(set(condition_ids)):
                agreement.conditions.set(condition_ids)
                diff["conditions"] = {"from": old, "to": sorted(set(condition_ids))}
        if purpose_codes is not None:
            purposes = list(ConsentPurpose.objects.filter(code__in=purpose_codes))
            if unknown := set(purpose_codes) - {p.code for p in purposes}:
                raise InvalidInput("Unknown consent purposes.", details={"consent_purposes": sorted(unknown)})
            old_codes = sorted(agreement.consent_purposes.values_list("code", flat=True))
            if old_codes != sorted(set(purpose_codes)):
                agreement.consent_purposes.set(purposes)
                diff["consent_purposes"] = {"from": old_codes, "to": sorted(set(purpose_codes))}
        if diff:
            _audit(agreement=agreement, action="scope_changed", actor=actor, changes=diff, reason=reason)
    return agreement


def set_agreement_recipients(
    *,
    actor: Member | None,
    agreement: PartnershipAgreement,
    member_ids: list[int],
    reason: str = "",
) -> PartnershipAgreement:
    """The named people who may receive a research agreement's data (nobody else does); logged.

    Only active accounts can be named. The log keeps account ids, never addresses (it cannot be erased).
    """
    if agreement.kind != AgreementKind.RESEARCH:
        raise InvalidInput(
            "Only research agreements have named data recipients.", details={"recipients": ["Research only."]}
        )
    wanted = sorted(set(member_ids))
    found = set(Member.objects.filter(pk__in=wanted, is_active=True).values_list("pk", flat=True))
    if missing := [pk for pk in wanted if pk not in found]:
        raise InvalidInput(
            "Recipients must be active accounts.",
            details={"recipients": [f"No active account with id {pk}." for pk in missing]},
        )
    with transaction.atomic():
        old = sorted(agreement.recipients.values_list("pk", flat=True))
        if old == wanted:
            return agreement
        agreement.recipients.set(wanted)
        _audit(
            agreement=agreement,
            action="recipients_changed",
            actor=actor,
            old_status=agreement.status,
            changes={"from": old, "to": wanted},
            reason=reason,
        )
    return agreement


def set_agreement_recipients_by_email(
    *, actor: Member | None, agreement: PartnershipAgreement, emails: list[str], reason: str = ""
) -> PartnershipAgreement:
    """``set_agreement_recipients`` naming people by email (the API's way); an unknown address is refused."""
    found = active_members_by_email(emails=emails)
    if unknown := sorted({email.strip().lower() for email in emails if email.strip()} - set(found)):
        raise InvalidInput(
            "Recipients must be active accounts.",
            details={"recipients": [f"No active account with the email {email}." for email in unknown]},
        )
    return set_agreement_recipients(
        actor=actor, agreement=agreement, member_ids=sorted(set(found.values())), reason=reason
    )


def tenant_domain_for(agreement: PartnershipAgreement) -> str:
    return f"{agreement.tenant_slug}.{settings.ROOT_DOMAIN}"


def _check_provisioning_request(agreement: PartnershipAgreement) -> None:
    errors: dict[str, list[str]] = {}
    if not agreement.first_admin_email:
        errors["first_admin_email"] = ["Name the partner's first admin: they are invited by email."]
    if agreement.tenant_id is None:
        try:
            validate_new_tenant(
                name=agreement.tenant_name, slug=agreement.tenant_slug, domain=tenant_domain_for(agreement)
            )
        except ValidationError as exc:
            # The host name derives from the slug, so its problems are the slug's.
            fields = {"name": "tenant_name", "slug": "tenant_slug", "domain": "tenant_slug"}
            for key, problems in exc.message_dict.items():
                errors.setdefault(fields.get(key, "tenant_slug"), []).extend(problems)
    if errors:
        raise InvalidInput("The community to provision is not ready.", code="provisioning_invalid", details=errors)


def activate_agreement(
    *, actor: Member | None, agreement_id: int, reason: str = "", source: str = "staff"
) -> PartnershipAgreement:
    """Draft → active. Hosted and sponsored agreements first provision their tenant in a Celery task
    (status "provisioning"); activating again while that runs, or after, changes nothing."""
    # cycle: partnerships.services -> partnerships.tasks -> partnerships.services
    from partnerships.tasks import provision_agreement_tenant_task  # noqa: PLC0415

    with transaction.atomic():
        agreement = PartnershipAgreement.objects.select_for_update().get(pk=agreement_id)
        if agreement.status in (AgreementStatus.ACTIVE, AgreementStatus.PROVISIONING):
            return agreement
        if agreement.status != AgreementStatus.DRAFT:
            raise Conflict(
                f"A {agreement.get_status_display().lower()} agreement cannot be activated.", code="not_a_draft"
            )
        if agreement.provisions_tenant and agreement.tenant_id is None:
            _check_provisioning_request(agreement)
            _set_status(
                agreement,
                AgreementStatus.PROVISIONING,
                action="provisioning_requested",
                actor=actor,
                source=source,
                reason=reason,
                extra={"provisioning_progress": "Queued for the worker.", "provisioning_error": ""},
            )
            transaction.on_commit(lambda: provision_agreement_tenant_task.delay(agreement.pk))
        else:
            if agreement.kind == AgreementKind.RESEARCH and not agreement.consent_purposes.exists():
                raise InvalidInput(
                    "A research agreement names the consent purposes it may use before it starts.",
                    details={"consent_purposes": ["Choose at least one."]},
                )
            _set_status(
                agreement, AgreementStatus.ACTIVE, action="activated", actor=actor, source=source, reason=reason
            )
    return agreement


def retry_provisioning(*, actor: Member | None, agreement_id: int, reason: str = "") -> PartnershipAgreement:
    # cycle: partnerships.services -> partnerships.tasks -> partnerships.services
    from partnerships.tasks import provision_agreement_tenant_task  # noqa: PLC0415

    with transaction.atomic():
        agreement = PartnershipAgreement.objects.select_for_update().get(pk=agreement_id)
        if agreement.status == AgreementStatus.PROVISIONING:
            return agreement
        if agreement.status != AgreementStatus.PROVISIONING_FAILED:
            raise Conflict("Only a failed provisioning can be retried.", code="nothing_to_retry")
        _check_provisioning_request(agreement)
        _set_status(
            agreement,
            AgreementStatus.PROVISIONING,
            action="provisioning_retried",
            actor=actor,
            reason=reason,
            extra={"provisioning_progress": "Queued for the worker (retry).", "provisioning_error": ""},
        )
        transaction.on_commit(lambda: provision_agreement_tenant_task.delay(agreement.pk))
    return agreement


def _progress(agreement_id: int, text: str) -> None:
    # Committed at once (outside provisioning's own transaction) so staff watching the admin see it.
    PartnershipAgreement.objects.filter(pk=agreement_id).update(provisioning_progress=text, updated_at=timezone.now())


def run_provisioning(*, agreement_id: int) -> PartnershipAgreement:
    """The worker's half of activation: provision (idempotent), invite the first admin, start billing.

    A failure leaves the agreement "provisioning failed" with the reason shown to staff, who retry.
    """
    # cycle: partnerships.services -> partnerships.tasks -> partnerships.services
    from partnerships.tasks import start_billing_task  # noqa: PLC0415

    agreement = PartnershipAgreement.objects.select_related("partner").get(pk=agreement_id)
    if agreement.status != AgreementStatus.PROVISIONING:
        return agreement
    lines = [f"Started {timezone.now():%Y-%m-%d %H:%M:%S} UTC."]
    _progress(agreement_id, "\n".join(lines))
    theme = {"primary_colour": agreement.theme_primary_colour} if agreement.theme_primary_colour else {}
    try:
        report = provision_tenant(
            name=agreement.tenant_name,
            slug=agreement.tenant_slug,
            domain=tenant_domain_for(agreement),
            tagline=f"A community of {(agreement.beneficiary or agreement.partner).name}",
            theme=theme,
            progress=lines.append,
        )
    except Exception as exc:  # any failure (invalid request, database, clone) must stay visible to staff
        message = (
            "; ".join(f"{key}: {' '.join(errors)}" for key, errors in exc.message_dict.items())
            if isinstance(exc, ValidationError) and hasattr(exc, "error_dict")
            else " ".join(exc.messages)
            if isinstance(exc, ValidationError)
            else str(exc)
        )
        logger.warning("provisioning for agreement %s failed: %s", agreement_id, message)
        with transaction.atomic():
            agreement = PartnershipAgreement.objects.select_for_update().get(pk=agreement_id)
            if agreement.status == AgreementStatus.PROVISIONING:
                _set_status(
                    agreement,
                    AgreementStatus.PROVISIONING_FAILED,
                    action="provisioning_failed",
                    source="worker",
                    reason=message,
                    extra={"provisioning_error": message, "provisioning_progress": "\n".join(lines)},
                )
        return agreement
    lines.append("Tenant ready." if report.created else "Tenant existed already; reused.")
    with transaction.atomic():
        agreement = PartnershipAgreement.objects.select_for_update().get(pk=agreement_id)
        if agreement.status != AgreementStatus.PROVISIONING:
            return agreement
        agreement.tenants.add(report.tenant)
        invite_to_tenant(tenant=report.tenant, email=agreement.first_admin_email)
        lines.append(f"Invited {agreement.first_admin_email} as the community's admin.")
        _set_status(
            agreement,
            AgreementStatus.ACTIVE,
            action="activated",
            source="worker",
            reason="Tenant provisioned",
            extra={"tenant": report.tenant, "provisioning_progress": "\n".join(lines), "provisioning_error": ""},
        )
        if billing.enabled() and agreement.fee_cents > 0:
            transaction.on_commit(lambda: start_billing_task.delay(agreement_id))
    return agreement


def _release_tenant_if_uncovered(agreement: PartnershipAgreement) -> list[Tenant]:
    """Tenants whose last live hosting agreement ended become read-only (never deleted)."""
    released = []
    for tenant in agreement.tenants.all():
        still_covered = (
            PartnershipAgreement.objects.filter(
                tenants=tenant, kind__in=[AgreementKind.HOSTED, AgreementKind.SPONSORED]
            )
            .exclude(status__in=[AgreementStatus.ENDED, AgreementStatus.DRAFT])
            .exclude(pk=agreement.pk)
            .exists()
        )
        if not still_covered and agreement.provisions_tenant:
            set_tenant_read_only(tenant=tenant, read_only=True)
            released.append(tenant)
    return released


def end_agreement(
    *, actor: Member | None, agreement_id: int, reason: str, source: str = "staff"
) -> PartnershipAgreement:
    """Any live status → ended (terminal). Its tenant stays, read-only, members keep their data."""
    # cycle: partnerships.services -> partnerships.tasks -> partnerships.services
    from partnerships.tasks import agreement_ended_task  # noqa: PLC0415

    if source == "staff" and not (reason or "").strip():
        raise InvalidInput("Say why the agreement ends.", details={"reason": ["Required."]})
    with transaction.atomic():
        agreement = PartnershipAgreement.objects.select_for_update().get(pk=agreement_id)
        if agreement.status == AgreementStatus.ENDED:
            return agreement
        _set_status(
            agreement,
            AgreementStatus.ENDED,
            action="ended",
            actor=actor,
            source=source,
            reason=reason,
            extra={"ends_on": agreement.ends_on or timezone.localdate()},
        )
        _release_tenant_if_uncovered(agreement)
        if agreement.tenants.exists():
            # The partner's archive, and members of read-only tenants are told what happens now.
            transaction.on_commit(lambda: agreement_ended_task.delay(agreement.pk))
    return agreement


def suspend_agreement(
    *, actor: Member | None, agreement_id: int, reason: str, source: str = "staff"
) -> PartnershipAgreement:
    """Active or past due → suspended: sponsor branding and features go; members keep everything."""
    if source == "staff" and not (reason or "").strip():
        raise InvalidInput("Say why the agreement is suspended.", details={"reason": ["Required."]})
    with transaction.atomic():
        agreement = PartnershipAgreement.objects.select_for_update().get(pk=agreement_id)
        if agreement.status == AgreementStatus.SUSPENDED:
            return agreement
        if agreement.status not in (AgreementStatus.ACTIVE, AgreementStatus.PAST_DUE):
            raise Conflict("Only an active or past-due agreement can be suspended.", code="not_active")
        _set_status(agreement, AgreementStatus.SUSPENDED, action="suspended", actor=actor, source=source, reason=reason)
    return agreement


def suspend_overdue_agreements(*, now: datetime.datetime | None = None) -> int:
    """Past due for longer than the grace period → suspended (run by Celery beat)."""
    cutoff = (now or timezone.now()) - datetime.timedelta(days=settings.PARTNERSHIP_GRACE_DAYS)
    ids = list(
        PartnershipAgreement.objects.filter(status=AgreementStatus.PAST_DUE, past_due_since__lte=cutoff).values_list(
            "pk", flat=True
        )
    )
    for agreement_id in ids:
        suspend_agreement(
            actor=None,
            agreement_id=agreement_id,
            source="beat",
            reason=f"Unpaid for more than {settings.PARTNERSHIP_GRACE_DAYS} days after the payment failed.",
        )
    return len(ids)


# --- billing ----------------------------------------------------------------------------------


def start_billing(*, agreement_id: int, actor: Member | None = None) -> PartnershipAgreement:
    """Create the Stripe customer (once per partner), then a subscription (recurring fee) or an invoice
    (one-off fee), and email the hosted payment link to the partner's billing email.

    Every create carries an idempotency key, so a retried task never makes a second one.
    """
    if not billing.enabled():
        raise BillingUnavailable("Billing is off: set STRIPE_SECRET_KEY to turn it on.")
    agreement = PartnershipAgreement.objects.select_related("partner").get(pk=agreement_id)
    if agreement.payment_link_url or agreement.fee_cents == 0:
        return agreement
    if agreement.status in (AgreementStatus.DRAFT, AgreementStatus.ENDED):
        raise Conflict("Bill an agreement once it is active.", code="not_active")
    partner = agreement.partner
    try:
        if not partner.stripe_customer_id:
            customer_id = billing.create_customer(partner=partner)
            Partner.objects.filter(pk=partner.pk).update(stripe_customer_id=customer_id)
            partner.stripe_customer_id = customer_id
        if agreement.interval == FeeInterval.ONE_OFF:
            subscription_id, invoice = "", billing.create_one_off_invoice(agreement=agreement)
        else:
            subscription_id, invoice = billing.create_subscription(agreement=agreement)
    except stripe.StripeError as exc:
        # The message is Stripe's (never our key); the task retries later with the same idempotency keys.
        raise Conflict(
            f"Stripe refused the request: {exc.user_message or type(exc).__name__}", code="stripe_error"
        ) from exc
    with transaction.atomic():
        agreement = PartnershipAgreement.objects.select_for_update().get(pk=agreement_id)
        _record_invoice(agreement=agreement, data=invoice)
        old = agreement.status
        agreement.stripe_subscription_id = subscription_id
        agreement.payment_link_url = invoice.get("hosted_invoice_url") or ""
        agreement.updated_at = timezone.now()
        agreement.save(update_fields=["stripe_subscription_id", "payment_link_url", "updated_at"])
        _audit(
            agreement=agreement,
            action="billing_started",
            actor=actor,
            source="staff" if actor else "worker",
            old_status=old,
            changes={"customer": partner.stripe_customer_id, "subscription": subscription_id, "invoice": invoice["id"]},
        )
        link, email = agreement.payment_link_url, partner.billing_email
        transaction.on_commit(lambda: emails.send_payment_link(agreement=agreement, link=link, email=email))
    return agreement


_INVOICE_RANK = {"draft": 0, "open": 1, "uncollectible": 2, "void": 3, "paid": 3}


def _record_invoice(*, agreement: PartnershipAgreement, data: dict[str, Any]) -> Invoice:
    """Upsert our copy of a Stripe invoice; its status only moves forward (draft → open → paid)."""
    invoice, created = Invoice.objects.select_for_update().get_or_create(
        stripe_invoice_id=data["id"],
        defaults={
            "agreement": agreement,
            "status": data.get("status") or "draft",
            "amount_due": data.get("amount_due") or 0,
            "amount_paid": data.get("amount_paid") or 0,
            "currency": data.get("currency") or agreement.currency,
            "hosted_invoice_url": data.get("hosted_invoice_url") or "",
            "stripe_created": data.get("created") or 0,
        },
    )
    new_status = data.get("status") or invoice.status
    if not created and _INVOICE_RANK.get(new_status, 0) >= _INVOICE_RANK.get(invoice.status, 0):
        invoice.status = new_status
        invoice.amount_paid = max(invoice.amount_paid, data.get("amount_paid") or 0)
        invoice.hosted_invoice_url = data.get("hosted_invoice_url") or invoice.hosted_invoice_url
        invoice.updated_at = timezone.now()
        invoice.save()
    return invoice


def _agreement_for(obj: dict[str, Any]) -> PartnershipAgreement | None:
    public_id = (obj.get("metadata") or {}).get("kindred_agreement")
    if not public_id:
        # Invoices of a subscription carry the subscription's metadata under parent (newer API versions).
        details = ((obj.get("parent") or {}).get("subscription_details") or {}).get("metadata") or {}
        public_id = details.get("kindred_agreement")
    query = PartnershipAgreement.objects.select_for_update()
    if public_id:
        try:
            return query.filter(public_id=public_id).first()
        except ValidationError:
            return None
    if obj.get("object") == "invoice":
        parent = ((obj.get("parent") or {}).get("subscription_details") or {}).get("subscription")
        subscription = obj.get("subscription") or parent
    else:
        subscription = obj.get("id")
    if isinstance(subscription, str) and subscription:
        found = query.filter(stripe_subscription_id=subscription).first()
        if found:
            return found
    if obj.get("object") == "invoice":
        row = Invoice.objects.filter(stripe_invoice_id=obj.get("id")).first()
        return query.filter(pk=row.agreement_id).first() if row else None
    return None


def handle_stripe_webhook(*, payload: bytes, signature: str) -> str:
    """Verify, record once, apply. Returns what happened (for the response and the event row).

    Raises InvalidInput (400) for a missing, bad or stale signature or an unreadable payload.
    """
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        raise BillingUnavailable("Stripe webhooks are off: STRIPE_WEBHOOK_SECRET is not set.")
    if not signature:
        raise InvalidInput("Missing Stripe-Signature header.", code="signature_missing")
    try:
        event = stripe.Webhook.construct_event(
            payload.decode("utf-8"), signature, secret, tolerance=settings.STRIPE_WEBHOOK_TOLERANCE
        )
    except stripe.SignatureVerificationError as exc:
        raise InvalidInput("The Stripe signature is not valid or too old.", code="signature_invalid") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("The payload is not a Stripe event.", code="payload_invalid") from exc
    data = event.to_dict()
    obj = (data.get("data") or {}).get("object") or {}
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = StripeEvent.objects.create(
                    event_id=data["id"], type=data.get("type", ""), stripe_created=data.get("created") or 0
                )
        except IntegrityError:
            return "duplicate"
        outcome, agreement = _apply_event(event_type=record.type, obj=obj)
        record.outcome = outcome
        record.agreement = agreement
        record.save(update_fields=["outcome", "agreement"])
    return outcome


def _apply_event(*, event_type: str, obj: dict[str, Any]) -> tuple[str, PartnershipAgreement | None]:
    if event_type not in (
        "invoice.paid",
        "invoice.payment_succeeded",
        "invoice.payment_failed",
        "customer.subscription.deleted",
    ):
        return "ignored", None
    agreement = _agreement_for(obj)
    if agreement is None:
        return "no matching agreement", None
    if event_type == "customer.subscription.deleted":
        if agreement.status == AgreementStatus.ENDED:
            return "already ended", agreement
        end_agreement(actor=None, agreement_id=agreement.pk, source="stripe", reason="Stripe subscription canceled")
        return "ended", agreement
    invoice = _record_invoice(agreement=agreement, data=obj)
    created = int(obj.get("created") or 0)
    if created < agreement.billing_state_at:
        return "stale invoice ignored", agreement
    if event_type in ("invoice.paid", "invoice.payment_succeeded"):
        if agreement.status not in (AgreementStatus.ACTIVE, AgreementStatus.PAST_DUE, AgreementStatus.SUSPENDED):
            return f"paid; agreement stays {agreement.status}", agreement
        agreement.billing_state_at = created
        if agreement.status == AgreementStatus.ACTIVE:
            agreement.save(update_fields=["billing_state_at"])
            return "paid", agreement
        _set_status(
            agreement,
            AgreementStatus.ACTIVE,
            action="payment_received",
            source="stripe",
            reason=f"Invoice {obj.get('id')} paid",
            extra={"past_due_since": None, "billing_state_at": created},
        )
        return "paid; reactivated", agreement
    # invoice.payment_failed: a failure reported after the same invoice was paid is old news.
    if invoice.status == "paid":
        return "failure of a paid invoice ignored", agreement
    if agreement.status != AgreementStatus.ACTIVE:
        agreement.billing_state_at = created
        agreement.save(update_fields=["billing_state_at"])
        return f"payment failed; agreement stays {agreement.status}", agreement
    _set_status(
        agreement,
        AgreementStatus.PAST_DUE,
        action="payment_failed",
        source="stripe",
        reason=f"Invoice {obj.get('id')} payment failed; suspended after {settings.PARTNERSHIP_GRACE_DAYS} days unpaid",
        extra={"past_due_since": timezone.now(), "billing_state_at": created},
    )
    return "past due", agreement


def announce_agreement_ended(*, agreement_id: int) -> int:
    """Tell the members of the agreement's read-only tenants what happens now; returns emails sent."""
    agreement = PartnershipAgreement.objects.get(pk=agreement_id)
    sent = 0
    for tenant in agreement.tenants.filter(read_only=True):
        addresses = TenantMembership.objects.filter(tenant=tenant, member__is_active=True).values_list(
            "member__email", flat=True
        )
        for email in addresses:
            emails.send_agreement_ended(tenant=tenant, email=email)
            sent += 1
    return sent


def publish_tenant(*, acting_member: Member, tenant: Tenant, listed: bool) -> Tenant:
    """A partner admin (or staff) lists their community in the public directory, or withdraws it."""
    if not (acting_member.is_staff or can_administer_tenant(member=acting_member, tenant=tenant)):
        raise NotAllowed("Only this community's administrators can publish it.")
    if listed and tenant.read_only:
        raise Conflict("A read-only community cannot be listed.", code="tenant_read_only")
    return set_tenant_listed(tenant=tenant, listed=listed)


def build_partner_archive(*, agreement_id: int) -> PartnershipAgreement:
    """The ended agreement's pages and aggregate statistics as a ZIP for the partner (idempotent)."""
    with transaction.atomic():
        agreement = PartnershipAgreement.objects.select_for_update().get(pk=agreement_id)
        if agreement.status != AgreementStatus.ENDED:
            raise Conflict("An archive is made when the agreement ends.", code="not_ended")
        path = archive.build_archive(archive_name=str(agreement.public_id), tenants=list(agreement.tenants.all()))
        if agreement.archive_path != str(path):
            agreement.archive_path = str(path)
            agreement.save(update_fields=["archive_path"])
            _audit(agreement=agreement, action="archive_ready", source="worker", old_status=agreement.status)
    return agreement


# --- study invitations ------------------------------------------------------------------------

STUDY_CONTACT_PURPOSE = "research-contact"


def submit_study_invitation(
    *,
    submitted_by: Member,
    agreement: PartnershipAgreement,
    tenant: Tenant,
    title: str,
    summary: str,
    eligibility: str,
    contact: str,
    ethics_approval_ref: str,
    condition_ids: list[int] | None = None,
) -> StudyInvitation:
    """A research partner (one of its representatives) proposes a study invitation for one tenant."""
    # The caller's copy may be stale (suspended since it was read): judge the stored agreement.
    agreement = PartnershipAgreement.objects.select_related("partner").get(pk=agreement.pk)
    is_representative = agreement.partner.representatives.filter(pk=submitted_by.pk).exists()
    if not (is_representative or submitted_by.is_staff):
        raise NotAllowed("Only the research partner's representatives submit study invitations.")
    if agreement.kind != AgreementKind.RESEARCH or agreement.status != AgreementStatus.ACTIVE:
        raise Conflict("Study invitations need an active research agreement.", code="agreement_not_active")
    if not agreement.consent_purposes.filter(code=STUDY_CONTACT_PURPOSE).exists():
        raise Conflict(
            "This agreement does not cover contacting members about studies.", code="purpose_not_in_agreement"
        )
    if not agreement.tenants.filter(pk=tenant.pk).exists():
        raise InvalidInput("That community is not covered by the agreement.", details={"tenant": ["Not in scope."]})
    fields = {"title": title, "summary": summary, "eligibility": eligibility, "contact": contact,
              "ethics_approval_ref": ethics_approval_ref}  # fmt: skip
    errors = {key: ["Required."] for key, value in fields.items() if not (value or "").strip()}
    wanted = set(condition_ids or [])
    allowed = set(agreement.conditions.values_list("pk", flat=True))
    if allowed and not wanted:
        wanted = allowed
    if allowed and wanted - allowed:
        errors["conditions"] = ["Only conditions the agreement covers."]
    if errors:
        raise InvalidInput("Check the study invitation.", details=errors)
    with transaction.atomic():
        study = StudyInvitation.objects.create(
            agreement=agreement,
            tenant=tenant,
            submitted_by=submitted_by,
            **{key: value.strip() for key, value in fields.items()},
        )
        study.conditions.set(wanted)
        _audit(
            agreement=agreement,
            action="study_submitted",
            actor=submitted_by,
            old_status=agreement.status,
            changes={"study": str(study.public_id), "tenant": tenant.slug, "title": study.title},
        )
    return study


def decide_study_invitation(
    *, acting_member: Member, study_id: int, approve: bool, reason: str = ""
) -> StudyInvitation:
    """Platform staff and the tenant's admins each approve; one rejection stops it. Both approvals send it."""
    # cycle: partnerships.services -> partnerships.tasks -> partnerships.services
    from partnerships.tasks import send_study_invitation_task  # noqa: PLC0415

    with transaction.atomic():
        study = StudyInvitation.objects.select_for_update().select_related("agreement", "tenant").get(pk=study_id)
        is_tenant_admin = TenantMembership.objects.filter(
            member=acting_member, tenant=study.tenant, role="admin"
        ).exists()
        if not (acting_member.is_staff or is_tenant_admin):
            raise NotAllowed("Only platform staff and this community's admins decide on study invitations.")
        if study.status != StudyStatus.SUBMITTED:
            raise Conflict(f"This invitation is already {study.get_status_display().lower()}.", code="decided")
        if not approve:
            if not reason.strip():
                raise InvalidInput("Say why you reject it; the partner is told.", details={"reason": ["Required."]})
            study.status = StudyStatus.REJECTED
        elif acting_member.is_staff:
            study.staff_approved_by = acting_member
        if approve and is_tenant_admin:
            study.tenant_approved_by = acting_member
        if study.staff_approved_by_id and study.tenant_approved_by_id:
            study.status = StudyStatus.APPROVED
            transaction.on_commit(lambda: send_study_invitation_task.delay(study.pk))
        study.save()
        _audit(
            agreement=study.agreement,
            action="study_approved" if approve else "study_rejected",
            actor=acting_member,
            old_status=study.agreement.status,
            changes={"study": str(study.public_id), "status": study.status},
            reason=reason,
        )
    return study


def study_recipients(*, study: StudyInvitation) -> QuerySet[Member]:
    """Members of the study's tenant who consent, now, to being contacted about studies (the consent gate),
    and who have one of the study's conditions (when it names any)."""
    members = members_consenting_to(STUDY_CONTACT_PURPOSE).filter(memberships__tenant=study.tenant)
    condition_ids = list(study.conditions.values_list("pk", flat=True))
    if condition_ids:
        members = members.filter(conditions__in=condition_ids)
    return members.distinct()


def send_study_invitation(*, study_id: int) -> StudyInvitation:
    """Email the approved invitation to consenting, matching members (idempotent: sent once)."""
    with transaction.atomic():
        study = StudyInvitation.objects.select_for_update().select_related("agreement", "tenant").get(pk=study_id)
        if study.status != StudyStatus.APPROVED:
            return study
        if study.agreement.status != AgreementStatus.ACTIVE:
            return study  # the agreement lapsed since approval: nobody is contacted
        addresses = list(study_recipients(study=study).values_list("email", flat=True))
        study.status = StudyStatus.SENT
        study.recipients = len(addresses)
        study.sent_at = timezone.now()
        study.save(update_fields=["status", "recipients", "sent_at"])
        _audit(
            agreement=study.agreement,
            action="study_sent",
            source="worker",
            old_status=study.agreement.status,
            changes={"study": str(study.public_id), "recipients": len(addresses)},
        )
        subject, body = emails.study_invitation_message(study=study)
        transaction.on_commit(lambda: emails.send_study_invitation(subject=subject, body=body, emails=addresses))
    return study
