"""Watched words and link rules: what a tenant checks every post against before it is saved.

Patterns are words/phrases (matched as whole words, case-insensitive) or regular expressions in
RE2 syntax (google-re2). RE2 runs in time linear in the text whatever the pattern, so no pattern can
stall posting by catastrophic backtracking (``(a+)+$`` is harmless); features that would need
backtracking (back-references, look-arounds) are refused when the pattern is saved, with the reason.

All of a tenant's patterns are compiled into one RE2 set, which finds every matching pattern in a
single pass over the text; only the patterns that matched run again to censor or replace. The
compiled set is cached per tenant schema and rebuilt when the list changes.

Outcome of a check (strongest first): BLOCK refuses the post with the rule's message; HOLD keeps it
for review before anyone else sees it; FLAG publishes it and puts it in the review queue; CENSOR and
REPLACE rewrite the matched words. Link rules: new members (fewer than ``new_member_posts``
published posts in this tenant) may not post links unless the tenant allows it; links to a denied
domain are refused; when allowed domains are listed, links elsewhere are refused. Moderators are
exempt from link rules, not from watched words.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import re2
from django.db import connection
from django.db.models import Count, Max

from communities import recruiting
from communities.models import ContentStatus, ModerationSettings, Post, WatchedWord, WatchedWordAction
from communities.permissions import can_moderate
from communities.selectors import moderation_settings
from core.errors import InvalidInput
from members.models import Member
from tenants.models import Tenant

PATTERN_MAX = 300
ACTION_STRENGTH = {
    WatchedWordAction.BLOCK: 4,
    WatchedWordAction.HOLD: 3,
    WatchedWordAction.FLAG: 2,
    WatchedWordAction.CENSOR: 1,
    WatchedWordAction.REPLACE: 1,
}
DEFAULT_BLOCK_MESSAGE = "Your post contains words this community does not allow. Please rephrase it."
WATCHED_WORD_REASON = "watched_word"
# Links as people type them: with a scheme, or starting with www.
LINK_RE = re2.compile(r"(?i)\b(?:https?://|www\.)([a-z0-9][a-z0-9.\-]*[a-z0-9])")


def _options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False  # a refused pattern is the moderator's typo, not a server error
    options.max_mem = 64 << 20
    return options


class PatternInvalid(InvalidInput):
    code = "pattern_invalid"


def compile_source(*, pattern: str, is_regex: bool) -> str:
    """The RE2 source of a watched word, or PatternInvalid saying why it can't be used."""
    pattern = (pattern or "").strip()
    if not pattern:
        raise PatternInvalid("Enter a word, phrase or pattern.", details={"pattern": ["Required."]})
    if len(pattern) > PATTERN_MAX:
        raise PatternInvalid(f"At most {PATTERN_MAX} characters.", details={"pattern": [f"≤ {PATTERN_MAX}."]})
    if is_regex:
        source = f"(?i:{pattern})"
    else:
        # Whole words only where the phrase starts/ends with a letter or digit (RE2's \b is ASCII).
        start = r"\b" if pattern[0].isascii() and pattern[0].isalnum() else ""
        end = r"\b" if pattern[-1].isascii() and pattern[-1].isalnum() else ""
        # Any run of spaces between the words of a phrase matches ("miracle   cure").
        phrase = r"\s+".join(re2.escape(word) for word in pattern.split())
        source = f"(?i:{start}{phrase}{end})"
    try:
        re2.compile(source, options=_options())
    except re2.error as error:
        detail = error.args[0].decode() if error.args and isinstance(error.args[0], bytes) else str(error)
        raise PatternInvalid(
            f"That regular expression can't be used: {detail}. Patterns use RE2 syntax, which has no "
            "back-references or look-arounds (so no pattern can slow posting down).",
            details={"pattern": [detail]},
        ) from error
    return source


@dataclass(frozen=True)
class Rule:
    source: str
    action: str
    replacement: str = ""
    message: str = ""
    label: str = ""


@dataclass
class Screening:
    """What the rules made of a text."""

    text: str
    blocked: str = ""
    hold: bool = False
    flag: bool = False
    matched: list[str] = field(default_factory=list)


