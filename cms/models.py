"""Partner-curated content pages (tenant schema, Wagtail): the community home, the resource library,
resource pages and expert Q&A sessions.

Pages hold content only. Members' questions and votes for an expert session are plain models written
by ``cms.services``; the expert's answers are posted into the session's community through
``communities.services`` (cms depends on communities, never the reverse).
"""

from __future__ import annotations

import datetime
import zoneinfo
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey, ParentalManyToManyField
from taggit.models import TaggedItemBase
from wagtail import blocks
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.documents.blocks import DocumentChooserBlock
from wagtail.fields import RichTextField, StreamField
from wagtail.images.blocks import ImageChooserBlock
from wagtail.models import Page
from wagtail.rich_text import RichText
from wagtail.search import index

from cms.forms import ExpertSessionPageForm
from members.requests import request_member
from tenants.requests import request_tenant

if TYPE_CHECKING:
    from communities.models import Community
    from members.models import Member

STALE_AFTER_DAYS = 365
TIME_ZONE_CHOICES = [(name, name) for name in sorted(zoneinfo.available_timezones()) if "/" in name or name == "UTC"]


class ResourceType(models.TextChoices):
    ARTICLE = "article", "Article"
    VIDEO = "video", "Video"
    EXTERNAL_LINK = "link", "External link"
    DOCUMENT = "document", "Document"
    SUPPORT_SERVICE = "support", "Support service"


class CommunityHomePage(Page):
    """The partner's home in Wagtail: hero, featured communities and resources, upcoming sessions."""

    hero_title: models.CharField[str, str] = models.CharField(max_length=120, blank=True)
    hero_text: models.TextField[str, str] = models.TextField(blank=True)
    featured_communities = ParentalManyToManyField("communities.Community", blank=True, related_name="+")
    featured_resources = ParentalManyToManyField("cms.ResourcePage", blank=True, related_name="+")

    content_panels: list[Any] = [
        *Page.content_panels,
        MultiFieldPanel([FieldPanel("hero_title"), FieldPanel("hero_text")], heading="Hero"),
        FieldPanel("featured_communities"),
        FieldPanel("featured_resources"),
    ]
    subpage_types: list[str] = ["cms.ResourceIndexPage", "cms.ResourcePage", "cms.ExpertSessionPage"]
    max_count_per_parent = 1

    class Meta:
        verbose_name = "community home"

    def get_context(self, request: HttpRequest, *args: Any, **kwargs: Any) -> dict[str, Any]:
        from cms import selectors  # noqa: PLC0415  # cycle: cms.models -> cms.selectors -> cms.models

        context = super().get_context(request, *args, **kwargs)
        context.update(
            selectors.home_page_sections(page=self, member=request_member(request), tenant=request_tenant(request))
        )
        return context


class ResourceIndexPage(Page):
    """The resource library: every live resource below it, filtered by condition, topic and type."""

    intro = RichTextField(blank=True)

    content_panels: list[Any] = [*Page.content_panels, FieldPanel("intro")]
    subpage_types: list[str] = ["cms.ResourcePage"]

    class Meta:
        verbose_name = "resource library"

    def get_context(self, request: HttpRequest, *args: Any, **kwargs: Any) -> dict[str, Any]:
        from cms import selectors  # noqa: PLC0415  # cycle: cms.models -> cms.selectors -> cms.models

        context = super().get_context(request, *args, **kwargs)
        context.update(selectors.library_context(index_page=self, params=request.GET))
        return context


class ResourceTopicTag(TaggedItemBase):
    content_object = ParentalKey("cms.ResourcePage", on_delete=models.CASCADE, related_name="tagged_items")


RESOURCE_BLOCKS: list[tuple[str, blocks.Block]] = [
    ("heading", blocks.CharBlock(form_classname="title", max_length=120)),
    ("paragraph", blocks.RichTextBlock(features=["bold", "italic", "link", "ol", "ul", "h3", "h4"])),
    ("quote", blocks.BlockQuoteBlock()),
    ("image", ImageChooserBlock()),
    ("document", DocumentChooserBlock()),
    (
        "link",
        blocks.StructBlock(
            [("title", blocks.CharBlock(max_length=120)), ("url", blocks.URLBlock())], icon="link", label="Link"
        ),
    ),
]


