from __future__ import annotations

from typing import Any

import factory
from django.utils import timezone

from communities.models import Community, Visibility
from members.models import Member

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