class RuleSet:
    """Compiled rules: one RE2 set to find which match, one regexp per rule to rewrite."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = list(rules)
        self._set: re2.Set | None = None
        self._compiled: list[re2._Regexp] = []
        if self.rules:
            self._set = re2.Set.SearchSet(_options())
            for rule in self.rules:
                self._set.Add(rule.source)
            self._set.Compile()
            self._compiled = [re2.compile(rule.source, options=_options()) for rule in self.rules]

    def screen(self, text: str) -> Screening:
        result = Screening(text=text)
        if self._set is None or not text:
            return result
        hits = self._set.Match(text) or []
        for index in sorted(hits, key=lambda i: -ACTION_STRENGTH[WatchedWordAction(self.rules[i].action)]):
            rule = self.rules[index]
            result.matched.append(rule.label or rule.source)
            if rule.action == WatchedWordAction.BLOCK and not result.blocked:
                result.blocked = rule.message or DEFAULT_BLOCK_MESSAGE
            elif rule.action == WatchedWordAction.HOLD:
                result.hold = True
            elif rule.action == WatchedWordAction.FLAG:
                result.flag = True
            elif rule.action == WatchedWordAction.CENSOR:
                result.text = self._compiled[index].sub(lambda match: "*" * len(match.group(0)), result.text)
            elif rule.action == WatchedWordAction.REPLACE:
                result.text = self._compiled[index].sub(
                    lambda match, text=rule.replacement: text,
                    result.text,
                )
        return result


_cache: dict[str, tuple[tuple[object, ...], RuleSet]] = {}
_cache_lock = threading.Lock()


def rules_from(words: Iterable[WatchedWord]) -> list[Rule]:
    return [
        Rule(
            source=compile_source(pattern=word.pattern, is_regex=word.is_regex),
            action=word.action,
            replacement=word.replacement,
            message=word.message,
            label=word.pattern,
        )
        for word in words
    ]


def tenant_rules() -> RuleSet:
    """This schema's rule set, rebuilt only when its watched words changed (one small query)."""
    schema = connection.schema_name  # type: ignore[attr-defined]
    stamp = WatchedWord.objects.aggregate(count=Count("id"), last=Max("updated_at"), top=Max("id"))
    key = (stamp["count"], stamp["last"], stamp["top"])
    cached = _cache.get(schema)
    if cached is not None and cached[0] == key:
        return cached[1]
    ruleset = RuleSet(rules_from(WatchedWord.objects.order_by("id")))
    with _cache_lock:
        _cache[schema] = (key, ruleset)
    return ruleset


def _domains(text: str) -> list[str]:
    return [line.strip().lower().lstrip(".") for line in text.splitlines() if line.strip()]


def _on(host: str, domains: list[str]) -> bool:
    return any(host == domain or host.endswith(f".{domain}") for domain in domains)


def link_refusal(*, member: Member, tenant: Tenant, text: str, settings_row: ModerationSettings) -> str:
    """Why a text's links are refused for this member, or "" if they are fine."""
    hosts = [match.group(1).lower() for match in LINK_RE.finditer(text)]
    if not hosts or can_moderate(member=member, tenant=tenant):
        return ""
    if not settings_row.new_members_may_link:
        published = Post.objects.filter(author_id=member.pk, status=ContentStatus.PUBLISHED).count()
        if published < settings_row.new_member_posts:
            return "New members can't post links yet. Please describe the page instead, or ask a moderator."
    denied = _domains(settings_row.link_denied_domains)
    allowed = _domains(settings_row.link_allowed_domains)
    for host in hosts:
        if _on(host, denied) or (allowed and not _on(host, allowed)):
            return f"Links to {host} are not allowed here."
    return ""


@dataclass
class PostScreening:
    title: str
    body: str
    hold: bool
    flag: bool
    matched: list[str]
    # Looks like unapproved recruiting (communities.recruiting): held for review.
    recruiting: bool = False
    # A HOLD watched word matched (``hold`` is also true for recruiting).
    word_hold: bool = False


def screen_post(
    *, member: Member, tenant: Tenant, body: str, title: str = "", check_links: bool = True
) -> PostScreening:
    """Check a new or edited post (its title too) against the tenant's rules; BLOCK and refused links
    raise InvalidInput with the message for the author, so nothing is saved."""
    ruleset = tenant_rules()
    screened_body = ruleset.screen(body)
    screened_title = ruleset.screen(title) if title else Screening(text=title)
    blocked = screened_body.blocked or screened_title.blocked
    if blocked:
        raise InvalidInput(blocked, code="blocked_by_watched_word", details={"body": [blocked]})
    refusal = (
        link_refusal(member=member, tenant=tenant, text=f"{title}\n{body}", settings_row=moderation_settings())
        if check_links
        else ""
    )
    if refusal:
        raise InvalidInput(refusal, code="link_not_allowed", details={"body": [refusal]})
    # Platform text (check_links off) and moderators' posts are not screened for recruiting.
    is_recruiting = (
        check_links
        and not can_moderate(member=member, tenant=tenant)
        and recruiting.needs_recruiting_review(tenant=tenant, text=f"{title}\n{body}")
    )
    return PostScreening(
        title=screened_title.text,
        body=screened_body.text,
        hold=screened_body.hold or screened_title.hold or is_recruiting,
        flag=screened_body.flag or screened_title.flag,
        matched=screened_body.matched + screened_title.matched,
        recruiting=is_recruiting,
        word_hold=screened_body.hold or screened_title.hold,
    )
