"""A member with data in every corner (both tenants, every kind of row), for export and erasure tests."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from types import SimpleNamespace

from django.contrib.admin.models import CHANGE, LogEntry
from django_tenants.utils import tenant_context

from communities import services as community_services
from communities.models import Notification, Post, TagKind, TopicKind, WatchLevel
from conditions.models import Condition
from members import services as member_services
from members.models import Member, MembershipRole
from privacy import services as privacy_services
from tests.factories import CommunityFactory, MemberFactory, TenantMembershipFactory
from trials import services as trial_services
from trials.models import NoticeKind, TrialNotice

TRIAL_FIXTURE = Path(__file__).resolve().parents[2] / "trials" / "fixtures" / "own-ms-recruiting.json"


def build_member_everywhere(*, tenant_a, tenant_b):
    tag = uuid.uuid4().hex[:8]
    condition = Condition.objects.create(mesh_id=f"D9{tag[:5]}", name=f"Privacy condition {tag}", slug=f"pc-{tag}")
    zed = MemberFactory(
        email=f"zed-{tag}@example.test", display_name=f"Zelda Quill {tag}", region="Bavaria", country="DE"
    )
    zed.conditions.set([condition])
    other = MemberFactory(email=f"otto-{tag}@example.test", display_name=f"Otto {tag}")
    staff = MemberFactory(email=f"staff-{tag}@example.test", display_name=f"Staff {tag}", is_staff=True)
    world = SimpleNamespace(
        tag=tag, zed=zed, other=other, staff=staff, condition=condition, tenants={}, names={"global": zed.display_name}
    )
    for tenant, name in ((tenant_a, f"river_walker_{tag}"), (tenant_b, f"Anna K {tag}")):
        member_services.join_tenant(member=zed, tenant=tenant)  # a RoleChange row, the welcome hook
        TenantMembershipFactory(member=other, tenant=tenant, role=MembershipRole.MODERATOR)
        member_services.set_tenant_display_name(member=zed, tenant=tenant, display_name=name)
        world.names[tenant.slug] = name
        with tenant_context(tenant):
            community = CommunityFactory()
            for person in (zed, other):
                community_services.join_community(member=person, tenant=tenant, community=community)
            topic = community_services.create_topic(
                acting_member=zed, tenant=tenant, community=community, kind=TopicKind.QUESTION,
                title=f"Zed asks in {tenant.slug}", body=f"Zed's opening words {tag}",
                proposed_tag_names=[f"zedtag{tag}"],
            )  # fmt: skip
            opening = topic.posts.get(is_opening=True)
            zed_reply = community_services.create_reply(
                acting_member=zed, tenant=tenant, topic=topic, body=f"Zed replies {tag}"
            )
            community_services.edit_post(
                acting_member=zed, tenant=tenant, post=zed_reply, body=f"Zed replies, edited {tag}"
            )
            handle = name.replace(" ", "")
            other_reply = community_services.create_reply(
                acting_member=other, tenant=tenant, topic=topic, body=f"Otto answers @{handle} kindly",
                quoted_post=Post.objects.get(pk=zed_reply.pk),
            )  # fmt: skip
            other_topic = community_services.create_topic(
                acting_member=other, tenant=tenant, community=community, kind=TopicKind.UPDATE,
                title=f"Otto's update {tag}", body="Otto's news",
            )  # fmt: skip
            community_services.react(
                member=zed, tenant=tenant, post=other_topic.posts.get(is_opening=True), kind="helpful"
            )
            community_services.react(member=other, tenant=tenant, post=opening, kind="support")
            community_services.set_topic_watch_level(
                member=zed, tenant=tenant, topic=other_topic, level=WatchLevel.WATCHING
            )
            community_services.set_community_watch_level(
                member=zed, tenant=tenant, community=community, level=WatchLevel.WATCHING
            )
            removed = community_services.create_reply(
                acting_member=zed, tenant=tenant, topic=topic, body=f"Zed's rule-breaking reply {tag}"
            )
            community_services.delete_post(acting_member=other, tenant=tenant, post=Post.objects.get(pk=removed.pk))
            zed_tag = community_services.propose_tag(
                acting_member=zed, tenant=tenant, community=community, kind=TagKind.SYMPTOM, name=f"zedsym{tag}"
            )
            from wagtail.models import ModelLogEntry
            from wagtail.users.models import UserProfile

            UserProfile.get_for_user(zed)
            ModelLogEntry.objects.log_action(instance=zed, action="wagtail.edit", user=other)  # its label names Zed
            world.tenants[tenant.slug] = SimpleNamespace(
                tenant=tenant, community=community, topic=topic, opening=opening, zed_reply=zed_reply,
                other_reply=other_reply, other_topic=other_topic,
                other_opening=other_topic.posts.get(is_opening=True), removed=removed, zed_tag=zed_tag,
                notifications=Notification.objects.filter(recipient=zed).count(),
            )  # fmt: skip
    member_services.update_privacy_settings(member=zed, show_conditions=True, listed_in_member_lists=True)
    # Public trial data of their own: a saved trial, an alert and a notice.
    trial_services.import_paths(paths=[TRIAL_FIXTURE])
    nct_id = json.loads(TRIAL_FIXTURE.read_text())["protocolSection"]["identificationModule"]["nctId"]
    saved = trial_services.save_trial(member=zed, nct_id=nct_id)
    trial_services.set_trial_alert(member=zed, place="40.7128,-74.0060", distance_miles=50)
    TrialNotice.objects.create(
        member=zed, trial=saved.trial, kind=NoticeKind.STATUS_CHANGED, key=f"privacy-{tag}", message="Now recruiting"
    )
    world.nct_id = nct_id
    member_services.issue_handoff_token(member=zed, host=tenant_a.primary_domain)
    privacy_services.record_staff_access(staff=staff, member=zed, reason="Support ticket 42", what="profile")
    LogEntry.objects.log_actions(
        user_id=staff.pk, queryset=Member.objects.filter(pk=zed.pk), action_flag=CHANGE, change_message="edited"
    )
    zed.refresh_from_db()
    return world
