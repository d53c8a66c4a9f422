"""Clinical-trial discussions: one topic per trial and community."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from communities.models import (
    Community,
    Topic,
    TopicKind,
)
from communities.services.guards import TITLE_MAX, _require_reader
from communities.services.posts import create_topic
from core.errors import NotFound
from members.models import Member
from tenants.models import Tenant
from tenants.selectors import current_tenant
from trials.selectors import get_trial


def open_trial_discussion(
    *, acting_member: Member, community: Community, nct_id: str, tenant: Tenant | None = None
) -> tuple[Topic, bool]:
    """Find this community's topic about a trial, or start it (via ``create_topic``): (topic, created).

    Finding needs read access to the community; starting one needs the right to post in it. Two members
    opening the same trial at once get the same topic (a unique constraint decides, the loser reads)."""
    tenant = tenant or current_tenant()
    assert tenant is not None
    _require_reader(acting_member, tenant, community)
    trial = get_trial(nct_id=nct_id)
    if trial is None:
        raise NotFound("No such trial.", details={"nct_id": ["Unknown trial."]})
    live = Topic.objects.filter(community=community, trial_nct_id=trial.nct_id, deleted_at__isnull=True)
    existing = live.first()
    if existing is not None:
        return existing, False
    title = f"{trial.nct_id}: {trial.brief_title}"
    if len(title) > TITLE_MAX:
        title = title[: TITLE_MAX - 1].rstrip() + "…"
    body = (
        f"A place to talk about the clinical trial [{trial.nct_id}]({trial.ctgov_url}): {trial.brief_title}\n\n"
        "Are you taking part, or thinking about it? Compare notes here. "
        f"[The trial's page](/trials/{trial.nct_id}/) lists its sites and eligibility."
    )
    try:
        with transaction.atomic():
            topic = create_topic(
                acting_member=acting_member,
                tenant=tenant,
                community=community,
                kind=TopicKind.UPDATE,
                title=title,
                body=body,
                platform_text=True,
            )
            Topic.objects.filter(pk=topic.pk).update(trial_nct_id=trial.nct_id)
            topic.trial_nct_id = trial.nct_id
    except IntegrityError:
        return live.get(), False
    return topic, True
