"""Member identity (public schema): one account for the whole platform."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import Group, Permission, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django_countries.fields import CountryField

from core.errors import NotAllowed

MEMBER_DELETE_REFUSED = (
    "A member is erased, not deleted: privacy.services.erase_member clears every tenant schema, then deletes the row."
)


class MemberRole(models.TextChoices):
    PATIENT = "patient", "Patient"
    CAREGIVER = "caregiver", "Caregiver"
    OTHER = "other", "Other"


class EmailNotifications(models.TextChoices):
    EACH = "each", "An email for each notification"
    DIGEST = "digest", "One daily digest"
    OFF = "off", "No emails"


class Sex(models.TextChoices):
    """Optional, for clinical-trial eligibility hints only (trials list "female"/"male" participants)."""

    FEMALE = "female", "Female"
    MALE = "male", "Male"


class MemberQuerySet(models.QuerySet["Member"]):
    def delete(self) -> tuple[int, dict[str, int]]:
        raise NotAllowed(MEMBER_DELETE_REFUSED, code="erase_not_delete")


class MemberManager(BaseUserManager["Member"]):
    use_in_migrations = True

    def get_queryset(self) -> MemberQuerySet:
        return MemberQuerySet(self.model, using=self._db)

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> Member:
        if not email:
            raise ValueError("An email address is required.")
        member = self.model(email=self.normalize_email(email).lower(), **extra)
        member.set_password(password)
        member.save(using=self._db)
        return member

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> Member:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        extra.setdefault("email_verified_at", timezone.now())
        return self.create_user(email, password, **extra)


class Member(AbstractBaseUser, PermissionsMixin):
    """A patient, caregiver or staff person. ``is_staff``/``is_superuser`` mean platform staff only."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    email = models.EmailField(unique=True)
    display_name = models.CharField(max_length=80, blank=True)
    role = models.CharField(max_length=12, choices=MemberRole.choices, blank=True)
    conditions = models.ManyToManyField("conditions.Condition", blank=True, related_name="+")
    birth_year = models.PositiveSmallIntegerField(null=True, blank=True)
    country = CountryField(blank=True)
    region = models.CharField(max_length=100, blank=True)
    # Optional and never required: only used to hint which trials a member may fit.
    sex = models.CharField(max_length=6, choices=Sex.choices, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    email_verified_at = models.DateTimeField(null=True, blank=True)
    date_joined = models.DateTimeField(default=timezone.now)
    email_notifications = models.CharField(
        max_length=6, choices=EmailNotifications.choices, default=EmailNotifications.DIGEST
    )
    # Bumped by sign-out: every session issued under an older generation, on any host, ends.
    session_generation = models.PositiveIntegerField(default=0)
    signup_tenant = models.ForeignKey(
        "tenants.Tenant", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Privacy settings (issue 5): the private choice is the default; the member opts in.
    show_conditions = models.BooleanField(default=False, help_text="Show my conditions on my profile.")
    show_location = models.BooleanField(default=False, help_text="Show my country and region on my profile.")
    show_role = models.BooleanField(default=False, help_text="Show whether I am a patient or caregiver.")
    listed_in_member_lists = models.BooleanField(default=False, help_text="Appear in communities' member lists.")

    # Group and permission links live in each schema (access app), so a member's groups in
    # tenant A are A's groups only. related names match Django's so group__user lookups work.
    # The through models differ from PermissionsMixin's defaults, hence the ignores.
    groups: models.ManyToManyField[Group, Any] = models.ManyToManyField(  # type: ignore[assignment]
        Group,
        through="access.MemberGroup",
        blank=True,
        related_name="user_set",
        related_query_name="user",
    )
    user_permissions: models.ManyToManyField[Permission, Any] = models.ManyToManyField(  # type: ignore[assignment]
        Permission,
        through="access.MemberPermission",
        blank=True,
        related_name="user_set",
        related_query_name="user",
    )

    objects = MemberManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.display_name or self.email

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    def get_full_name(self) -> str:
        return self.display_name or self.email

    def get_short_name(self) -> str:
        return self.display_name or self.email.split("@")[0]

    def delete(self, using: Any = None, keep_parents: bool = False) -> tuple[int, dict[str, int]]:
        """Refused, like ``Member.objects.filter(...).delete()``. The member's rows live in every tenant
        schema, and tenant schemas keep no foreign key into public (each cost every member insert and
        delete a trigger per tenant): inside a tenant, Django's collector would clear that tenant only
        and leave the others' rows pointing at a deleted id; in public it fails on the tenant tables
        public does not have. The erasure service goes schema by schema, checks nothing is left
        (``privacy.selectors.remaining_member_references``) and deletes the row last."""
        raise NotAllowed(MEMBER_DELETE_REFUSED, code="erase_not_delete")


class MembershipRole(models.TextChoices):
    MEMBER = "member", "Member"
    MODERATOR = "moderator", "Moderator"
    ADMIN = "admin", "Administrator"


class TenantMembership(models.Model):
    """Member × tenant × role: the source of truth for per-tenant rights."""

    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=MembershipRole.choices, default=MembershipRole.MEMBER)
    joined_at = models.DateTimeField(default=timezone.now)
    # The name shown in this tenant only ("Anna K." here, "river_walker" elsewhere); blank = the
    # member's platform display name.
    display_name = models.CharField(max_length=80, blank=True)
    # The member's id on this tenant (members.selectors.local_member_id), kept for indexed lookups
    # such as /members/<local_id>/; pages and API compute the same value for anyone they show.
    local_id = models.CharField(max_length=32, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "tenant"], name="one_membership_per_tenant"),
            models.UniqueConstraint(
                fields=["tenant", "local_id"], condition=~Q(local_id=""), name="unique_tenant_local_id"
            ),
            models.UniqueConstraint(
                Lower("display_name"),
                "tenant",
                condition=~Q(display_name=""),
                name="unique_tenant_display_name",
            ),
        ]
        ordering = ["joined_at"]

    def __str__(self) -> str:
        return f"{self.member} in {self.tenant} ({self.role})"


