"""Serializers shared by the communities API's views (output first, then input)."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import empty
from rest_framework.request import Request

from communities import selectors, services, wording
from communities.models import (
    Community,
    CommunityMembership,
    ContentStatus,
    JoiningPolicy,
    ModerationAction,
    Notification,
    Post,
    Tag,
    TagKind,
    Topic,
    TopicKind,
    Visibility,
    WatchLevel,
)
from members.models import Member
from members.selectors import (
    local_id_of,
    tenant_name_of,
)
from tenants.models import Tenant
from tenants.selectors import current_tenant

# ---------------------------------------------------------------------------------------------
# Serializers (output)
# ---------------------------------------------------------------------------------------------


def _tenant_here() -> Tenant:
    """The tenant whose schema this request reads (serializers have no request of their own)."""
    tenant = current_tenant()
    if tenant is None:
        raise LookupError("no tenant schema is active")
    return tenant


class AuthorSerializer(serializers.Serializer[Member]):
    id = serializers.SerializerMethodField(help_text="The member's id on this tenant (differs on every other).")
    display_name = serializers.SerializerMethodField(help_text="The name this member uses on this tenant.")

    def get_id(self, member: Member) -> str:
        return local_id_of(member, tenant=_tenant_here())

    def get_display_name(self, member: Member) -> str:
        # Lists attach names in bulk (members.selectors.attach_display_names); single rows look theirs up.
        attached = getattr(member, "tenant_name", None)
        if attached is not None:
            return str(attached)
        return tenant_name_of(member=member, tenant=_tenant_here())


class CommunitySerializer(serializers.ModelSerializer[Community]):
    conditions: serializers.RelatedField[Any, Any, Any] = serializers.SlugRelatedField(
        slug_field="mesh_id", many=True, read_only=True
    )

    class Meta:
        model = Community
        fields = [
            "slug", "name", "description", "rules", "visibility", "joining_policy", "listed_in_directory",
            "premoderated_posts", "conditions", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class CommunityMembershipSerializer(serializers.ModelSerializer[CommunityMembership]):
    community = serializers.CharField(source="community.slug", read_only=True)
    member = AuthorSerializer(read_only=True)

    class Meta:
        model = CommunityMembership
        fields = ["id", "community", "member", "status", "joined_at"]
        read_only_fields = fields


class TagSerializer(serializers.ModelSerializer[Tag]):
    merged_into: serializers.RelatedField[Any, Any, Any] = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="The tag this one was merged into, if it was."
    )

    class Meta:
        model = Tag
        fields = ["id", "kind", "name", "slug", "status", "merged_into"]
        read_only_fields = fields


class TopicSerializer(serializers.ModelSerializer[Topic]):
    community = serializers.CharField(source="community.slug", read_only=True)
    author = AuthorSerializer(read_only=True, allow_null=True)
    tags = serializers.SerializerMethodField()
    answer_post_id = serializers.IntegerField(source="answer_id", read_only=True, allow_null=True)

    class Meta:
        model = Topic
        fields = [
            "id", "community", "kind", "title", "author", "tags", "created_at", "last_activity_at", "reply_count",
            "reaction_count", "answer_post_id", "status", "locked_at",
        ]  # fmt: skip
        read_only_fields = fields

    @cached_property
    def _tag_serializer(self) -> TagSerializer:
        # One per topic serializer, shared by every topic of a list: building a ModelSerializer's
        # fields costs more than representing a tag.
        return TagSerializer()

    @extend_schema_field(TagSerializer(many=True))
    def get_tags(self, topic: Topic) -> list[dict[str, Any]]:
        # Proposed tags wait for a moderator: only curated ones are shown.
        return [self._tag_serializer.to_representation(tag) for tag in selectors.shown_tags(topic)]


class ReactionCountsSerializer(serializers.Serializer[Post]):
    helpful = serializers.IntegerField(source="helpful_count", read_only=True)
    same_here = serializers.IntegerField(source="same_here_count", read_only=True)
    support = serializers.IntegerField(source="support_count", read_only=True)


class PostSerializer(serializers.Serializer[Any]):
    """A post as one viewer sees it (built from selectors.PostView)."""

    id = serializers.IntegerField(source="post.pk", read_only=True)
    topic_id = serializers.IntegerField(source="post.topic_id", read_only=True)
    author = AuthorSerializer(source="post.author", read_only=True, allow_null=True)
    is_opening = serializers.BooleanField(source="post.is_opening", read_only=True)
    quoted_post_id = serializers.IntegerField(source="post.quoted_post_id", read_only=True, allow_null=True)
    body_html = serializers.CharField(read_only=True)
    body_markdown = serializers.SerializerMethodField(help_text="The source text, for its author only.")
    is_removed = serializers.BooleanField(read_only=True)
    is_answer = serializers.BooleanField(read_only=True)
    reactions = ReactionCountsSerializer(source="post", read_only=True)
    my_reactions = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField(source="post.created_at", read_only=True)
    edited_at = serializers.DateTimeField(source="post.edited_at", read_only=True, allow_null=True)
    edit_count = serializers.IntegerField(source="post.edit_count", read_only=True)
    status = serializers.ChoiceField(
        source="post.status",
        choices=ContentStatus.choices,
        read_only=True,
        help_text="held: awaiting review; hidden: hidden pending a moderator (both seen by author and moderators only)",
    )
    hidden_reason = serializers.CharField(source="post.hidden_reason", read_only=True)
    misinformation_note = serializers.CharField(source="post.misinformation_note", read_only=True)
    misinformation_url = serializers.CharField(source="post.misinformation_url", read_only=True)
    crisis_resources = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="For the author of a post that looks like a crisis: where to find help now",
    )

    def get_body_markdown(self, view: selectors.PostView) -> str | None:
        viewer = self.context.get("member")
        if view.is_removed or viewer is None or not viewer.is_authenticated:
            return None
        return view.post.body_markdown if view.post.author_id == viewer.pk else None

    def get_my_reactions(self, view: selectors.PostView) -> list[str]:
        return sorted(view.my_reactions)


def _post_view(post: Post, *, member: Member) -> dict[str, Any]:
    """One post as its author just wrote, edited or reacted to it."""
    removed = post.deleted_at is not None
    in_crisis = selectors.is_in_crisis(post=post)
    view = selectors.PostView(
        post=post,
        body_html=post.body_html if not removed else wording.REMOVED_HTML,
        is_removed=removed,
        is_answer=post.topic.answer_id == post.pk,
        crisis_resources=selectors.crisis_resources() if in_crisis and post.author_id == member.pk else (),
    )
    return dict(PostSerializer(view, context={"member": member}).data)


class TopicDetailSerializer(TopicSerializer):
    posts = PostSerializer(many=True, read_only=True)

    class Meta(TopicSerializer.Meta):
        fields = [*TopicSerializer.Meta.fields, "posts"]
        read_only_fields = fields


class TopicPageSerializer(serializers.Serializer[Any]):
    results = TopicSerializer(many=True, read_only=True)
    next_cursor = serializers.CharField(read_only=True, allow_null=True)


class FeedItemSerializer(serializers.Serializer[Any]):
    topic = TopicSerializer(read_only=True)
    score = serializers.FloatField(read_only=True)
    reasons = serializers.ListField(child=serializers.CharField(), read_only=True)


class FeedPageSerializer(serializers.Serializer[Any]):
    results = FeedItemSerializer(many=True, read_only=True)
    next_cursor = serializers.CharField(read_only=True, allow_null=True)


class NotificationSerializer(serializers.ModelSerializer[Notification]):
    actor = AuthorSerializer(read_only=True, allow_null=True)
    topic_id = serializers.IntegerField(read_only=True, allow_null=True)
    topic_title = serializers.CharField(source="topic.title", read_only=True, allow_null=True, default=None)
    post_id = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = Notification
        fields = ["id", "kind", "topic_id", "topic_title", "post_id", "actor", "message", "created_at", "read_at"]
        read_only_fields = fields


class NotificationListSerializer(serializers.Serializer[Any]):
    results = NotificationSerializer(many=True, read_only=True)
    unread_count = serializers.IntegerField(read_only=True)


class WatchSerializer(serializers.Serializer[Any]):
    level = serializers.ChoiceField(choices=WatchLevel.choices)


class ReactionResultSerializer(serializers.Serializer[Any]):
    post_id = serializers.IntegerField(read_only=True)
    kind = serializers.CharField(read_only=True)
    reacted = serializers.BooleanField(read_only=True)
    changed = serializers.BooleanField(read_only=True)
    reactions = ReactionCountsSerializer(read_only=True)


# ---------------------------------------------------------------------------------------------
# Serializers (input)
# ---------------------------------------------------------------------------------------------


def _checked_by_service(*, minimum: int, maximum: int, rule: str) -> type[serializers.CharField]:
    """A text field whose length the service checks (code ``rule``) whichever way the text arrives, web
    or API: the serializer only describes the range, so the same rule always answers with one code."""

    @extend_schema_field({"type": "string", "minLength": minimum, "maxLength": maximum})
    class ServiceCheckedText(serializers.CharField):
        def __init__(self, **kwargs: Any) -> None:
            kwargs.setdefault("help_text", f"{minimum} to {maximum} characters (else {rule!r}).")
            super().__init__(**kwargs)

        def run_validation(self, data: Any = empty) -> Any:
            if isinstance(data, str) and not data.strip():
                return data  # blank: the service refuses it with the rule's own code
            return super().run_validation(data)

    return ServiceCheckedText


TitleField = _checked_by_service(minimum=services.TITLE_MIN, maximum=services.TITLE_MAX, rule="title_length")
BodyField = _checked_by_service(minimum=1, maximum=services.BODY_MAX, rule="body_empty / body_too_long")
TagNameField = _checked_by_service(minimum=2, maximum=60, rule="tag_invalid")
CommunityNameField = _checked_by_service(minimum=2, maximum=120, rule="name_length")


class CommunityCreateSerializer(serializers.Serializer[Any]):
    name = CommunityNameField()
    slug = serializers.SlugField(max_length=120)
    description = serializers.CharField(required=False, default="", allow_blank=True)
    rules = serializers.CharField(required=False, default="", allow_blank=True)
    condition_ids = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False, default=Visibility.MEMBERS_ONLY)
    joining_policy = serializers.ChoiceField(choices=JoiningPolicy.choices, required=False, default=JoiningPolicy.OPEN)
    listed_in_directory = serializers.BooleanField(required=False, default=True)
    premoderated_posts = serializers.IntegerField(required=False, default=2, min_value=0, max_value=50)


class CommunityUpdateSerializer(serializers.Serializer[Any]):
    name = CommunityNameField(required=False)
    slug = serializers.SlugField(max_length=120, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    rules = serializers.CharField(required=False, allow_blank=True)
    condition_ids = serializers.ListField(child=serializers.IntegerField(), required=False)
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)
    joining_policy = serializers.ChoiceField(choices=JoiningPolicy.choices, required=False)
    listed_in_directory = serializers.BooleanField(required=False)
    premoderated_posts = serializers.IntegerField(required=False, min_value=0, max_value=50)


class JoinDecisionSerializer(serializers.Serializer[Any]):
    approve = serializers.BooleanField()
    reason = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)


class ModerationReasonSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)


class ModerationActionSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(read_only=True)
    kind = serializers.CharField(read_only=True)
    summary = serializers.CharField(read_only=True)
    reason = serializers.CharField(read_only=True)
    actor = serializers.SerializerMethodField()
    subject = serializers.SerializerMethodField()
    community = serializers.SerializerMethodField()
    topic_id = serializers.IntegerField(source="topic_id_ref", read_only=True, allow_null=True)
    post_id = serializers.IntegerField(source="post_id_ref", read_only=True, allow_null=True)
    tag_id = serializers.IntegerField(source="tag_id_ref", read_only=True, allow_null=True)
    before_text = serializers.CharField(read_only=True)
    after_text = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)

    def get_community(self, action: ModerationAction) -> str | None:
        return action.community.slug if action.community else None

    def get_actor(self, action: ModerationAction) -> str:
        return _public_name(action.actor)

    def get_subject(self, action: ModerationAction) -> str | None:
        return _public_name(action.subject) if action.subject_id else None


def _public_name(member: Member | None) -> str:
    """The member's name on this tenant (attached in bulk by the view, else looked up)."""
    if member is None:
        return wording.FORMER_MEMBER
    attached = getattr(member, "tenant_name", None)
    return str(attached) if attached is not None else tenant_name_of(member=member, tenant=_tenant_here())


