"""Partner tenants and the host names that route to them (public schema)."""

from __future__ import annotations

from typing import Any

from django.db import models
from django_tenants.models import DomainMixin, TenantMixin

from tenants.routing import forget_routes


class TenantKind(models.TextChoices):
    PUBLIC = "public", "Platform (root domain)"
    TEMPLATE = "template", "Template schema"
    PARTNER = "partner", "Partner community"


class TenantQuerySet(models.QuerySet["Tenant"]):
    def partners(self) -> TenantQuerySet:
        return self.filter(kind=TenantKind.PARTNER)

    # Requests route from a cache (tenants/routing.py): every bulk write drops it.
    def update(self, **kwargs: Any) -> int:
        forget_routes()
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        forget_routes()
        return super().delete()


class Tenant(TenantMixin):
    """One partner community site: one PostgreSQL schema, one or more domains."""

    # Annotated by hand: TenantMixin is untyped, so the django-stubs plugin can't infer them.
    name: models.CharField[str, str] = models.CharField(max_length=120)
    slug: models.SlugField[str, str] = models.SlugField(max_length=63, unique=True)
    kind: models.CharField[str, str] = models.CharField(
        max_length=10, choices=TenantKind.choices, default=TenantKind.PARTNER
    )
    tagline: models.CharField[str, str] = models.CharField(max_length=200, blank=True)
    created_at: models.DateTimeField[Any, Any] = models.DateTimeField(auto_now_add=True)
    # A new tenant stays out of the public directory until its partner admin publishes it.
    listed: models.BooleanField[bool, bool] = models.BooleanField(default=False)
    # When an agreement ends the tenant is kept, read-only, with a notice.
    read_only: models.BooleanField[bool, bool] = models.BooleanField(default=False)

    # Schemas are created by tenants.services.provision_tenant (clone + fix-ups in one
    # transaction), never implicitly on save().
    auto_create_schema = False
    auto_drop_schema = False

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        forget_routes()
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        forget_routes()
        return super().delete(*args, **kwargs)

    @property
    def primary_domain(self) -> str:
        # Through .all() so a prefetch of domains (partner lists, serializers) is used, not a query per tenant.
        return next((domain.domain for domain in self.domains.all() if domain.is_primary), "")


class Domain(DomainMixin):
    """A host name that routes to a tenant; a partner may add its own custom domain.

    Writes go through ``save()``/``delete()`` (they drop the routing cache) or through
    tenants.services, which drops it after a bulk update.
    """

    created_at: models.DateTimeField[Any, Any] = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-is_primary", "domain"]

    def __str__(self) -> str:
        return self.domain

    def save(self, *args: Any, **kwargs: Any) -> None:
        forget_routes()
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        forget_routes()
        return super().delete(*args, **kwargs)
