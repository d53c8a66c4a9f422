from __future__ import annotations

import datetime
import itertools
from types import SimpleNamespace
from typing import Any

import factory
from django.utils import timezone

from cms.models import ExpertSessionPage, ResourcePage, ResourceType
from cms.selectors import home_page
from communities.models import (
    Community,
    CommunityMembership,
    CommunityMembershipStatus,
    Post,
    Tag,
    TagKind,
    TagStatus,
    Topic,
    TopicKind,
    Visibility,
)
from members.models import Member, MembershipRole, TenantMembership
from members.selectors import local_id_of

PASSWORD = "correct-horse-battery-staple"


class MemberFactory(factory.django.DjangoModelFactory[Member]):
    class Meta:
        model = Member
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"member{n}@example.test")
    display_name = factory.Sequence(lambda n: f"Member {n}")
    email_verified_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def password(obj: Member, create: bool, extracted: str | None, **kwargs: Any) -> None:
        obj.set_password(extracted or PASSWORD)
        if create:
            obj.save(update_fields=["password"])


class CommunityFactory(factory.django.DjangoModelFactory[Community]):
    """Create inside a tenant context: communities live in tenant schemas."""

    class Meta:
        model = Community

    name = factory.Sequence(lambda n: f"Community {n}")
    slug = factory.Sequence(lambda n: f"community-{n}")
    description = "A place to talk."
    visibility = Visibility.MEMBERS_ONLY
    # Tests of posting, feeds and notifications want posts published at once; the pre-moderation
    # tests turn it on (the model's default, 2, is what a real community gets).
    premoderated_posts = 0


class TenantMembershipFactory(factory.django.DjangoModelFactory[TenantMembership]):
    """A role in a tenant without the group sync (enough for the services' permission checks)."""

    class Meta:
        model = TenantMembership

    member = factory.SubFactory(MemberFactory)
    role = MembershipRole.MEMBER
    local_id = factory.LazyAttribute(lambda membership: local_id_of(membership.member, tenant=membership.tenant))


class CommunityMembershipFactory(factory.django.DjangoModelFactory[CommunityMembership]):
    """Create inside a tenant context."""

    class Meta:
        model = CommunityMembership

    community = factory.SubFactory(CommunityFactory)
    member = factory.SubFactory(MemberFactory)
    status = CommunityMembershipStatus.ACTIVE


class TagFactory(factory.django.DjangoModelFactory[Tag]):
    """Create inside a tenant context."""

    class Meta:
        model = Tag

    community = factory.SubFactory(CommunityFactory)
    kind = TagKind.SYMPTOM
    name = factory.Sequence(lambda n: f"Tag {n}")
    slug = factory.Sequence(lambda n: f"tag-{n}")
    status = TagStatus.CURATED


class TopicFactory(factory.django.DjangoModelFactory[Topic]):
    """Bulk data for list and feed tests (bypasses the services: no counters, rate limit or notices)."""

    class Meta:
        model = Topic

    community = factory.SubFactory(CommunityFactory)
    kind = TopicKind.UPDATE
    title = factory.Sequence(lambda n: f"Topic {n}")
    author = factory.SubFactory(MemberFactory)


class PostFactory(factory.django.DjangoModelFactory[Post]):
    """Bulk data for thread tests (bypasses the services)."""

    class Meta:
        model = Post

    topic = factory.SubFactory(TopicFactory)
    community = factory.LazyAttribute(lambda post: post.topic.community)
    author = factory.SubFactory(MemberFactory)
    body_markdown = factory.Sequence(lambda n: f"Reply {n}")
    body_html = factory.LazyAttribute(lambda post: f"<p>{post.body_markdown}</p>")


class _PublishedPageFactory(factory.django.DjangoModelFactory[Any]):
    """A Wagtail page added under ``parent`` (default: the tenant's community home) and published.
    Create inside a tenant context."""

    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> Any:
        parent = kwargs.pop("parent", None) or home_page()
        if parent is None:
            raise RuntimeError("This tenant has no community home page: create pages inside a tenant context.")
        publish = kwargs.pop("publish", True)
        conditions = kwargs.pop("conditions", ())
        topics = kwargs.pop("topics", ())
        page = model_class(**kwargs)
        parent.add_child(instance=page)
        if conditions:
            page.conditions.set(conditions)
        if topics:
            page.topics.add(*topics)
        revision = page.save_revision()
        if publish:
            revision.publish()
        else:
            model_class.objects.filter(pk=page.pk).update(live=False)
        return model_class.objects.get(pk=page.pk)


class ResourcePageFactory(_PublishedPageFactory):
    class Meta:
        model = ResourcePage

    title = factory.Sequence(lambda n: f"Resource {n}")
    slug = factory.Sequence(lambda n: f"resource-{n}")
    summary = "A short guide."
    resource_type = ResourceType.ARTICLE
    reviewed_by = "Dr Test Reviewer"
    reviewed_at = factory.LazyFunction(timezone.localdate)


class ExpertSessionPageFactory(_PublishedPageFactory):
    class Meta:
        model = ExpertSessionPage

    title = factory.Sequence(lambda n: f"Expert session {n}")
    slug = factory.Sequence(lambda n: f"expert-session-{n}")
    expert_name = "Dr Ada Expert"
    expert_credentials = "MD"
    starts_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=7))
    time_zone = "Europe/Berlin"


_world_numbers = itertools.count()


def community_world(*, tenant: Any, **community_fields: Any) -> SimpleNamespace:
    """One community in ``tenant`` (call inside its context) with the people around it:
    ``admin`` and ``moderator`` (tenant roles), ``alice`` and ``bob`` (active community members),
    ``carol`` (tenant member outside the community) and ``stranger`` (no tenant membership)."""
    fields = {"visibility": Visibility.MEMBERS_ONLY, **community_fields}
    community = CommunityFactory(**fields)
    people: dict[str, Any] = {}
    for name, role in (
        ("admin", MembershipRole.ADMIN),
        ("moderator", MembershipRole.MODERATOR),
        ("alice", MembershipRole.MEMBER),
        ("bob", MembershipRole.MEMBER),
        ("carol", MembershipRole.MEMBER),
    ):
        member = MemberFactory(display_name=name.title(), email=f"{name}{next(_world_numbers)}@example.test")
        TenantMembershipFactory(member=member, tenant=tenant, role=role)
        people[name] = member
    for name in ("alice", "bob"):
        CommunityMembershipFactory(community=community, member=people[name])
    people["stranger"] = MemberFactory(display_name="Stranger")
    return SimpleNamespace(tenant=tenant, community=community, **people)