class TagInputSerializer(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=TagKind.choices)
    name = TagNameField()


class TagMergeSerializer(serializers.Serializer[Any]):
    into = serializers.IntegerField(help_text="Id of the tag to merge into.")


class TopicCreateSerializer(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=TopicKind.choices)
    title = TitleField()
    body = BodyField()
    tag_ids = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)
    proposed_tags = serializers.ListField(child=TagNameField(), required=False, default=list, max_length=10)


class AnswerSerializer(serializers.Serializer[Any]):
    post_id = serializers.IntegerField()


class ReplySerializer(serializers.Serializer[Any]):
    body = BodyField()
    quoted_post_id = serializers.IntegerField(required=False, allow_null=True, default=None)


class PostEditSerializer(serializers.Serializer[Any]):
    body = BodyField()
    title = TitleField(required=False, help_text="Only for the opening post.")


class MarkReadSerializer(serializers.Serializer[Any]):
    ids = serializers.ListField(child=serializers.IntegerField(), required=False, allow_null=True, default=None)


class MarkReadResultSerializer(serializers.Serializer[Any]):
    marked = serializers.IntegerField(read_only=True)
    unread_count = serializers.IntegerField(read_only=True)


def _valid(serializer_class: type[serializers.Serializer[Any]], request: Request, **kwargs: Any) -> dict[str, Any]:
    serializer = serializer_class(data=request.data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
