"""A partner's condition-specific forums (tenant schema).

Authors and recipients are public ``members.Member`` rows referenced across schemas. Counters
(replies, reactions) are kept by the services in the same transaction as the rows they count, so
list pages never aggregate.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import BrinIndex, GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q


class Visibility(models.TextChoices):
    OPEN = "open", "Open: readable by anyone"
    MEMBERS_ONLY = "members", "Members only"


class JoiningPolicy(models.TextChoices):
    OPEN = "open", "Anyone may join"
    APPROVAL = "approval", "Moderators approve requests"


class Community(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    rules = models.TextField(blank=True)
    conditions = models.ManyToManyField("conditions.Condition", blank=True, related_name="+")
    visibility = models.CharField(max_length=8, choices=Visibility.choices, default=Visibility.MEMBERS_ONLY)
    joining_policy = models.CharField(max_length=8, choices=JoiningPolicy.choices, default=JoiningPolicy.OPEN)
    listed_in_directory = models.BooleanField(
        default=True, help_text="Show name, description and conditions in the platform's community directory."
    )
    premoderated_posts = models.PositiveSmallIntegerField(
        default=2,
        help_text="How many of a member's first posts here wait for a moderator before others see them (0: none).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "communities"
        permissions = [("moderate_community", "Can moderate communities")]

    def __str__(self) -> str:
        return self.name


class CommunityMembershipStatus(models.TextChoices):
    ACTIVE = "active", "Member"
    PENDING = "pending", "Waiting for approval"


class CommunityMembership(models.Model):
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="memberships")
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, db_constraint=False, related_name="+"
    )
    status = models.CharField(
        max_length=8, choices=CommunityMembershipStatus.choices, default=CommunityMembershipStatus.ACTIVE
    )
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["community", "member"], name="one_membership_per_community")]
        indexes = [models.Index(fields=["member", "status"])]

    def __str__(self) -> str:
        return f"member {self.member_id} in {self.community_id} ({self.status})"


class TagKind(models.TextChoices):
    TOPIC = "topic", "Topic"
    SYMPTOM = "symptom", "Symptom"
    TREATMENT = "treatment", "Treatment"


class TagStatus(models.TextChoices):
    CURATED = "curated", "Curated"
    PROPOSED = "proposed", "Proposed by a member"
    MERGED = "merged", "Merged into another tag"


class Tag(models.Model):
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="tags")
    kind = models.CharField(max_length=10, choices=TagKind.choices)
    name = models.CharField(max_length=60)
    slug = models.SlugField(max_length=60)
    status = models.CharField(max_length=8, choices=TagStatus.choices, default=TagStatus.CURATED)
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_constraint=False,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "name"]
        constraints = [models.UniqueConstraint(fields=["community", "kind", "slug"], name="unique_tag_per_community")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.name}"


class TopicKind(models.TextChoices):
    QUESTION = "question", "Question"
    UPDATE = "update", "Update"


class ContentStatus(models.TextChoices):
    """Who sees a post (and, for its opening post, a topic). One rule reads it:
    communities.selectors.visible_posts / visible_topics."""

    PUBLISHED = "published", "Published"
    HELD = "held", "Awaiting review"
    HIDDEN = "hidden", "Hidden pending a moderator"


class TopicManager(models.Manager["Topic"]):
    def get_queryset(self) -> models.QuerySet[Topic]:
        # The search vector is only ever read inside SQL (matching and ranking); loading it with every
        # topic of a list would move kilobytes per row for nothing.
        return super().get_queryset().defer("search_vector")


class Topic(models.Model):
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="topics")
    kind = models.CharField(max_length=8, choices=TopicKind.choices)
    title = models.CharField(max_length=200)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, db_constraint=False, related_name="+"
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="topics")
    created_at = models.DateTimeField(auto_now_add=True)
    last_activity_at = models.DateTimeField(auto_now_add=True)
    reply_count = models.PositiveIntegerField(default=0)
    reaction_count = models.PositiveIntegerField(default=0)
    answer = models.ForeignKey("Post", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    deleted_at = models.DateTimeField(null=True, blank=True)
    # Title, tags and opening post, kept by communities.search.refresh_search_vectors.
    search_vector = SearchVectorField(null=True, editable=False)
    # A discussion of one clinical trial (trials.Trial.nct_id): one live topic per trial per community.
    trial_nct_id = models.CharField(max_length=11, null=True, blank=True)
    # The opening post's status, copied here by the services so lists filter topics without a join.
    status = models.CharField(max_length=10, choices=ContentStatus.choices, default=ContentStatus.PUBLISHED)
    locked_at = models.DateTimeField(null=True, blank=True)
    # Slow mode (communities.safety): each member may post here once per this many minutes (0: off).
    slow_mode_minutes = models.PositiveSmallIntegerField(default=0)

    objects = TopicManager()

    class Meta:
        ordering = ["-last_activity_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "trial_nct_id"],
                condition=Q(trial_nct_id__isnull=False, deleted_at__isnull=True),
                name="one_discussion_per_trial_per_community",
            ),
        ]
        indexes = [
            GinIndex(fields=["search_vector"], name="topic_search"),
            models.Index(fields=["trial_nct_id"], name="topic_trial", condition=Q(trial_nct_id__isnull=False)),
            models.Index(fields=["community", "-last_activity_at", "-id"], name="topic_community_activity"),
            models.Index(fields=["-last_activity_at", "-id"], name="topic_activity"),
            models.Index(
                fields=["community", "-created_at"],
                name="topic_unanswered",
                condition=Q(kind="question", reply_count=0, deleted_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return self.title


class PostManager(models.Manager["Post"]):
    def get_queryset(self) -> models.QuerySet[Post]:
        # Like the topic's, the post's search vector is only read inside SQL.
        return super().get_queryset().defer("search_vector")


class Post(models.Model):
    """The opening post of a topic or a reply. Deleting is soft: moderators can see and restore."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="posts")
    # The topic's community, copied at creation (topics never move): search's community filter then
    # combines an index on (community, id) with the text index instead of joining every match.
    community = models.ForeignKey(
        Community, null=True, blank=True, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    # The topic's kind and whether it has an accepted answer, copied too (the services keep them: a topic
    # never changes kind, mark_answer sets the flag on all its posts): search's kind and answered filters
    # then read the post's own row while walking candidates, with no join per post.
    topic_kind = models.CharField(max_length=8, blank=True, default="", db_default="", editable=False)
    topic_answered = models.BooleanField(default=False, db_default=False, editable=False)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, db_constraint=False, related_name="+"
    )
    is_opening = models.BooleanField(default=False)
    quoted_post = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    body_markdown = models.TextField()
    body_html = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    edit_count = models.PositiveSmallIntegerField(default=0)
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_constraint=False,
        related_name="+",
    )
    helpful_count = models.PositiveIntegerField(default=0)
    same_here_count = models.PositiveIntegerField(default=0)
    support_count = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=10, choices=ContentStatus.choices, default=ContentStatus.PUBLISHED)
    # Shown to the author (and moderators) while the post is hidden.
    hidden_reason = models.CharField(max_length=500, blank=True)
    # Sum of the weights of its open flags; at the tenant's threshold the post is hidden.
    flag_weight = models.PositiveIntegerField(default=0)
    misinformation_note = models.CharField(max_length=500, blank=True)
    misinformation_url = models.URLField(max_length=500, blank=True)
    # Body (and, on an opening post, the topic's title and tags); NULL while removed. Kept by
    # communities.search.index_posts in the same transaction as every write that changes it.
    search_vector = SearchVectorField(null=True, editable=False)

    objects = PostManager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            GinIndex(fields=["search_vector"], name="post_search"),
            # Ids follow posting order and posts are appended: a BRIN index turns search's "newest posts"
            # id range into a bitmap in about a millisecond, to AND with the text index (a B-tree range of
            # 200,000 ids took ~30 ms to become a bitmap). 8 pages per range, not the default 128: the
            # planner then ANDs the text index's exact bitmap first and only matching rows are read;
            # with the cheaper default it went first and made every matching page lossy (all its rows
            # rechecked: 24,000 instead of 450 for "constant thirst").
            BrinIndex(fields=["id"], name="post_id_brin", pages_per_range=8),
            models.Index(fields=["community", "id"], name="post_community"),
            models.Index(fields=["topic", "created_at", "id"], name="post_topic_order"),
            models.Index(fields=["author", "-created_at"], name="post_author_recent"),
        ]

    def __str__(self) -> str:
        return f"post {self.pk} in topic {self.topic_id}"


