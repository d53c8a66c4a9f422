"""Tags: curated, proposed and merged."""

from __future__ import annotations

from django.db import transaction
from django.utils.text import slugify

from communities import safety
from communities.models import (
    Community,
    ModerationActionKind,
    Tag,
    TagKind,
    TagStatus,
)
from communities.search import refresh_search_vectors
from communities.services.guards import _record_moderation, _require_moderator, _require_participant
from core.errors import Conflict, InvalidInput
from core.text import check_visible_text
from members.models import Member
from tenants.models import Tenant


def _clean_tag(kind: str, name: str, *, field: str = "name") -> tuple[str, str]:
    name = " ".join((name or "").split())
    slug = slugify(name)[:60]
    if kind not in TagKind.values:
        raise InvalidInput(
            f"Tag kind is one of: {', '.join(TagKind.values)}.",
            code="tag_kind_invalid",
            details={"kind": ["Unknown kind."]},
        )
    check_visible_text(name, field=field, label="A tag name")
    if not 2 <= len(name) <= 60 or not slug:
        raise InvalidInput(
            "A tag needs 2 to 60 characters, including letters or digits.",
            code="tag_invalid",
            details={field: ["2–60 characters, including letters or digits."]},
        )
    return name, slug


def create_tag(*, acting_member: Member, tenant: Tenant, community: Community, kind: str, name: str) -> Tag:
    """Moderators add a curated tag; a proposed tag of the same name becomes curated."""
    _require_moderator(acting_member, tenant)
    name, slug = _clean_tag(kind, name)
    with transaction.atomic():
        tag, created = Tag.objects.select_for_update().get_or_create(
            community=community, kind=kind, slug=slug, defaults={"name": name, "status": TagStatus.CURATED}
        )
        if not created and tag.status == TagStatus.MERGED:
            raise Conflict("That tag was merged into another one.", code="tag_merged")
        if tag.status != TagStatus.CURATED:
            tag.status = TagStatus.CURATED
            tag.save(update_fields=["status"])
            # Now public: its topics become findable by its name.
            refresh_search_vectors(topic_ids=tag.topics.values_list("pk", flat=True))
        if created or tag.proposed_by_id is not None:
            _record_moderation(
                kind=ModerationActionKind.TAG_CURATED,
                actor=acting_member,
                subject_id=tag.proposed_by_id,
                community=community,
                tag_id=tag.pk,
                summary=f"Curated the {tag.kind} tag “{tag.name}”",
            )
    return tag


def _propose(*, member: Member, community: Community, kind: str, name: str) -> Tag:
    name, slug = _clean_tag(kind, name)
    tag, _ = Tag.objects.get_or_create(
        community=community,
        kind=kind,
        slug=slug,
        defaults={"name": name, "status": TagStatus.PROPOSED, "proposed_by": member},
    )
    # Proposing a name that was merged away means the tag it now lives under.
    return tag.merged_into if tag.status == TagStatus.MERGED and tag.merged_into else tag


def propose_tag(*, acting_member: Member, tenant: Tenant, community: Community, kind: str, name: str) -> Tag:
    """Members propose tags; moderators curate or merge them. Returns the existing tag if any."""
    _require_participant(acting_member, community)
    safety.require_may_post(member=acting_member, tenant=tenant)
    with transaction.atomic():
        return _propose(member=acting_member, community=community, kind=kind, name=name)


def merge_tags(*, acting_member: Member, tenant: Tenant, source: Tag, target: Tag) -> Tag:
    """Moderators merge ``source`` into ``target``: its topics are retagged, it is marked MERGED."""
    _require_moderator(acting_member, tenant)
    if source.pk == target.pk:
        raise InvalidInput("Choose two different tags.", code="tag_same")
    if source.community_id != target.community_id:
        raise InvalidInput("Both tags must belong to the same community.", code="tag_other_community")
    if target.status == TagStatus.MERGED:
        raise InvalidInput("Merge into a tag that is still in use.", code="tag_merged")
    through = Tag.topics.through
    with transaction.atomic():
        topic_ids = list(through.objects.filter(tag_id=source.pk).values_list("topic_id", flat=True))
        through.objects.bulk_create(
            [through(topic_id=topic_id, tag_id=target.pk) for topic_id in topic_ids], ignore_conflicts=True
        )
        through.objects.filter(tag_id=source.pk).delete()
        refresh_search_vectors(topic_ids=topic_ids)
        Tag.objects.filter(merged_into_id=source.pk).update(merged_into_id=target.pk)
        source.status = TagStatus.MERGED
        source.merged_into = target
        source.save(update_fields=["status", "merged_into"])
        if target.status == TagStatus.PROPOSED:
            target.status = TagStatus.CURATED
            target.save(update_fields=["status"])
            refresh_search_vectors(topic_ids=target.topics.values_list("pk", flat=True))
        _record_moderation(
            kind=ModerationActionKind.TAG_MERGED,
            actor=acting_member,
            subject_id=source.proposed_by_id,
            community=Community.objects.get(pk=target.community_id),
            tag_id=target.pk,
            summary=f"Merged the tag “{source.name}” into “{target.name}” ({len(topic_ids)} topics retagged)",
        )
    return target
