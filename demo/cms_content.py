"""The demo partners' Wagtail content: a community home, resource pages in the library (our own text,
reviewed and tagged) and one upcoming expert Q&A session. Idempotent: only what is missing is made."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils import timezone
from django_tenants.utils import tenant_context
from wagtail.rich_text import RichText

from cms.models import ExpertSessionPage, ResourceIndexPage, ResourcePage, ResourceType
from cms.services import ensure_home_page
from communities.models import Community, Visibility
from conditions.models import Condition
from members.models import Member
from tenants.models import Tenant

if TYPE_CHECKING:  # demo.services imports this module
    from demo.services import DemoSummary, PartnerSpec


@dataclass(frozen=True)
class SessionSpec:
    title: str
    slug: str
    expert_name: str
    expert_credentials: str
    expert_bio: str
    summary: str
    time_zone: str
    days_ahead: int


# Per partner: the review, topics and type of its pages (by page slug) and its expert session.
PAGE_DETAILS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    # slug: (resource type, reviewer, topic tags)
    "understanding-your-pathology-report": (
        ResourceType.ARTICLE, "Dr Nadia Okafor, breast pathologist", ("diagnosis", "reports"),
    ),
    "preparing-for-your-first-oncology-appointment": (
        ResourceType.ARTICLE, "Sue Hartley, breast care nurse", ("appointments",),
    ),
    "what-is-an-ms-relapse": (ResourceType.ARTICLE, "Dr Tomas Lindqvist, neurologist", ("relapses", "symptoms")),
    "talking-to-your-employer-about-ms": (ResourceType.ARTICLE, "Priya Shah, employment adviser", ("work",)),
    "spotting-and-treating-a-hypo": (ResourceType.ARTICLE, "Dr Elena Rossi, diabetologist", ("hypos", "safety")),
    "getting-started-with-a-cgm": (ResourceType.ARTICLE, "Mark Evans, diabetes specialist nurse", ("technology",)),
    "what-is-a-lupus-flare": (ResourceType.ARTICLE, "Dr Amara Osei, rheumatologist", ("flares", "symptoms")),
    "sun-protection-with-lupus": (ResourceType.ARTICLE, "Helen Marsh, lupus specialist nurse", ("sun", "daily life")),
}  # fmt: skip

SESSIONS: dict[str, SessionSpec] = {
    "breast-cancer-alliance": SessionSpec(
        title="Ask a breast care nurse: your first months of treatment",
        slug="ask-a-breast-care-nurse",
        expert_name="Sue Hartley",
        expert_credentials="RN, clinical nurse specialist in breast care",
        expert_bio="Sue has supported people through breast cancer treatment for eighteen years.",
        summary="Bring your questions about chemotherapy days, side effects and who to call when.",
        time_zone="Europe/London",
        days_ahead=10,
    ),
    "multiple-sclerosis-society": SessionSpec(
        title="Ask a neurologist: relapses, fatigue and staying active",
        slug="ask-a-neurologist",
        expert_name="Dr Tomas Lindqvist",
        expert_credentials="MD, consultant neurologist",
        expert_bio="Dr Lindqvist runs an MS clinic and a research programme on fatigue.",
        summary="What counts as a relapse, managing fatigue, and exercise that helps.",
        time_zone="Europe/Stockholm",
        days_ahead=14,
    ),
    "diabetes-foundation": SessionSpec(
        title="Ask a diabetes nurse: sensors, pumps and everyday life",
        slug="ask-a-diabetes-nurse",
        expert_name="Mark Evans",
        expert_credentials="RN, diabetes specialist nurse",
        expert_bio="Mark helps families start on glucose sensors and insulin pumps.",
        summary="Sensors, alarms at night, sick-day rules and school plans.",
        time_zone="America/New_York",
        days_ahead=7,
    ),
    "lupus-alliance": SessionSpec(
        title="Ask a rheumatologist: flares, fatigue and hydroxychloroquine",
        slug="ask-a-rheumatologist",
        expert_name="Dr Amara Osei",
        expert_credentials="MD, consultant rheumatologist",
        expert_bio="Dr Osei runs a lupus clinic and teaches patients to spot flares early.",
        summary="Telling a flare from a bad week, pacing fatigue, and questions about your medicines.",
        time_zone="America/Chicago",
        days_ahead=12,
    ),
}


def ensure_cms_content(*, spec: PartnerSpec, tenant: Tenant, staff_id: int, summary: DemoSummary) -> None:
    with tenant_context(tenant):
        # Re-fetched inside the tenant: a Member carries cached permissions of the schema it was read in.
        staff = Member.objects.get(pk=staff_id)
        home = ensure_home_page(tenant=tenant)
        library = ResourceIndexPage.objects.child_of(home).get()  # ensure_home_page makes it
        community_conditions = list(
            Condition.objects.filter(pk__in=Community.conditions.through.objects.values("condition_id")).distinct()
        )
        existing = set(ResourcePage.objects.values_list("slug", flat=True))
        for page_spec in spec.pages:
            if page_spec.slug in existing:
                continue
            resource_type, reviewer, topics = PAGE_DETAILS.get(page_spec.slug, (ResourceType.ARTICLE, "", ()))
            page = ResourcePage(
                title=page_spec.title,
                slug=page_spec.slug,
                summary=page_spec.summary,
                body=[("paragraph", RichText(page_spec.body))],
                resource_type=resource_type,
                source=spec.name,
                reviewed_at=timezone.localdate() - datetime.timedelta(days=40),
                reviewed_by=reviewer,
            )
            library.add_child(instance=page)
            page.conditions.set(community_conditions[:2])
            page.topics.add(*topics)
            page.save_revision(user=staff, log_action=True).publish(user=staff)
            summary.created["pages"] += 1
        featured = list(ResourcePage.objects.live().descendant_of(home)[:3])
        if featured and not home.featured_resources.exists():
            home.featured_resources.set(featured)
            home.featured_communities.set(Community.objects.filter(visibility=Visibility.OPEN))
            home.save_revision(user=staff).publish(user=staff)
        session_spec = SESSIONS.get(spec.slug)
        if session_spec is not None and not ExpertSessionPage.objects.filter(slug=session_spec.slug).exists():
            starts = timezone.now().replace(hour=17, minute=0, second=0, microsecond=0) + datetime.timedelta(
                days=session_spec.days_ahead
            )
            session = ExpertSessionPage(
                title=session_spec.title,
                slug=session_spec.slug,
                expert_name=session_spec.expert_name,
                expert_credentials=session_spec.expert_credentials,
                expert_bio=session_spec.expert_bio,
                summary=session_spec.summary,
                starts_at=starts,
                time_zone=session_spec.time_zone,
                community=Community.objects.filter(visibility=Visibility.OPEN).order_by("pk").first(),
            )
            home.add_child(instance=session)
            session.save_revision(user=staff, log_action=True).publish(user=staff)
            summary.created["pages"] += 1
