"""Urgent risk of harm: crisis language in posts, urgent-risk flags, the risk matrix and the alert.

Risk matrix (``assess``), the highest row that applies wins:

| signal                                                                  | risk   |
| ----------------------------------------------------------------------- | ------ |
| a HIGH crisis term ("kill myself", "overdose"...)                       | high   |
| an urgent-risk flag on a post that also has any crisis term             | high   |
| two or more urgent-risk flags from different members                    | high   |
| a MEDIUM crisis term ("hurt myself", "chest pain"...)                   | medium |
| one urgent-risk flag                                                    | medium |
| a LOW crisis term ("hopeless"...) only                                  | low    |

What a risk does to a post (docs/moderation.md says the same for people, as a table):
- Crisis language never holds a post by itself: people in crisis must not be silenced or kept
  waiting. A post that is not held for another reason is published as written.
- A post held for another reason stays held: a new member's first posts in a pre-moderated community
  (and posts with a HOLD watched word or recruiting language) wait for a moderator whatever their
  risk, because others must not read what nobody has checked. The risk only changes how fast
  someone looks: the alert below says so at once.
- Either way, any risk puts the post's review item at the top of the queue (risk first, then age)
  and shows its author the tenant's crisis resources while the item is open. At medium or high risk
  the tenant's on-call moderators (all its moderators and admins if nobody is on call) are emailed
  at once by a Celery task, once per review item.
- An author's edit is rated the same way (``assess_edit``: title and body of an opening post, with the
  post's open urgent-risk flags), against the text before the edit: only a higher risk than before
  queues the post, and a newly reached medium or high risk alerts the on-call moderators again. An
  edit that keeps or lowers the risk changes nothing (the moderators were already told).
- Urgent-risk flags raise the item's risk by the same matrix (``communities.moderation.flag_post``).
"""

from __future__ import annotations

from django.db import connection, transaction
from django.db.models import Count, Max
from django.utils import timezone
from django_tenants.utils import tenant_context

from communities.emails import email_on_call_moderators
from communities.models import CrisisTerm, Flag, FlagReason, OnCallModerator, Post, ReviewItem, ReviewStatus, RiskLevel
from communities.tasks import send_crisis_alert
from communities.watched import Rule, RuleSet, compile_source
from members.models import Member, MembershipRole, TenantMembership
from tenants.models import Tenant

CRISIS_REASON = "crisis_language"
_cache: dict[str, tuple[tuple[object, ...], RuleSet, dict[str, int]]] = {}


def _rules() -> tuple[RuleSet, dict[str, int]]:
    schema = connection.schema_name  # type: ignore[attr-defined]
    stamp = CrisisTerm.objects.aggregate(count=Count("id"), top=Max("id"), risk=Max("risk"))
    key = (stamp["count"], stamp["top"], stamp["risk"])
    cached = _cache.get(schema)
    if cached is not None and cached[0] == key:
        return cached[1], cached[2]
    terms = list(CrisisTerm.objects.order_by("id"))
    rules = [
        Rule(source=compile_source(pattern=t.phrase, is_regex=False), action="flag", label=t.phrase) for t in terms
    ]
    ruleset, risks = RuleSet(rules), {t.phrase: t.risk for t in terms}
    _cache[schema] = (key, ruleset, risks)
    return ruleset, risks


def term_risk(text: str) -> int:
    """The highest risk of the crisis terms in ``text`` (0: none)."""
    ruleset, risks = _rules()
    return max((risks.get(label, 0) for label in ruleset.screen(text).matched), default=RiskLevel.NONE)


def assess(*, text: str, urgent_flags: int = 0) -> int:
    """The risk matrix of the module docstring."""
    terms = term_risk(text)
    if terms == RiskLevel.HIGH or (urgent_flags and terms) or urgent_flags >= 2:
        return RiskLevel.HIGH
    if terms == RiskLevel.MEDIUM or urgent_flags == 1:
        return RiskLevel.MEDIUM
    return terms


def assess_edit(*, post: Post, old_text: str, new_text: str) -> tuple[int, int]:
    """The risk of a post's text before and after its author's edit, by the same matrix (the post's
    open urgent-risk flags count): the edit raises the risk only when the second is higher."""
    urgent = Flag.objects.filter(post_id=post.pk, reason=FlagReason.URGENT_RISK, resolved_at__isnull=True).count()
    return assess(text=old_text, urgent_flags=urgent), assess(text=new_text, urgent_flags=urgent)


def alert_on_call(*, tenant: Tenant, item_id: int) -> None:
    """After commit, a worker emails the on-call moderators about this review item (once)."""

    def enqueue() -> None:
        with tenant_context(tenant):
            send_crisis_alert.delay(item_id)

    transaction.on_commit(enqueue)


def on_call_recipients(*, tenant: Tenant) -> list[Member]:
    """The on-call moderators still moderating here; everyone who moderates if nobody is on call."""
    moderating = TenantMembership.objects.filter(
        tenant_id=tenant.pk, role__in=(MembershipRole.MODERATOR, MembershipRole.ADMIN)
    ).values_list("member_id", flat=True)
    on_call = OnCallModerator.objects.filter(member_id__in=list(moderating)).values_list("member_id", flat=True)
    ids = list(on_call) or list(moderating)
    return list(Member.objects.filter(pk__in=ids, is_active=True).order_by("pk"))


def deliver_crisis_alert(*, tenant: Tenant, item_id: int) -> int:
    """Email the on-call moderators about an urgent review item, once (a retried task sends nothing
    new: the item is claimed with a row lock and stamped in the same transaction). Returns emails sent."""
    with transaction.atomic():
        item = (
            ReviewItem.objects.select_for_update(of=("self",))
            .select_related("post__topic", "community")
            .filter(pk=item_id, alerted_at__isnull=True, status=ReviewStatus.OPEN)
            .first()
        )
        if item is None:
            return 0
        recipients = on_call_recipients(tenant=tenant)
        email_on_call_moderators(
            tenant=tenant,
            recipients=recipients,
            community_name=item.community.name,
            topic_title=item.post.topic.title,
            risk=item.get_risk_display().lower(),
        )
        ReviewItem.objects.filter(pk=item.pk).update(alerted_at=timezone.now())
    return len(recipients)
