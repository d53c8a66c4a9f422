"""Writes for the demo: three partner tenants with communities, pages and accounts to walk through.

``seed_demo`` is idempotent: it looks everything up by a natural key (slug, email) and creates only
what is missing, so ``make run`` can call it on every start. It assumes a migrated database
(``manage.py bootstrap``) and never deletes anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
from directory.models import DirectoryEntry
from members.models import Member, MemberRole, MembershipRole
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

DEFAULT_PASSWORD = "kindred-demo-2026"
STAFF_EMAIL = "staff@kindred.localhost"
PATIENT_EMAIL = "maria@kindred.localhost"
CAREGIVER_EMAIL = "sam@kindred.localhost"

# MeSH descriptor ids, checked against the shared MeSH extract (conditions_mesh.csv).
BREAST_NEOPLASMS = "D001943"
TRIPLE_NEGATIVE_BREAST_NEOPLASMS = "D064726"
MULTIPLE_SCLEROSIS = "D009103"
DIABETES_TYPE_1 = "D003922"
DIABETES_TYPE_2 = "D003924"
LUPUS_SYSTEMIC = "D008180"
LUPUS_NEPHRITIS = "D008181"


# --- what the demo contains -------------------------------------------------------------------


@dataclass(frozen=True)
class CommunitySpec:
    name: str
    slug: str
    description: str
    visibility: str  # communities.models.Visibility value
    mesh_ids: tuple[str, ...]


@dataclass(frozen=True)
class PageSpec:
    title: str
    slug: str
    summary: str
    body: str  # Wagtail rich text (HTML subset)


@dataclass(frozen=True)
class PartnerSpec:
    name: str
    slug: str
    tagline: str
    theme: dict[str, str]
    communities: tuple[CommunitySpec, ...]
    pages: tuple[PageSpec, ...]

    @property
    def domain(self) -> str:
        return f"{self.slug}.{settings.ROOT_DOMAIN}"

    @property
    def admin_email(self) -> str:
        return f"admin@{self.slug}.localhost"

    @property
    def moderator_email(self) -> str:
        return f"moderator@{self.slug}.localhost"


NOT_MEDICAL_ADVICE = (
    "<p><i>This page is general information written for the Kindred demo. It is not medical advice: "
    "talk to your care team about your own situation.</i></p>"
)

# Font stacks stay unquoted: the base template writes them into a <style> block, where HTML escaping
# of quotes would break the CSS.
PARTNERS: tuple[PartnerSpec, ...] = (
    PartnerSpec(
        name="Breast Cancer Alliance",
        slug="breast-cancer-alliance",
        tagline="From diagnosis to survivorship, nobody faces breast cancer alone.",
        theme={
            # Every pair passes WCAG 2.2 AA (themes.contrast): white on each colour is 4.5:1 or more.
            "primary_colour": "#b03a6f",
            "secondary_colour": "#6b2d5c",
            "accent_colour": "#9c4f0c",
            "background_colour": "#fff8fa",
            "font_family": "Georgia, Times New Roman, serif",
            "logo_text": "Breast Cancer Alliance",
        },
        communities=(
            CommunitySpec(
                name="Newly Diagnosed",
                slug="newly-diagnosed",
                description=(
                    "The first weeks after a breast cancer diagnosis are a blur of appointments, scans and new "
                    "words. Ask anything here, from reading a pathology report to what to pack for your first "
                    "infusion, and hear from people who were exactly where you are a few months ago."
                ),
                visibility="open",
                mesh_ids=(BREAST_NEOPLASMS,),
            ),
            CommunitySpec(
                name="Triple-Negative Circle",
                slug="triple-negative-circle",
                description=(
                    "A members-only space for people living with triple-negative breast cancer and those who "
                    "support them. Share experiences of chemotherapy and immunotherapy, clinical trials, scanxiety "
                    "and life after treatment, with others who understand why TNBC feels different."
                ),
                visibility="members",
                mesh_ids=(TRIPLE_NEGATIVE_BREAST_NEOPLASMS, BREAST_NEOPLASMS),
            ),
            CommunitySpec(
                name="Life After Treatment",
                slug="life-after-treatment",
                description=(
                    "Finishing active treatment is not the finish line. Talk about fatigue, returning to work, "
                    "body image, fear of recurrence, hormone therapy side effects and finding your new normal."
                ),
                visibility="members",
                mesh_ids=(BREAST_NEOPLASMS,),
            ),
        ),
        pages=(
            PageSpec(
                title="Understanding your pathology report",
                slug="understanding-your-pathology-report",
                summary="Grade, stage, hormone receptors and HER2: what the words on your report mean.",
                body=(
                    "<p>Your pathology report describes the tissue removed at biopsy or surgery. It guides "
                    "which treatments your team recommends, so it is worth asking them to walk you through it.</p>"
                    "<h2>Terms you will see</h2>"
                    "<ul><li><b>Invasive or in situ</b>: whether cells have grown beyond the duct or lobule.</li>"
                    "<li><b>Grade (1 to 3)</b>: how different the cells look from normal cells.</li>"
                    "<li><b>ER and PR status</b>: whether the cancer grows in response to hormones.</li>"
                    "<li><b>HER2 status</b>: whether the cells make too much of the HER2 protein.</li>"
                    "<li><b>Triple-negative</b>: ER, PR and HER2 are all negative.</li></ul>"
                    "<h2>Questions to ask</h2>"
                    "<ul><li>Is anything on the report still pending?</li>"
                    "<li>How do these results change my treatment options?</li></ul>" + NOT_MEDICAL_ADVICE
                ),
            ),
            PageSpec(
                title="Preparing for your first oncology appointment",
                slug="preparing-for-your-first-oncology-appointment",
                summary="A checklist of what to bring, what to ask and who to bring with you.",
                body=(
                    "<p>First appointments are long and full of information. A little preparation helps you "
                    "leave with answers rather than more questions.</p>"
                    "<h2>Bring</h2>"
                    "<ul><li>A list of your medicines and allergies.</li>"
                    "<li>Copies of scans and reports, if you have them.</li>"
                    "<li>A friend or relative to take notes.</li></ul>"
                    "<h2>Ask</h2>"
                    "<ul><li>What is the goal of the treatment you recommend?</li>"
                    "<li>What side effects should I report straight away, and to whom?</li>"
                    "<li>Are there clinical trials I could take part in?</li></ul>" + NOT_MEDICAL_ADVICE
                ),
            ),
        ),
    ),
    PartnerSpec(
        name="Multiple Sclerosis Society",
        slug="multiple-sclerosis-society",
        tagline="Living well with MS, together.",
        theme={
            "primary_colour": "#b8420a",
            "secondary_colour": "#1d4e6e",
            "accent_colour": "#2a6f97",
            "background_colour": "#fffaf5",
            "font_family": "Trebuchet MS, Helvetica, sans-serif",
            "logo_text": "MS Society",
        },
        communities=(
            CommunitySpec(
                name="Newly Diagnosed with MS",
                slug="newly-diagnosed-with-ms",
                description=(
                    "Just heard the words multiple sclerosis? Ask about MRI results, relapses, disease-modifying "
                    "therapies and how to tell family and colleagues. Members who have lived with MS for years "
                    "share what they wish they had known at the start."
                ),
                visibility="open",
                mesh_ids=(MULTIPLE_SCLEROSIS,),
            ),
            CommunitySpec(
                name="Fatigue and Energy",
                slug="fatigue-and-energy",
                description=(
                    "Fatigue is one of the most common and least visible MS symptoms. Swap pacing strategies, "
                    "heat-sensitivity tips, sleep routines and ways of explaining 'MS tired' to people who "
                    "have never felt it."
                ),
                visibility="members",
                mesh_ids=(MULTIPLE_SCLEROSIS,),
            ),
            CommunitySpec(
                name="Carers and Partners",
                slug="carers-and-partners",
                description=(
                    "For partners, parents, children and friends supporting someone with MS. Talk honestly "
                    "about caring, your own wellbeing, adapting the home and planning ahead, in a members-only "
                    "space."
                ),
                visibility="members",
                mesh_ids=(MULTIPLE_SCLEROSIS,),
            ),
        ),
        pages=(
            PageSpec(
                title="What is an MS relapse?",
                slug="what-is-an-ms-relapse",
                summary="How to tell a relapse from a bad day, and when to contact your MS team.",
                body=(
                    "<p>A relapse is new symptoms, or old symptoms getting worse, that last more than 24 hours "
                    "and are not explained by an infection, heat or stress.</p>"
                    "<h2>Pseudo-relapses</h2>"
                    "<p>An infection (often a urinary tract infection) or a rise in body temperature can "
                    "temporarily bring back old symptoms. These usually settle once the cause is treated.</p>"
                    "<h2>When to get in touch</h2>"
                    "<ul><li>Symptoms that affect your sight, mobility or continence.</li>"
                    "<li>Anything new that has lasted more than a day.</li></ul>" + NOT_MEDICAL_ADVICE
                ),
            ),
            PageSpec(
                title="Talking to your employer about MS",
                slug="talking-to-your-employer-about-ms",
                summary="Deciding whether to disclose, and adjustments that members found helpful.",
                body=(
                    "<p>Whether and when to tell your employer is your decision. Many members found that "
                    "sharing their diagnosis made it easier to ask for changes that help them keep working.</p>"
                    "<h2>Adjustments members mention</h2>"
                    "<ul><li>Flexible hours or working from home on bad days.</li>"
                    "<li>A desk near the toilets or away from heat sources.</li>"
                    "<li>Regular short breaks to manage fatigue.</li></ul>"
                    "<p>Your rights at work depend on where you live; an employment adviser can explain them.</p>"
                ),
            ),
        ),
    ),
    PartnerSpec(
        name="Diabetes Foundation",
        slug="diabetes-foundation",
        tagline="Everyday support for everyone living with type 1 and type 2 diabetes.",
        theme={
            "primary_colour": "#1f6fb2",
            "secondary_colour": "#1d4e6e",
            "accent_colour": "#287a4f",
            "background_colour": "#f7fbff",
            "font_family": "Verdana, Geneva, sans-serif",
            "logo_text": "Diabetes Foundation",
        },
        communities=(
            CommunitySpec(
                name="Type 1 Together",
                slug="type-1-together",
                description=(
                    "Carb counting, pumps, CGMs, exercise lows and 3 a.m. highs: an open community for adults "
                    "living with type 1 diabetes to share what works for them."
                ),
                visibility="open",
                mesh_ids=(DIABETES_TYPE_1,),
            ),
            CommunitySpec(
                name="Type 2 Everyday",
                slug="type-2-everyday",
                description=(
                    "Food, movement, medicines and the emotional side of a type 2 diagnosis. Members share "
                    "recipes, small changes that stuck, and experiences of starting new treatments."
                ),
                visibility="open",
                mesh_ids=(DIABETES_TYPE_2,),
            ),
            CommunitySpec(
                name="Parents of Children with Type 1",
                slug="parents-of-children-with-type-1",
                description=(
                    "A members-only space for parents and carers of children and teenagers with type 1 "
                    "diabetes: school plans, night-time checks, sleepovers, and handing over responsibility "
                    "as they grow up."
                ),
                visibility="members",
                mesh_ids=(DIABETES_TYPE_1,),
            ),
        ),
        pages=(
            PageSpec(
                title="Spotting and treating a hypo",
                slug="spotting-and-treating-a-hypo",
                summary="Signs of low blood glucose and the '15 and 15' approach many care teams teach.",
                body=(
                    "<p>Hypoglycaemia (a 'hypo') is blood glucose below 4 mmol/L (70 mg/dL). It is most common "
                    "with insulin and some tablets.</p>"
                    "<h2>Common signs</h2>"
                    "<ul><li>Shaking, sweating, hunger or a racing heart.</li>"
                    "<li>Confusion, irritability or blurred vision.</li></ul>"
                    "<h2>What many care teams advise</h2>"
                    "<p>Take about 15 g of fast-acting carbohydrate, re-check after 15 minutes and repeat if "
                    "still low. Follow your own team's plan, and make sure people around you know what to do."
                    "</p>" + NOT_MEDICAL_ADVICE
                ),
            ),
            PageSpec(
                title="Getting started with a continuous glucose monitor",
                slug="getting-started-with-a-cgm",
                summary="What a CGM measures, how alerts work, and tips from members for the first weeks.",
                body=(
                    "<p>A continuous glucose monitor (CGM) reads glucose in the fluid under the skin every few "
                    "minutes and shows the trend, not just a single number.</p>"
                    "<h2>Tips from members</h2>"
                    "<ul><li>Set alerts conservatively at first so they help rather than nag.</li>"
                    "<li>Expect readings to lag a finger-prick test by a few minutes when glucose moves fast.</li>"
                    "<li>Keep spare sensors and adhesive patches in your bag.</li></ul>" + NOT_MEDICAL_ADVICE
                ),
            ),
        ),
    ),
)

# The root's own example search ("lupus") finds these communities through the taxonomy's synonyms.
LUPUS_ALLIANCE = PartnerSpec(
    name="Lupus Alliance",
    slug="lupus-alliance",
    tagline="Flares, fatigue and everything between: lupus, shared.",
    theme={
        "primary_colour": "#6a3d9a",
        "accent_colour": "#8a5f00",
        "background_colour": "#fbf8ff",
        "font_family": "Palatino Linotype, Book Antiqua, Palatino, serif",
        "logo_text": "Lupus Alliance",
    },
    communities=(
        CommunitySpec(
            name="Living with Lupus",
            slug="living-with-lupus",
            description=(
                "Systemic lupus erythematosus (SLE) looks different in everyone. Talk about flares, joint pain, "
                "rashes, sun sensitivity, hydroxychloroquine and the fatigue nobody else can see, with people "
                "who live with it too."
            ),
            visibility="open",
            mesh_ids=(LUPUS_SYSTEMIC,),
        ),
        CommunitySpec(
            name="Lupus Nephritis Circle",
            slug="lupus-nephritis-circle",
            description=(
                "A members-only space for people whose lupus affects their kidneys: biopsies, infusions, "
                "dialysis decisions and keeping life going around the appointments."
            ),
            visibility="members",
            mesh_ids=(LUPUS_NEPHRITIS, LUPUS_SYSTEMIC),
        ),
    ),
    pages=(
        PageSpec(
            title="What is a lupus flare?",
            slug="what-is-a-lupus-flare",
            summary="Common signs of a flare, and when to call your rheumatology team.",
            body=(
                "<p>A flare is a time when lupus symptoms come back or get worse: joint pain, a rash, "
                "fevers, swelling or extreme tiredness.</p>"
                "<h2>When to get in touch</h2>"
                "<ul><li>Chest pain, shortness of breath or swelling in your legs.</li>"
                "<li>Blood in your urine or foamy urine.</li></ul>" + NOT_MEDICAL_ADVICE
            ),
        ),
        PageSpec(
            title="Sun protection with lupus",
            slug="sun-protection-with-lupus",
            summary="Why sunlight can trigger symptoms, and habits members rely on.",
            body=(
                "<p>Many people with lupus are sensitive to ultraviolet light: sun exposure can bring on a "
                "rash, joint pain or tiredness.</p>"
                "<ul><li>Broad-spectrum sunscreen every day, even when it is cloudy.</li>"
                "<li>Hats, long sleeves and shade in the middle of the day.</li></ul>" + NOT_MEDICAL_ADVICE
            ),
        ),
    ),
)
PARTNERS = (*PARTNERS, LUPUS_ALLIANCE)

_partner_names = {spec.slug: spec.name for spec in PARTNERS}


@dataclass(frozen=True)
class PersonSpec:
    email: str
    display_name: str
    role: str = ""
    mesh_ids: tuple[str, ...] = ()
    joins: tuple[str, ...] = ()  # partner slugs
    birth_year: int | None = None
    country: str = ""
    region: str = ""


PEOPLE: tuple[PersonSpec, ...] = (
    PersonSpec(
        email=PATIENT_EMAIL,
        display_name="Maria Alvarez",
        role=MemberRole.PATIENT,
        mesh_ids=(BREAST_NEOPLASMS, DIABETES_TYPE_2),
        joins=("breast-cancer-alliance", "diabetes-foundation"),
        birth_year=1974,
        country="US",
        region="Ohio",
    ),
    PersonSpec(
        email=CAREGIVER_EMAIL,
        display_name="Sam Okafor",
        role=MemberRole.CAREGIVER,
        mesh_ids=(MULTIPLE_SCLEROSIS,),
        joins=("multiple-sclerosis-society",),
        birth_year=1988,
        country="GB",
        region="Leeds",
    ),
)


# --- what seeding reports ---------------------------------------------------------------------


@dataclass(frozen=True)
class DemoPartner:
    name: str
    slug: str
    host: str
    created: bool

    def url(self, *, port: int | str, path: str = "/") -> str:
        return f"{settings.SITE_SCHEME}://{self.host}:{port}{path}"


@dataclass(frozen=True)
class DemoLogin:
    email: str
    description: str


@dataclass
class DemoSummary:
    password: str
    partners: list[DemoPartner] = field(default_factory=list)
    logins: list[DemoLogin] = field(default_factory=list)
    # How many rows of each kind this run created: all zero when the demo was already complete.
    created: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            ("tenants", "members", "memberships", "communities", "pages", "voices", "topics"), 0
        )
    )
    # MeSH ids the taxonomy did not have: their links were skipped, a later run adds them.
    missing_conditions: set[str] = field(default_factory=set)
    # Clinical trials loaded by this run (trials app): counts and the folder they came from.
    trials: dict[str, Any] = field(default_factory=dict)

    def as_lines(self, *, port: int | str) -> list[str]:
        """The summary a person reads in the terminal: where to go and how to sign in."""
        root = f"{settings.SITE_SCHEME}://{settings.ROOT_DOMAIN}:{port}"
        lines = [
            f"Platform        {root}/",
            f"Platform admin  {root}/admin/  (Django admin, platform staff)",
            "",
            "Partners (Wagtail admin at /admin/ on each host)",
        ]
        for partner in self.partners:
            lines.append(f"  {partner.name:<28} {partner.url(port=port)}")
            lines.append(f"  {'':<28} {partner.url(port=port, path='/admin/')}")
        lines += ["", f"Demo logins (password for all: {self.password})"]
        width = max((len(login.email) for login in self.logins), default=0)
        lines += [f"  {login.email:<{width}}  {login.description}" for login in self.logins]
        if self.trials:
            lines += ["", f"Clinical trials  {self.trials['summary']} from {self.trials['source']}"]
        if self.missing_conditions:
            lines += ["", f"Note: conditions not in the taxonomy yet, links skipped: {sorted(self.missing_conditions)}"]
        return lines


# --- seeding ----------------------------------------------------------------------------------


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

- **Share de-identified data with research partners**: your birth-year range, country and conditions,
  never your name, email or posts.
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