class ResourceBodyField(StreamField):
    """The resource body. Rich text given as a plain HTML string (as the page's body was before it became
    a StreamField, e.g. ``ResourcePage(body="<p>…</p>")``) becomes one paragraph block."""

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str) and not value.lstrip().startswith(("[", "{")):
            value = [("paragraph", RichText(value))] if value.strip() else []
        return super().to_python(value)


class ResourcePage(Page):
    """A curated resource: article, video, external link, document or support service."""

    summary: models.CharField[str, str] = models.CharField(max_length=300, blank=True)
    resource_type: models.CharField[str, str] = models.CharField(
        max_length=10, choices=ResourceType.choices, default=ResourceType.ARTICLE
    )
    body = ResourceBodyField(RESOURCE_BLOCKS, blank=True, use_json_field=True)
    external_url: models.URLField[str, str] = models.URLField(
        max_length=500, blank=True, help_text="For videos, external links and support services: where it lives."
    )
    source: models.CharField[str, str] = models.CharField(
        max_length=200, blank=True, help_text="Who wrote or publishes it (an organisation or a person)."
    )
    source_url: models.URLField[str, str] = models.URLField(max_length=500, blank=True)
    reviewed_at: models.DateField[datetime.date | None, datetime.date | None] = models.DateField(
        null=True, blank=True, help_text="When the content was last checked."
    )
    reviewed_by: models.CharField[str, str] = models.CharField(
        max_length=200, blank=True, help_text="Who checked it, with their role (e.g. “Dr Ana Ruiz, neurologist”)."
    )
    conditions = ParentalManyToManyField("conditions.Condition", blank=True, related_name="+")
    topics = ClusterTaggableManager(through=ResourceTopicTag, blank=True)

    content_panels: list[Any] = [
        *Page.content_panels,
        FieldPanel("summary"),
        FieldPanel("resource_type"),
        FieldPanel("body"),
        FieldPanel("external_url"),
        MultiFieldPanel(
            [FieldPanel("source"), FieldPanel("source_url"), FieldPanel("reviewed_at"), FieldPanel("reviewed_by")],
            heading="Source and review",
        ),
        MultiFieldPanel([FieldPanel("conditions"), FieldPanel("topics")], heading="Conditions and topics"),
    ]
    search_fields: list[Any] = [
        *Page.search_fields,
        index.SearchField("summary"),
        index.SearchField("body"),
        index.SearchField("source"),
        index.FilterField("resource_type"),
    ]
    parent_page_types: list[str] = ["cms.ResourceIndexPage", "cms.CommunityHomePage", "wagtailcore.Page"]
    subpage_types: list[str] = []

    class Meta:
        verbose_name = "resource"

    @property
    def review_is_stale(self) -> bool:
        if self.reviewed_at is None:
            return True
        return (timezone.localdate() - self.reviewed_at).days > STALE_AFTER_DAYS


def _validate_time_zone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(f"“{value}” is not a time zone name such as Europe/Berlin.") from exc


