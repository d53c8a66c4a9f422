"""Unapproved recruiting: posts that look like they recruit for studies, surveys or products are held
for a moderator, unless they point to one of this tenant's approved, labelled study invitations.

Recruiting is allowed on Kindred only through study invitations (partnerships): approved by platform
staff and the tenant's admins, labelled "Study invitation" on /studies/ and sent only to members who
agreed to be contacted. A post that links to such an invitation (``/studies/#study-<public id>``)
is not held; any other post with recruiting language or a link to a survey site is.

Detection is deliberately simple and fast: a fixed list of phrases and survey-site domains in one RE2
set (linear time, like the watched words). False positives cost a moderator a click; false
negatives are what the flags are for.

communities does not import partnerships: partnerships is reached through ``register_study_lookup``,
wired in communities.apps (the same way communities gives partnerships its archive statistics).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import re2

from tenants.models import Tenant

RECRUITING_REASON = "recruiting"
PHRASES = (
    r"participants?\s+(?:are\s+)?(?:needed|wanted|sought)",
    r"(?:looking|searching)\s+for\s+(?:study\s+|research\s+|survey\s+)?(?:participants|volunteers|respondents|testers)",
    r"recruiting\s+(?:for\s+)?(?:a\s+|our\s+)?(?:study|survey|trial|participants|volunteers|research)",
    r"(?:take|complete|fill\s+(?:in|out))\s+(?:our|my|this|a|the)\s+(?:short\s+|quick\s+|online\s+)?(?:survey|questionnaire|poll)",
    r"paid\s+(?:research\s+|online\s+|clinical\s+)?(?:study|survey|trial|focus\s+group|research|interview)",
    r"(?:earn|receive|get)\s+(?:a\s+)?(?:\$|£|€)?\d*\s*(?:gift\s*card|amazon\s+voucher|compensation|honorarium)",
    r"(?:join|sign\s+up\s+for)\s+(?:our|my)\s+(?:study|survey|focus\s+group|beta|research)",
    r"(?:user|product|market)\s+research\s+(?:study|interview|session)",
    r"beta\s+testers?\s+(?:needed|wanted)",
)
SURVEY_DOMAINS = (
    "surveymonkey.com", "typeform.com", "forms.gle", "docs.google.com/forms", "qualtrics.com", "jotform.com",
    "alchemer.com", "surveygizmo.com", "prolific.co", "prolific.com", "mturk.com", "userinterviews.com",
    "respondent.io", "surveyplanet.com", "formstack.com", "forms.office.com", "tally.so", "questionpro.com",
)  # fmt: skip
_STUDY_LINK = re.compile(
    r"/studies/#study-([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"
)

StudyLookup = Callable[[Tenant, list[str]], Iterable[str]]
_lookups: list[StudyLookup] = []


def register_study_lookup(lookup: StudyLookup) -> None:
    """``lookup(tenant, public_ids)`` returns those of the ids that are approved, labelled study
    invitations of this tenant (partnerships registers it)."""
    if lookup not in _lookups:
        _lookups.append(lookup)


def _options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False
    return options


def _build() -> re2.Set:
    matcher = re2.Set.SearchSet(_options())
    for phrase in PHRASES:
        matcher.Add(rf"(?i:\b{phrase})")
    for domain in SURVEY_DOMAINS:
        matcher.Add(rf"(?i:\b{re2.escape(domain)})")
    matcher.Compile()
    return matcher


_MATCHER = _build()


def looks_like_recruiting(text: str) -> bool:
    return bool(text) and bool(_MATCHER.Match(text))


def approved_study_ids(*, tenant: Tenant, text: str) -> set[str]:
    """The approved, labelled study invitations of this tenant the text links to."""
    wanted = sorted({match.lower() for match in _STUDY_LINK.findall(text)})
    if not wanted:
        return set()
    found: set[str] = set()
    for lookup in _lookups:
        found.update(str(value).lower() for value in lookup(tenant, wanted))
    return found


def needs_recruiting_review(*, tenant: Tenant, text: str) -> bool:
    """Hold this text? Recruiting language or a survey link, and no approved study invitation linked."""
    return looks_like_recruiting(text) and not approved_study_ids(tenant=tenant, text=text)
