"""Writes for tenants: provisioning partner tenants, the platform and template tenants."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection, transaction
from django_tenants.clone import CloneSchema
from django_tenants.utils import schema_exists, tenant_context
from wagtail.models import Site

from core.text import collapse_whitespace, hidden_character_message
from tenants.cloning import UnsupportedTemplate, clone_schema_from_plan
from tenants.db import use_public_schema
from tenants.models import Domain, Tenant, TenantKind
from tenants.registry import step_names, tenant_setup_steps
from tenants.routing import forget_routes

logger = logging.getLogger(__name__)

T = TypeVar("T")

PUBLIC_SCHEMA = "public"
TEMPLATE_SCHEMA: str = settings.TENANT_BASE_SCHEMA

# Names a partner can never take: they collide with platform hosts, PostgreSQL's own schemas,
# or words people would trust as "official".
RESERVED_SLUGS = frozenset(
    {
        "www", "public", "admin", "administrator", "api", "app", "auth", "accounts", "login", "signup",
        "static", "media", "assets", "cdn", "mail", "email", "smtp", "imap", "pop", "ftp", "root",
        "kindred", "platform", "staff", "support", "help", "status", "security", "template",
        "tenant-template", "postgres", "information-schema", "localhost", "test", "dev", "staging",
    }
)  # fmt: skip
SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
LABEL_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
IPV4_RE = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")


def schema_name_for(slug: str) -> str:
    return slug.replace("-", "_")


def validate_slug(slug: str) -> str:
    slug = (slug or "").strip().lower()
    if not SLUG_RE.match(slug) or len(slug) < 3:
        raise ValidationError(
            {"slug": "Use 3–63 lowercase letters, digits and hyphens, starting and ending with a letter or digit."}
        )
    if slug in RESERVED_SLUGS or slug.startswith("pg-"):
        raise ValidationError({"slug": f"“{slug}” is reserved for the platform; choose another."})
    return slug


def validate_domain(domain: str) -> str:
    domain = (domain or "").strip().lower().rstrip(".")
    problem = None
    well_formed = (
        0 < len(domain) <= 253
        and "." in domain
        and not IPV4_RE.match(domain)
        and all(LABEL_RE.match(label) for label in domain.split("."))
    )
    if not well_formed:
        problem = "Enter a host name such as lupus-alliance.example.org (no scheme, port or path)."
    elif domain == settings.ROOT_DOMAIN:
        problem = "That is the platform's own domain."
    elif domain.endswith("." + settings.ROOT_DOMAIN):
        first_label = domain.removesuffix("." + settings.ROOT_DOMAIN).split(".")[0]
        if first_label in RESERVED_SLUGS:
            problem = f"“{first_label}” is reserved for the platform."
    if problem:
        raise ValidationError({"domain": problem})
    return domain


def validate_new_tenant(*, name: str, slug: str, domain: str) -> tuple[str, str, str]:
    """Check a partner tenant request before anything is written; raises ValidationError per field."""
    errors: dict[str, list[str]] = {}
    name = collapse_whitespace(name)
    if not name:
        errors["name"] = ["A name is required."]
    elif hidden_character_message(name):
        errors["name"] = [str(hidden_character_message(name))]
    elif len(name) > 120:
        errors["name"] = ["Use at most 120 characters."]
    for key, check, value in (("slug", validate_slug, slug), ("domain", validate_domain, domain)):
        try:
            if key == "slug":
                slug = check(value)
            else:
                domain = check(value)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if "slug" not in errors and Tenant.objects.filter(slug=slug).exists():
        errors["slug"] = [f"A tenant with the slug “{slug}” already exists."]
    if "slug" not in errors and Tenant.objects.filter(schema_name=schema_name_for(slug)).exists():
        errors["slug"] = [f"The schema for “{slug}” is already in use."]
    if "domain" not in errors and Domain.objects.filter(domain=domain).exists():
        errors["domain"] = [f"The domain {domain} already routes to a tenant."]
    if errors:
        raise ValidationError(errors)
    return name, slug, domain


@dataclass(frozen=True)
class ProvisioningStep:
    name: str
    seconds: float


@dataclass
class ProvisioningReport:
    tenant: Tenant
    created: bool
    steps: list[ProvisioningStep] = field(default_factory=list)


def provision_tenant(
    *,
    name: str,
    slug: str,
    domain: str,
    tagline: str = "",
    theme: dict[str, Any] | None = None,
    progress: Callable[[str], None] | None = None,
    listed: bool = False,
) -> ProvisioningReport:
    """Create a partner tenant by cloning the migrated template schema.

    Everything (tenant row, schema, domain, Wagtail site, then the steps other apps register in
    tenants/registry.py: role groups, pages, theme) is written in one PostgreSQL transaction, DDL
    included: a failure or a killed process leaves nothing behind and running it again does the whole
    job. Running it again after success returns the same tenant. ``theme`` holds the options of the
    registered "theme" step. The tenant stays out of the public directory (``listed=False``) until
    its admin publishes it.
    """
    options = {"theme": theme or {}}
    unknown = set(options) - step_names()
    if unknown:
        raise ValueError(f"no provisioning step registered as {sorted(unknown)}")
    report_step = progress or (lambda _msg: None)
    existing = Tenant.objects.filter(slug=(slug or "").strip().lower()).first()
    if existing is not None and existing.kind == TenantKind.PARTNER:
        same_request = existing.domains.filter(domain=(domain or "").strip().lower().rstrip(".")).exists()
        if same_request and schema_exists(existing.schema_name):
            return ProvisioningReport(tenant=existing, created=False)
    name, slug, domain = validate_new_tenant(name=name, slug=slug, domain=domain)
    schema_name = schema_name_for(slug)
    steps: list[ProvisioningStep] = []

    def timed(label: str, fn: Callable[[], T]) -> T:
        started = time.perf_counter()
        result = fn()
        steps.append(ProvisioningStep(label, time.perf_counter() - started))
        report_step(f"{label} ({steps[-1].seconds:.2f} s)")
        return result

    if not schema_exists(TEMPLATE_SCHEMA):
        raise ValidationError("The template schema is missing: run `python manage.py bootstrap` first.")

    with transaction.atomic():
        # One provisioning at a time: two concurrent requests for the same slug must not both
        # pass validation and race to create the schema.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('kindred.provision_tenant'))")
        name, slug, domain = validate_new_tenant(name=name, slug=slug, domain=domain)
        timed("clear leftovers", lambda: _drop_orphan_schema(schema_name))
        tenant = Tenant(
            schema_name=schema_name, name=name, slug=slug, tagline=tagline, kind=TenantKind.PARTNER, listed=listed
        )
        tenant.save()
        timed("clone template schema", lambda: clone_template_schema(schema_name))
        Domain.objects.create(domain=domain, tenant=tenant, is_primary=True)
        timed("configure tenant", lambda: _configure_tenant_schema(tenant, domain, options=options))
        for step in tenant_setup_steps(schema="public"):
            step.run(tenant=tenant, **options.get(step.name, {}))
    use_public_schema()
    logger.info("provisioned tenant %s (%s) on %s", tenant.slug, tenant.schema_name, domain)
    return ProvisioningReport(tenant=tenant, created=True, steps=steps)


def _drop_orphan_schema(schema_name: str) -> None:
    # Provisioning is transactional, so a schema without a Tenant row can only come from
    # outside (an older tool, a manual experiment): it is by definition half-made.
    if schema_name in {PUBLIC_SCHEMA, TEMPLATE_SCHEMA}:
        raise ValidationError({"slug": "That schema name is reserved."})
    if schema_exists(schema_name) and not Tenant.objects.filter(schema_name=schema_name).exists():
        logger.warning("dropping orphan schema %s left by an earlier attempt", schema_name)
        with connection.cursor() as cursor:
            cursor.execute(f"DROP SCHEMA {connection.ops.quote_name(schema_name)} CASCADE")


def clone_template_schema(schema_name: str) -> None:
    """Copy the migrated template (tables, data incl. migration rows and Wagtail's root page, sequences).

    From the cached DDL plan of tenants/cloning.py; a template holding objects that plan cannot
    copy goes through django-tenants' ``clone_schema()`` function instead.
    """
    try:
        clone_schema_from_plan(template=TEMPLATE_SCHEMA, target=schema_name)
        return
    except UnsupportedTemplate as exc:
        logger.warning("cloning %s with django-tenants' clone_schema(): %s", schema_name, exc)
    clone_with_django_tenants(schema_name)


def clone_with_django_tenants(schema_name: str) -> None:
    """django-tenants' ``clone_schema()`` SQL function (reads information_schema on every call)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = 'public' AND p.proname = 'clone_schema'"
        )
        if cursor.fetchone() is None:
            CloneSchema()._create_clone_schema_function()
        cursor.execute("SELECT public.clone_schema(%s, %s, 'DATA')", [TEMPLATE_SCHEMA, schema_name])
    align_constraint_names(source=TEMPLATE_SCHEMA, target=schema_name)