class ExpertSessionPage(Page):
    """An expert Q&A: members ask and upvote before; the expert's answers are posted in the community
    (highlighted as the accepted answer) and kept here as the transcript."""

    expert_name: models.CharField[str, str] = models.CharField(max_length=120)
    expert_credentials: models.CharField[str, str] = models.CharField(max_length=200, blank=True)
    expert_bio: models.TextField[str, str] = models.TextField(blank=True)
    starts_at: models.DateTimeField[datetime.datetime, datetime.datetime] = models.DateTimeField()
    time_zone: models.CharField[str, str] = models.CharField(
        max_length=64, default="UTC", choices=TIME_ZONE_CHOICES, validators=[_validate_time_zone]
    )
    duration_minutes: models.PositiveSmallIntegerField[int, int] = models.PositiveSmallIntegerField(default=60)
    community: models.ForeignKey[Community | None, Community | None] = models.ForeignKey(
        "communities.Community", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The member who is the expert (optional): they may post the answers themselves. A plain key across
    # schemas, like every member key of a tenant table (erased with the member: cms/personal_data.py).
    expert_member: models.ForeignKey[Member | None, Member | None] = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_constraint=False,
        related_name="+",
        verbose_name="expert's account",
        help_text="Optional: a member of this site who is the expert. They can post the answers themselves; "
        "for a members-only community they must be able to read it.",
    )
    summary: models.CharField[str, str] = models.CharField(max_length=300, blank=True)
    questions_open: models.BooleanField[bool, bool] = models.BooleanField(
        default=True, help_text="Members may submit and upvote questions."
    )

    content_panels: list[Any] = [
        *Page.content_panels,
        FieldPanel("summary"),
        MultiFieldPanel(
            [
                FieldPanel("expert_name"),
                FieldPanel("expert_credentials"),
                FieldPanel("expert_bio"),
                FieldPanel("expert_member"),
            ],
            heading="Expert",
        ),
        MultiFieldPanel(
            [FieldPanel("starts_at"), FieldPanel("time_zone"), FieldPanel("duration_minutes")], heading="When"
        ),
        FieldPanel("community"),
        FieldPanel("questions_open"),
    ]
    search_fields: list[Any] = [*Page.search_fields, index.SearchField("expert_name"), index.SearchField("summary")]
    parent_page_types: list[str] = ["cms.CommunityHomePage", "wagtailcore.Page"]
    subpage_types: list[str] = []
    base_form_class = ExpertSessionPageForm

    class Meta:
        verbose_name = "expert Q&A session"

    @property
    def local_starts_at(self) -> Any:
        return timezone.localtime(self.starts_at, zoneinfo.ZoneInfo(self.time_zone or "UTC"))

    def serve(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        from cms import selectors  # noqa: PLC0415  # cycle: cms.models -> cms.selectors -> cms.models

        # Sessions of a community this reader can't read are not there for them (cms.selectors).
        preview = bool(getattr(request, "is_preview", False))
        member, tenant = request_member(request), request_tenant(request)
        if not selectors.can_read_session(member=member, tenant=tenant, session=self, preview=preview):
            raise Http404("No such expert session.")
        response: HttpResponse = super().serve(request, *args, **kwargs)
        return response

    def get_context(self, request: HttpRequest, *args: Any, **kwargs: Any) -> dict[str, Any]:
        from cms import selectors  # noqa: PLC0415  # cycle: cms.models -> cms.selectors -> cms.models

        context = super().get_context(request, *args, **kwargs)
        context.update(
            selectors.session_context(
                session=self,
                member=request_member(request),
                tenant=request_tenant(request),
                preview=bool(getattr(request, "is_preview", False)),
            )
        )
        return context


class QuestionStatus(models.TextChoices):
    OPEN = "open", "Waiting for the expert"
    ANSWERED = "answered", "Answered"
    HIDDEN = "hidden", "Hidden by a moderator"


class ExpertQuestion(models.Model):
    """A member's question for an expert session. Votes are counted in ``vote_count`` by the services."""

    session = models.ForeignKey(ExpertSessionPage, on_delete=models.CASCADE, related_name="questions")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, db_constraint=False, related_name="+"
    )
    body: models.TextField[str, str] = models.TextField()
    status: models.CharField[str, str] = models.CharField(
        max_length=8, choices=QuestionStatus.choices, default=QuestionStatus.OPEN
    )
    vote_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    answer_markdown: models.TextField[str, str] = models.TextField(blank=True)
    answer_html: models.TextField[str, str] = models.TextField(blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_constraint=False,
        related_name="+",
    )
    # The community topic where the answer was posted (a plain id: the topic may be removed later).
    topic_id_ref = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-vote_count", "created_at", "id"]
        indexes = [models.Index(fields=["session", "status", "-vote_count"], name="expert_question_rank")]

    def __str__(self) -> str:
        return f"question {self.pk} for session {self.session_id}"


class ExpertQuestionVote(models.Model):
    question = models.ForeignKey(ExpertQuestion, on_delete=models.CASCADE, related_name="votes")
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, db_constraint=False, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["question", "member"], name="one_vote_per_member_per_question")]

    def __str__(self) -> str:
        return f"vote on question {self.question_id}"