class PostRevision(models.Model):
    """Earlier text of an edited post, shown to moderators."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="revisions")
    body_markdown = models.TextField()
    body_html = models.TextField()
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, db_constraint=False, related_name="+"
    )
    replaced_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-replaced_at"]

    def __str__(self) -> str:
        return f"revision of post {self.post_id}"


class ReactionKind(models.TextChoices):
    HELPFUL = "helpful", "Helpful"
    SAME_HERE = "same_here", "Same here"
    SENDING_SUPPORT = "support", "Sending support"


class Reaction(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="reactions")
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, db_constraint=False, related_name="+"
    )
    kind = models.CharField(max_length=10, choices=ReactionKind.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "member", "kind"], name="one_reaction_of_a_kind")]

    def __str__(self) -> str:
        return f"{self.kind} on post {self.post_id}"


class WatchLevel(models.TextChoices):
    WATCHING = "watching", "Watching: every new post"
    TRACKING = "tracking", "Tracking: replies to me and mentions"
    NORMAL = "normal", "Normal"
    MUTED = "muted", "Muted"


class TopicSubscription(models.Model):
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="subscriptions")
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, db_constraint=False, related_name="+"
    )
    level = models.CharField(max_length=8, choices=WatchLevel.choices, default=WatchLevel.WATCHING)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["topic", "member"], name="one_topic_subscription")]
        indexes = [models.Index(fields=["member", "level"])]

    def __str__(self) -> str:
        return f"member {self.member_id} {self.level} topic {self.topic_id}"


class CommunitySubscription(models.Model):
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="subscriptions")
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, db_constraint=False, related_name="+"
    )
    level = models.CharField(max_length=8, choices=WatchLevel.choices, default=WatchLevel.TRACKING)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["community", "member"], name="one_community_subscription")]
        indexes = [models.Index(fields=["member", "level"])]

    def __str__(self) -> str:
        return f"member {self.member_id} {self.level} community {self.community_id}"


class NotificationKind(models.TextChoices):
    REPLY = "reply", "Reply to your topic"
    QUOTE = "quote", "Reply quoting your post"
    MENTION = "mention", "Mention"
    ANSWER = "answer", "Answer to a question you follow"
    WATCHED = "watched", "New post in something you watch"
    MODERATION = "moderation", "Moderation decision"


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, db_constraint=False, related_name="+"
    )
    kind = models.CharField(max_length=10, choices=NotificationKind.choices)
    topic = models.ForeignKey(Topic, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    post = models.ForeignKey(Post, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    # A notice about a community rather than a post (a join request decided) links to the community.
    community = models.ForeignKey(Community, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_constraint=False,
        related_name="+",
    )
    message = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One notification per recipient, post and kind: a retried task never notifies twice.
            models.UniqueConstraint(fields=["recipient", "post", "kind"], name="one_notification_per_post_kind"),
        ]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notification_inbox"),
            models.Index(fields=["recipient"], name="notification_unread", condition=Q(read_at__isnull=True)),
            models.Index(fields=["recipient"], name="notification_unemailed", condition=Q(emailed_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for member {self.recipient_id}"


class ModerationActionKind(models.TextChoices):
    POST_REMOVED = "post_removed", "Post removed"
    POST_RESTORED = "post_restored", "Post restored"
    POST_APPROVED = "post_approved", "Post approved"
    POST_HIDDEN = "post_hidden", "Post hidden"
    AUTO_HIDDEN = "auto_hidden", "Post hidden by flags"
    POST_EDITED = "post_edited", "Post edited by a moderator"
    TOPIC_MOVED = "topic_moved", "Topic moved"
    TOPIC_LOCKED = "topic_locked", "Topic locked"
    MISINFORMATION = "misinformation", "Marked as misinformation"
    ESCALATED = "escalated", "Escalated to the site's administrators"
    RULES_CHANGED = "rules_changed", "Moderation rules changed"
    JOIN_APPROVED = "join_approved", "Join request approved"
    JOIN_REFUSED = "join_refused", "Join request refused"
    TAG_CURATED = "tag_curated", "Tag curated"
    TAG_MERGED = "tag_merged", "Tags merged"
    MEMBER_SILENCED = "member_silenced", "Member silenced"
    MEMBER_SUSPENDED = "member_suspended", "Member suspended"
    RESTRICTION_LIFTED = "restriction_lift", "Silence or suspension lifted"
    TRUST_CHANGED = "trust_changed", "Trust level set by a moderator"
    TRUST_AUTOMATIC = "trust_auto", "Trust level changed by the rules"
    SLOW_MODE = "slow_mode", "Slow mode changed"
    ROLE_CHANGED = "role_changed", "Moderator added or removed"


class ModerationAction(models.Model):
    """The append-only record of every moderation decision in this tenant: who, what, when, why.

    Written only by the communities services, in the same transaction as the decision; nothing
    updates or deletes a row (erasing a member clears the member references and keeps the decision).
    Object references are plain ids so the record outlives the post, tag or membership it names.
    """

    kind = models.CharField(max_length=16, choices=ModerationActionKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, db_constraint=False, related_name="+"
    )
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_constraint=False,
        related_name="+",
        help_text="The member the decision is about (the post's author, the person asking to join).",
    )
    community = models.ForeignKey(Community, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    topic_id_ref = models.BigIntegerField(null=True, blank=True)
    post_id_ref = models.BigIntegerField(null=True, blank=True)
    tag_id_ref = models.BigIntegerField(null=True, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    summary = models.CharField(max_length=300)
    # The post's text before and after the decision (an edit, or what a hidden post said).
    before_text = models.TextField(blank=True)
    after_text = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["subject", "-created_at"], name="moderation_about_member")]

    def __str__(self) -> str:
        return f"{self.kind} by member {self.actor_id}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValueError("Moderation actions are append-only.")
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class FlagReason(models.TextChoices):
    SPAM = "spam", "Spam"
    MISINFORMATION = "misinformation", "Misinformation"
    HARASSMENT = "harassment", "Harassment or abuse"
    OFF_TOPIC = "off_topic", "Off-topic"
    PRIVACY = "privacy", "Privacy (someone's personal details)"
    URGENT_RISK = "urgent_risk", "Urgent risk of harm (self-harm, medical emergency)"
    OTHER = "other", "Something else"


class Flag(models.Model):
    """A member's report of a post (a topic is flagged through its opening post). One per member per post."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="flags")
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, db_constraint=False, related_name="+"
    )
    reason = models.CharField(max_length=16, choices=FlagReason.choices)
    text = models.CharField(max_length=500, blank=True)
    weight = models.PositiveSmallIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["post", "member"], name="one_flag_per_member_per_post")]

    def __str__(self) -> str:
        return f"{self.reason} flag on post {self.post_id}"