# Pairs each constraint of the target with the source's constraint of the same kind and definition on
# the same table (schema names stripped from the definitions, which mention referenced tables).
_MISNAMED_CONSTRAINTS = """
SELECT tcl.relname, tc.conname, sc.conname
FROM pg_constraint sc
JOIN pg_class scl ON scl.oid = sc.conrelid
JOIN pg_namespace sn ON sn.oid = scl.relnamespace AND sn.nspname = %(source)s
JOIN pg_namespace tn ON tn.nspname = %(target)s
JOIN pg_class tcl ON tcl.relnamespace = tn.oid AND tcl.relname = scl.relname
JOIN pg_constraint tc ON tc.conrelid = tcl.oid AND tc.contype = sc.contype
 AND replace(pg_get_constraintdef(tc.oid), tn.nspname || '.', '')
   = replace(pg_get_constraintdef(sc.oid), sn.nspname || '.', '')
WHERE tc.conname <> sc.conname
"""


def align_constraint_names(*, source: str, target: str) -> int:
    """Give the target schema's constraints the names they have in the source schema.

    clone_schema() recreates unique constraints under PostgreSQL's default names
    (``..._key``) instead of the names Django's migrations gave them, so a later migration that
    drops or alters a constraint by name would fail on every cloned tenant. Renaming a unique
    constraint renames its index too.
    """
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(_MISNAMED_CONSTRAINTS, {"source": source, "target": target})
        renames = cursor.fetchall()
        for table, wrong, right in renames:
            cursor.execute(
                f"ALTER TABLE {quote(target)}.{quote(table)} RENAME CONSTRAINT {quote(wrong)} TO {quote(right)}"
            )
    return len(renames)


