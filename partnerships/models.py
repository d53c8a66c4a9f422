"""Partner organizations, agreements and billing (public schema).

Every write goes through ``partnerships.services``; every change of an agreement leaves an
``AgreementEvent`` row, which a database trigger keeps append-only.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone


class PartnerKind(models.TextChoices):
    ADVOCACY = "advocacy", "Patient-advocacy organization"
    INDUSTRY = "industry", "Pharmaceutical or biotech company"
    RESEARCH = "research", "Research institution"
    OTHER = "other", "Other"


class Partner(models.Model):
    name = models.CharField(max_length=160, unique=True)
    kind = models.CharField(max_length=10, choices=PartnerKind.choices)
    contact_name = models.CharField(max_length=120, blank=True)
    contact_email = models.EmailField(blank=True)
    contact_phone = models.CharField(max_length=40, blank=True)
    billing_email = models.EmailField(help_text="Payment links and invoices are sent here.")
    representatives = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="partner_roles",
        help_text="Accounts that act for this partner (e.g. submit study invitations).",
    )
    stripe_customer_id = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AgreementKind(models.TextChoices):
    HOSTED = "hosted", "Hosted community (advocacy organization)"
    SPONSORED = "sponsored", "Sponsored community (paid by a sponsor)"
    RESEARCH = "research", "Research data access"


class AgreementStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PROVISIONING = "provisioning", "Provisioning"
    PROVISIONING_FAILED = "provisioning_failed", "Provisioning failed"
    ACTIVE = "active", "Active"
    PAST_DUE = "past_due", "Past due"
    SUSPENDED = "suspended", "Suspended"
    ENDED = "ended", "Ended"


class FeeInterval(models.TextChoices):
    ONE_OFF = "one_off", "One-off"
    MONTH = "month", "Monthly"
    YEAR = "year", "Yearly"


# Statuses in which the sponsor's branding and sponsored features are shown.
SPONSOR_VISIBLE_STATUSES = (AgreementStatus.ACTIVE, AgreementStatus.PAST_DUE)


class PartnershipAgreement(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    partner = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="agreements", help_text="Who signs and pays."
    )
    beneficiary = models.ForeignKey(
        Partner,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sponsored_agreements",
        help_text="For a sponsored community: the advocacy partner whose community the sponsor pays for.",
    )
    kind = models.CharField(max_length=10, choices=AgreementKind.choices)
    status = models.CharField(max_length=20, choices=AgreementStatus.choices, default=AgreementStatus.DRAFT)
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)
    fee_cents = models.PositiveIntegerField(default=0, help_text="Amount in the currency's smallest unit.")
    currency = models.CharField(max_length=3, default="usd")
    interval = models.CharField(max_length=8, choices=FeeInterval.choices, default=FeeInterval.YEAR)
    # Scope
    tenants = models.ManyToManyField("tenants.Tenant", blank=True, related_name="agreements")
    conditions: models.ManyToManyField[Any, Any] = models.ManyToManyField(
        "conditions.Condition", blank=True, related_name="+"
    )
    consent_purposes: models.ManyToManyField[Any, Any] = models.ManyToManyField(
        "consent.ConsentPurpose",
        blank=True,
        related_name="+",
        help_text="Research agreements only: the consent purposes this agreement may use.",
    )
    recipients: models.ManyToManyField[Any, Any] = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="research_agreements_received",
        help_text=(
            "Research agreements only: the named people who may receive its data (download releases, pull "
            "datasets). Nobody else does, not even the partner's other representatives."
        ),
    )
    signed_document = models.FileField(upload_to="agreements/", blank=True)
    notes = models.TextField(blank=True)
    # The community to provision (hosted and sponsored agreements)
    tenant_name = models.CharField(max_length=120, blank=True)
    tenant_slug = models.SlugField(max_length=63, blank=True, help_text="Also the subdomain.")
    theme_primary_colour = models.CharField(max_length=7, blank=True)
    first_admin_email = models.EmailField(blank=True, help_text="Invited by email to administer the community.")
    tenant = models.ForeignKey(
        "tenants.Tenant", null=True, blank=True, on_delete=models.PROTECT, related_name="provisioned_by"
    )
    provisioning_progress = models.TextField(blank=True)
    provisioning_error = models.TextField(blank=True)
    # Billing (Stripe ids only; never a key)
    stripe_subscription_id = models.CharField(max_length=64, blank=True)
    payment_link_url = models.URLField(max_length=500, blank=True)
    past_due_since = models.DateTimeField(null=True, blank=True)
    # The Stripe ``created`` time of the newest invoice that set the payment state: an older invoice's
    # event arriving late never overrides a newer one's.
    billing_state_at = models.BigIntegerField(default=0)
    # The partner's archive (its pages and aggregate statistics) once the agreement ended; staff deliver it.
    archive_path = models.CharField(max_length=500, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} with {self.partner} ({self.get_status_display()})"

    @property
    def provisions_tenant(self) -> bool:
        return self.kind in (AgreementKind.HOSTED, AgreementKind.SPONSORED)

    @property
    def fee_display(self) -> str:
        amount = f"{self.fee_cents / 100:,.2f} {self.currency.upper()}"
        return amount if self.interval == FeeInterval.ONE_OFF else f"{amount} / {self.interval}"


class AgreementEvent(models.Model):
    """Append-only audit of every change to an agreement (a trigger refuses UPDATE/DELETE/TRUNCATE)."""

    agreement = models.ForeignKey(PartnershipAgreement, on_delete=models.PROTECT, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # "stripe", "worker", "beat" when no person acted.
    source = models.CharField(max_length=20, default="staff")
    action = models.CharField(max_length=40)
    old_status = models.CharField(max_length=20, blank=True)
    new_status = models.CharField(max_length=20, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.action} on agreement {self.agreement_id}"


class Invoice(models.Model):
    """Stripe's invoice as last seen (by webhook or by our own call); Stripe is the source of truth."""

    agreement = models.ForeignKey(PartnershipAgreement, on_delete=models.PROTECT, related_name="invoices")
    stripe_invoice_id = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=20)
    amount_due = models.PositiveIntegerField(default=0)
    amount_paid = models.PositiveIntegerField(default=0)
    currency = models.CharField(max_length=3)
    hosted_invoice_url = models.URLField(max_length=500, blank=True)
    stripe_created = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-stripe_created", "-pk"]

    def __str__(self) -> str:
        return f"{self.stripe_invoice_id} ({self.status})"