class RoleChange(models.Model):
    """Append-only audit of role grants and revocations."""

    membership_member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    old_role = models.CharField(max_length=10, blank=True)
    new_role = models.CharField(max_length=10)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=300, blank=True)
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-changed_at"]

    def __str__(self) -> str:
        return f"{self.old_role or '-'} → {self.new_role or '-'} for member {self.membership_member_id}"


class HandoffNonce(models.Model):
    """The single-use half of a sign-in hand-off token; burned when the tenant host redeems it."""

    nonce = models.CharField(max_length=64, unique=True)
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    host = models.CharField(max_length=253)
    issued_at = models.DateTimeField(default=timezone.now)
    redeemed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["issued_at"])]

    def __str__(self) -> str:
        return f"hand-off to {self.host} ({'used' if self.redeemed_at else 'open'})"


class TenantInvitation(models.Model):
    """An emailed invitation to administer one tenant; its signed link names this row's nonce."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=10, choices=MembershipRole.choices, default=MembershipRole.ADMIN)
    nonce = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.role} invitation for {self.email} to {self.tenant}"


class PlatformSuspension(models.Model):
    """Platform staff suspended a member everywhere until ``ends_at`` (None: until lifted).

    The member can still sign in, read their own data and export it; no tenant lets them take part
    (communities.safety reads members.selectors.platform_suspension_of). Rows are kept as the record."""

    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=500)
    starts_at = models.DateTimeField(default=timezone.now)
    ends_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-starts_at", "-id"]
        indexes = [models.Index(fields=["member", "lifted_at"], name="platform_suspension_member")]

    def __str__(self) -> str:
        return f"platform suspension of member {self.member_id}"