def _configure_tenant_schema(tenant: Tenant, domain: str, *, options: dict[str, dict[str, Any]] | None = None) -> None:
    options = options or {}
    with tenant_context(tenant):
        # Each schema carries Wagtail's default Site (hostname "localhost"); point it at the tenant.
        Site.objects.filter(is_default_site=True).update(hostname=domain, site_name=tenant.name)
        for step in tenant_setup_steps(schema="tenant"):
            step.run(tenant=tenant, **options.get(step.name, {}))


def ensure_platform_tenant() -> Tenant:
    """The public tenant: the root domain, sign-in, platform admin (idempotent)."""
    tenant, _ = Tenant.objects.get_or_create(
        schema_name=PUBLIC_SCHEMA,
        defaults={"name": "Kindred", "slug": "platform", "kind": TenantKind.PUBLIC},
    )
    Domain.objects.get_or_create(domain=settings.ROOT_DOMAIN, defaults={"tenant": tenant, "is_primary": True})
    return tenant


def ensure_template_tenant(*, verbosity: int = 0) -> Tenant:
    """The fully migrated schema every partner tenant is cloned from; it never holds content."""
    tenant, _ = Tenant.objects.get_or_create(
        schema_name=TEMPLATE_SCHEMA,
        defaults={"name": "Tenant template", "slug": "tenant-template", "kind": TenantKind.TEMPLATE},
    )
    if not schema_exists(TEMPLATE_SCHEMA):
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE SCHEMA {connection.ops.quote_name(TEMPLATE_SCHEMA)}")
    call_command("migrate_schemas", schema_name=TEMPLATE_SCHEMA, interactive=False, verbosity=verbosity)
    use_public_schema()
    return tenant


