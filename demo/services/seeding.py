"""Seeding: create whatever of the demo is missing (idempotent: natural keys, nothing deleted)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from communities.models import Community
from communities.services import create_community, update_community
from conditions.models import Condition
from consent.models import ConsentPolicy, ConsentPurpose
from consent.services import publish_policy
from core.errors import InvalidInput
from demo.cms_content import ensure_cms_content
from demo.discussions import VOICES, ensure_discussions
from demo.services.contents import PARTNERS, PEOPLE, STAFF_EMAIL, PartnerSpec, PersonSpec, _partner_names
from demo.services.reports import DemoLogin, DemoPartner, DemoSummary
from directory.models import DirectoryEntry
from members.models import Member, MembershipRole
from members.selectors import tenant_role
from members.services import (
    join_tenant,
    make_verification_token,
    register_member,
    set_membership_role,
    verify_email,
)
from tenants.models import Tenant
from tenants.services import provision_tenant
from trials.services import import_paths


def seed_demo(*, password: str, partners: tuple[PartnerSpec, ...] = PARTNERS, load_trials: bool = True) -> DemoSummary:
    """Create whatever is missing of the demo partners, communities, pages and accounts.

    One transaction: a failure part-way leaves the database as it was (provisioning's DDL included),
    and the verification and welcome emails the identity services enqueue are sent only on commit.
    """
    try:
        password_validation.validate_password(password)
    except ValidationError as exc:
        raise InvalidInput("The demo password is too weak.", details={"password": list(exc.messages)}) from exc
    summary = DemoSummary(password=password)
    with transaction.atomic():
        # Tenants before members: provisioning takes its advisory lock and then locks members_member
        # (the clone's foreign keys); holding a member insert first could deadlock a concurrent one.
        tenants = {spec.slug: _ensure_partner(spec=spec, summary=summary) for spec in partners}
        staff = _ensure_staff(password=password, summary=summary)
        _ensure_consent_policy(staff=staff)
        for spec in partners:
            tenant = tenants[spec.slug]
            for email, display_name, role in (
                (spec.admin_email, f"{spec.name} admin", MembershipRole.ADMIN),
                (spec.moderator_email, f"{spec.name} moderator", MembershipRole.MODERATOR),
            ):
                member = _ensure_member(
                    spec=PersonSpec(email=email, display_name=display_name, joins=(spec.slug,)),
                    password=password,
                    tenants=tenants,
                    summary=summary,
                )
                if tenant_role(member=member, tenant=tenant) != role:
                    set_membership_role(
                        acting_member=staff, tenant=tenant, member=member, role=role, reason="Kindred demo data"
                    )
                summary.logins.append(DemoLogin(email=email, description=f"{role} of {spec.name}"))
            _ensure_communities(spec=spec, tenant=tenant, staff=staff, summary=summary)
            _ensure_pages(spec=spec, tenant=tenant, staff_id=staff.pk, summary=summary)
            _ensure_discussions(spec=spec, tenant=tenant, password=password, summary=summary)
        for person in PEOPLE:
            _ensure_member(spec=person, password=password, tenants=tenants, summary=summary)
            joined = " and ".join(_partner_names[slug] for slug in person.joins)
            summary.logins.append(DemoLogin(email=person.email, description=f"{person.role}, member of {joined}"))
    if load_trials:
        _ensure_trials(summary=summary)
    # Staff first, then the people a visitor is most likely to try, then the partner roles.
    summary.logins.sort(key=lambda login: (login.email != STAFF_EMAIL, "@kindred." not in login.email))
    return summary


DEMO_POLICY = """## How Kindred uses your data

Kindred is run for patients and caregivers. You decide, purpose by purpose, what is shared:

- **Share de-identified data with research partners**: your age band, sex, region, role and conditions,
  and the words of your posts with names, contact details and other identifiers taken out; never your
  name, email or account, and only in groups large enough that you can't be picked out.
- **Be contacted by research partners about studies**: invitations reach you through Kindred.
- **Partner newsletters**: partner organizations may email you their newsletters.

Nothing is on unless you turn it on, and you can withdraw at any time under *Privacy & consent*.
"""


def _ensure_consent_policy(*, staff: Member) -> None:
    """Version 1 of the consent policy, covering the three launch purposes (once)."""
    if ConsentPolicy.objects.exists():
        return
    publish_policy(
        text_markdown=DEMO_POLICY,
        effective_at=timezone.now(),
        change_summary="First version.",
        purposes=ConsentPurpose.objects.filter(active=True),
        published_by=staff,
    )


def _ensure_staff(*, password: str, summary: DemoSummary) -> Member:
    staff = Member.objects.filter(email=STAFF_EMAIL).first()
    if staff is None:
        # No service makes platform staff (sign-up never may): the manager's create_superuser is the
        # same path as `manage.py createsuperuser`, and it marks the address verified.
        staff = Member.objects.create_superuser(STAFF_EMAIL, password, display_name="Kindred staff")
        summary.created["members"] += 1
    else:
        _ensure_password(member=staff, password=password)
    summary.logins.append(DemoLogin(email=STAFF_EMAIL, description="platform staff (superuser, every admin)"))
    return staff


def _ensure_password(*, member: Member, password: str) -> None:
    # The summary promises these logins work with the password given; a demo account whose password
    # was changed (or seeded with another --password) is reset. Unchanged when it already matches.
    if not member.check_password(password):
        member.set_password(password)
        member.save(update_fields=["password"])


def _ensure_partner(*, spec: PartnerSpec, summary: DemoSummary) -> Tenant:
    report = provision_tenant(
        name=spec.name, slug=spec.slug, domain=spec.domain, tagline=spec.tagline, theme=dict(spec.theme), listed=True
    )
    if report.created:
        summary.created["tenants"] += 1
    summary.partners.append(
        DemoPartner(name=spec.name, slug=spec.slug, host=report.tenant.primary_domain, created=report.created)
    )
    return report.tenant


def _condition_ids(mesh_ids: tuple[str, ...], *, summary: DemoSummary) -> list[int]:
    found = dict(Condition.objects.filter(mesh_id__in=mesh_ids).values_list("mesh_id", "pk"))
    summary.missing_conditions.update(set(mesh_ids) - set(found))
    return [found[mesh_id] for mesh_id in mesh_ids if mesh_id in found]


def _ensure_member(*, spec: PersonSpec, password: str, tenants: dict[str, Tenant], summary: DemoSummary) -> Member:
    """A verified member who joined ``spec.joins``; created through the same services as sign-up."""
    member = Member.objects.filter(email=spec.email).first()
    if member is None:
        member = register_member(
            email=spec.email,
            password=password,
            display_name=spec.display_name,
            role=spec.role,
            condition_ids=_condition_ids(spec.mesh_ids, summary=summary),
            birth_year=spec.birth_year,
            country=spec.country,
            region=spec.region,
            # The demo's partner admins and moderators really are staff: their names may say so.
            official_name_allowed=True,
        )
        assert member is not None  # the address had no account a moment ago
        summary.created["members"] += 1
    else:
        _ensure_password(member=member, password=password)
    if not member.email_verified:
        member, _ = verify_email(token=make_verification_token(member=member))
    for slug in spec.joins:
        tenant = tenants[slug]
        if not member.memberships.filter(tenant=tenant).exists():
            summary.created["memberships"] += 1
        join_tenant(member=member, tenant=tenant)
    return member


def _ensure_communities(*, spec: PartnerSpec, tenant: Tenant, staff: Member, summary: DemoSummary) -> None:
    with tenant_context(tenant):
        for community_spec in spec.communities:
            condition_ids = _condition_ids(community_spec.mesh_ids, summary=summary)
            community = Community.objects.filter(slug=community_spec.slug).first()
            if community is None:
                create_community(
                    acting_member=staff,
                    tenant=tenant,
                    name=community_spec.name,
                    slug=community_spec.slug,
                    description=community_spec.description,
                    visibility=community_spec.visibility,
                    condition_ids=condition_ids,
                )
                summary.created["communities"] += 1
                continue
            # Never overwrite what a partner edited: only add conditions the taxonomy gained, and list
            # communities made before the directory existed.
            current = set(community.conditions.values_list("pk", flat=True))
            listed = DirectoryEntry.objects.filter(tenant=tenant, community_slug=community.slug).exists()
            if not set(condition_ids) <= current or (community.listed_in_directory and not listed):
                update_community(
                    acting_member=staff,
                    tenant=tenant,
                    community=community,
                    condition_ids=sorted(current | set(condition_ids)),
                )


def _ensure_pages(*, spec: PartnerSpec, tenant: Tenant, staff_id: int, summary: DemoSummary) -> None:
    """The partner's Wagtail content: home page, resource library and pages, an expert session."""
    ensure_cms_content(spec=spec, tenant=tenant, staff_id=staff_id, summary=summary)


def _ensure_discussions(*, spec: PartnerSpec, tenant: Tenant, password: str, summary: DemoSummary) -> None:
    """A few conversations per community (demo.discussions), by demo voices who are members of the
    partner. Voices are counted apart from the logins a visitor is told about."""
    voices = {}
    for voice in VOICES.get(spec.slug, ()):
        existed = Member.objects.filter(email=voice.email(spec.slug)).exists()
        counts = dict(summary.created)
        voices[voice.key] = _ensure_member(
            spec=PersonSpec(email=voice.email(spec.slug), display_name=voice.display_name, joins=(spec.slug,)),
            password=password,
            tenants={spec.slug: tenant},
            summary=summary,
        )
        # Voices are not among the "members" and "memberships" the summary reports for people to use.
        summary.created["members"], summary.created["memberships"] = counts["members"], counts["memberships"]
        if not existed:
            summary.created["voices"] += 1
    moderator = Member.objects.get(email=spec.moderator_email)
    summary.created["topics"] += ensure_discussions(
        partner_slug=spec.slug, tenant=tenant, voices=voices, moderator=moderator
    )


def _ensure_trials(*, summary: DemoSummary) -> None:
    """Clinical trials: the shared ClinicalTrials.gov records when ../shared/data/ctgov exists, else the
    project's own fixtures. Idempotent: a record already loaded (same last-update date) is skipped."""
    shared = Path(settings.BASE_DIR).parent / "shared" / "data" / "ctgov"
    source = shared if shared.is_dir() else Path(settings.BASE_DIR) / "trials" / "fixtures"
    report = import_paths(paths=[source])
    summary.trials = {"summary": report.summary(), "source": str(source), **report.as_dict()}