class ReviewStatus(models.TextChoices):
    OPEN = "open", "Waiting for a moderator"
    DECIDED = "decided", "Decided"


class RiskLevel(models.IntegerChoices):
    NONE = 0, "None"
    LOW = 1, "Low"
    MEDIUM = 2, "Medium"
    HIGH = 3, "High"


class ReviewItem(models.Model):
    """A post waiting in the tenant's review queue: held by pre-moderation, or flagged.
    At most one open item per post; flags and holds of the same post join it."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="review_items")
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=8, choices=ReviewStatus.choices, default=ReviewStatus.OPEN)
    held = models.BooleanField(default=False, help_text="Pre-moderation: nobody else has seen it yet.")
    reasons = models.JSONField(default=list, help_text="Flag reasons so far (for filtering).")
    risk = models.PositiveSmallIntegerField(choices=RiskLevel.choices, default=RiskLevel.NONE)
    escalated = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_constraint=False,
        related_name="+",
    )
    decision = models.CharField(max_length=16, blank=True)
    # When the on-call moderators were emailed about it (once per item).
    alerted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-risk", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["post"], condition=Q(status="open"), name="one_open_review_per_post")
        ]
        indexes = [models.Index(fields=["status", "-risk", "created_at"], name="review_queue_order")]

    def __str__(self) -> str:
        return f"review of post {self.post_id} ({self.status})"


class ModerationSettings(models.Model):
    """This tenant's moderation knobs (one row, created on first read)."""

    flag_threshold = models.PositiveSmallIntegerField(
        default=3, help_text="Flag weight at which a post is hidden until a moderator decides."
    )
    new_member_posts = models.PositiveSmallIntegerField(
        default=3, help_text="A member is new here until this many of their posts are published."
    )
    new_members_may_link = models.BooleanField(default=False, help_text="May new members post links?")
    link_allowed_domains = models.TextField(
        blank=True, help_text="One domain per line; when any are listed, links elsewhere are refused."
    )
    link_denied_domains = models.TextField(blank=True, help_text="One domain per line; links there are refused.")
    # Trust ladder (communities.trust): what promotes a member, what limits a new one, what a flag weighs.
    trust_requirements = models.JSONField(
        default=dict, blank=True, help_text="Overrides of communities.trust.DEFAULT_REQUIREMENTS."
    )
    new_max_links = models.PositiveSmallIntegerField(default=2, help_text="Links per post for new members.")
    new_max_images = models.PositiveSmallIntegerField(default=0, help_text="Images per post for new members.")
    new_max_mentions = models.PositiveSmallIntegerField(default=2, help_text="@mentions per post for new members.")
    new_topics_per_day = models.PositiveSmallIntegerField(default=3, help_text="Topics per day for new members.")
    trusted_flag_weight = models.PositiveSmallIntegerField(
        default=2, help_text="What a trusted member's flag counts for (a leader's hides at once)."
    )
    demote_after_upheld_flags = models.PositiveSmallIntegerField(
        default=2, help_text="Each this many upheld flags against a member's posts (last 180 days) costs one level."
    )
    crisis_resources = models.TextField(
        default=(
            "If you or someone else is in immediate danger, call your local emergency number "
            "(112 in Europe, 911 in the US and Canada, 999 in the UK).\n"
            "US: 988 Suicide & Crisis Lifeline, call or text 988.\n"
            "UK and Ireland: Samaritans, call 116 123 (free, any time).\n"
            "Elsewhere: find a free, confidential helpline at https://findahelpline.com"
        ),
        help_text="Shown to a member whose post looks like a crisis; one resource per line.",
    )

    class Meta:
        verbose_name_plural = "moderation settings"

    def __str__(self) -> str:
        return "moderation settings"