class StripeEvent(models.Model):
    """Every webhook event id, recorded once: a replay finds its row and changes nothing."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    stripe_created = models.BigIntegerField()
    received_at = models.DateTimeField(default=timezone.now)
    agreement = models.ForeignKey(
        PartnershipAgreement, null=True, blank=True, on_delete=models.SET_NULL, related_name="stripe_events"
    )
    outcome = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-received_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class StudyStatus(models.TextChoices):
    SUBMITTED = "submitted", "Awaiting approval"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    SENT = "sent", "Sent"


class StudyInvitation(models.Model):
    """A research partner's invitation to a study, sent only to consenting, matching members of one tenant
    once platform staff and that tenant's admins both approved it."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    agreement = models.ForeignKey(PartnershipAgreement, on_delete=models.PROTECT, related_name="study_invitations")
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=200)
    summary = models.TextField()
    eligibility = models.TextField()
    contact = models.CharField(max_length=300)
    ethics_approval_ref = models.CharField(max_length=120)
    conditions: models.ManyToManyField[Any, Any] = models.ManyToManyField(
        "conditions.Condition", blank=True, related_name="+"
    )
    status = models.CharField(max_length=10, choices=StudyStatus.choices, default=StudyStatus.SUBMITTED)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    staff_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    tenant_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recipients = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Study invitation: {self.title}"