def bootstrap_platform(*, verbosity: int = 0) -> None:
    """Bring a database from empty (or any earlier state) to ready: public, template, every tenant."""
    call_command("migrate_schemas", shared=True, interactive=False, verbosity=verbosity)
    ensure_platform_tenant()
    ensure_template_tenant(verbosity=verbosity)
    call_command("migrate_schemas", tenant=True, interactive=False, verbosity=verbosity)


def provision_tenant_by_migrating(*, name: str, slug: str, domain: str) -> Tenant:
    """django-tenants' default path (empty schema + every migration). Kept for the benchmark baseline."""
    name, slug, domain = validate_new_tenant(name=name, slug=slug, domain=domain)
    tenant = Tenant(schema_name=schema_name_for(slug), name=name, slug=slug, kind=TenantKind.PARTNER)
    tenant.save()
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE SCHEMA {connection.ops.quote_name(tenant.schema_name)}")
    call_command("migrate_schemas", schema_name=tenant.schema_name, interactive=False, verbosity=0)
    Domain.objects.create(domain=domain, tenant=tenant, is_primary=True)
    _configure_tenant_schema(tenant, domain)
    use_public_schema()
    return tenant


def for_each_tenant(fn: Callable[[Tenant], T], *, include_template: bool = False) -> dict[str, T]:
    """Run ``fn`` inside each partner tenant's schema: the one audited way to loop over tenants."""
    kinds = [TenantKind.PARTNER, TenantKind.TEMPLATE] if include_template else [TenantKind.PARTNER]
    results: dict[str, T] = {}
    for tenant in Tenant.objects.filter(kind__in=kinds).order_by("schema_name"):
        with tenant_context(tenant):
            results[tenant.schema_name] = fn(tenant)
    return results


def add_domain(*, tenant: Tenant, domain: str, make_primary: bool = False) -> Domain:
    """Attach a partner's own custom domain (sign-in hand-off works there too)."""
    domain = validate_domain(domain)
    if Domain.objects.filter(domain=domain).exists():
        raise ValidationError({"domain": f"The domain {domain} already routes to a tenant."})
    with transaction.atomic():
        if make_primary:
            Domain.objects.filter(tenant=tenant, is_primary=True).update(is_primary=False)
            forget_routes()
        return Domain.objects.create(domain=domain, tenant=tenant, is_primary=make_primary)


def set_tenant_listed(*, tenant: Tenant, listed: bool) -> Tenant:
    """Publish a tenant in (or withdraw it from) the public directory and partner list.

    Callers check who may (a partner admin of this tenant or platform staff): tenants knows no roles.
    """
    Tenant.objects.filter(pk=tenant.pk).update(listed=listed)
    tenant.listed = listed
    return tenant


def set_tenant_read_only(*, tenant: Tenant, read_only: bool) -> Tenant:
    """An ended agreement keeps its tenant, read-only: members can read and export, not post."""
    Tenant.objects.filter(pk=tenant.pk).update(read_only=read_only)
    tenant.read_only = read_only
    return tenant