class WatchedWordAction(models.TextChoices):
    BLOCK = "block", "Block the post (with a message)"
    HOLD = "hold", "Hold the post for review"
    FLAG = "flag", "Publish, and flag for review"
    CENSOR = "censor", "Replace the words with ****"
    REPLACE = "replace", "Replace with other text"


class WatchedWord(models.Model):
    """A word, phrase or RE2 regular expression a tenant watches for in posts (communities.watched)."""

    pattern = models.CharField(max_length=300)
    is_regex = models.BooleanField(default=False)
    action = models.CharField(max_length=8, choices=WatchedWordAction.choices)
    replacement = models.CharField(max_length=200, blank=True)
    message = models.CharField(max_length=300, blank=True, help_text="Shown to the author of a blocked post.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_constraint=False,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["action", "pattern"]
        constraints = [
            models.UniqueConstraint(fields=["pattern", "is_regex", "action"], name="one_watched_word_per_action")
        ]

    def __str__(self) -> str:
        return f"{self.action}: {self.pattern}"


class CrisisTerm(models.Model):
    """A word or phrase of crisis language (communities.crisis rates posts with these)."""

    phrase = models.CharField(max_length=200, unique=True)
    risk = models.PositiveSmallIntegerField(choices=[c for c in RiskLevel.choices if c[0]], default=RiskLevel.MEDIUM)

    class Meta:
        ordering = ["-risk", "phrase"]

    def __str__(self) -> str:
        return self.phrase


class OnCallModerator(models.Model):
    """A moderator emailed at once about posts that may show an urgent risk of harm."""

    member = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, db_constraint=False, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"on call: member {self.member_id}"


class SearchSynonym(models.Model):
    """A partner's own group of words that mean the same in search ("MTX", "methotrexate").

    Adds to the condition taxonomy's names and synonyms; partner admins edit them under /manage/.
    """

    terms = ArrayField(models.CharField(max_length=80), help_text="Two or more words or phrases that mean the same.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        indexes = [GinIndex(fields=["terms"], name="synonym_terms")]

    def __str__(self) -> str:
        return " = ".join(self.terms)


class SearchTerm(models.Model):
    """The partner's vocabulary, word by word and community by community, for "did you mean".

    Per community so a suggestion never reveals a word of a community the searcher cannot read.
    """

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    word = models.CharField(max_length=60)
    ndoc = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["community", "word"], name="one_search_term_per_community")]
        indexes = [GinIndex(fields=["word"], opclasses=["gin_trgm_ops"], name="search_term_trgm")]

    def __str__(self) -> str:
        return self.word


class TrustLevel(models.IntegerChoices):
    NEW = 0, "New"
    MEMBER = 1, "Member"
    TRUSTED = 2, "Trusted"
    LEADER = 3, "Leader"


class TrustLevelName(models.TextChoices):
    """The levels as the API and forms name them."""

    NEW = "new", "New"
    MEMBER = "member", "Member"
    TRUSTED = "trusted", "Trusted"
    LEADER = "leader", "Leader"


class MemberTrust(models.Model):
    """A member's rung on this tenant's trust ladder (communities.trust). No row: new."""

    member = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, db_constraint=False, related_name="+"
    )
    level = models.PositiveSmallIntegerField(choices=TrustLevel.choices, default=TrustLevel.NEW)
    # Set by a moderator: the rules no longer move it.
    locked = models.BooleanField(default=False)
    posts_read = models.PositiveIntegerField(default=0)
    evaluated_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["level"], name="member_trust_level")]

    def __str__(self) -> str:
        return f"member {self.member_id}: {self.get_level_display()}"


class TopicRead(models.Model):
    """How many posts of a topic a member has seen (the trust ladder's "posts read")."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, db_constraint=False, related_name="+"
    )
    posts_seen = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["topic", "member"], name="one_topic_read")]

    def __str__(self) -> str:
        return f"member {self.member_id} read {self.posts_seen} in topic {self.topic_id}"


class RestrictionKind(models.TextChoices):
    SILENCED = "silenced", "Silenced: can read, cannot post, reply or react"
    SUSPENDED = "suspended", "Suspended: cannot take part in this site"


class MemberRestriction(models.Model):
    """A moderator silenced or suspended a member in this tenant until ``ends_at`` (None: until lifted).

    The member keeps their data, can sign in, read their own posts and notifications and export their
    data; communities.safety says what each kind refuses."""

    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, db_constraint=False, related_name="+"
    )
    kind = models.CharField(max_length=10, choices=RestrictionKind.choices)
    reason = models.CharField(max_length=500)
    starts_at = models.DateTimeField(auto_now_add=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_constraint=False,
        related_name="+",
    )
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_constraint=False,
        related_name="+",
    )

    class Meta:
        ordering = ["-starts_at", "-id"]
        indexes = [models.Index(fields=["member", "lifted_at"], name="restriction_member")]

    def __str__(self) -> str:
        return f"{self.kind} member {self.member_id}"
