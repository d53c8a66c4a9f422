"""The moderation log: every moderation decision leaves one append-only row (who, what, when, why),
moderators read all of a tenant's, members read those about themselves, other tenants read none."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from communities import services
from communities.models import JoiningPolicy, ModerationAction, ModerationActionKind, TagKind
from core.errors import NotAllowed
from tenants.db import use_public_schema
from tests.communities.worlds import reply_to, start_topic
from tests.conftest import TENANT_A, TENANT_B, host_client, signed_in
from tests.factories import TagFactory

pytestmark = pytest.mark.django_db
HOST = TENANT_A["domain"]


@pytest.fixture
def world(world):
    w = world
    w.topic = start_topic(w, title="Rashes after sun?", body="Anyone else?")
    w.reply = reply_to(w, w.topic, body="Yes, me too")
    return w


def _kinds() -> list[str]:
    return list(ModerationAction.objects.order_by("id").values_list("kind", flat=True))


def test_moderator_removal_and_restore_are_logged_with_reason(world):
    services.delete_post(acting_member=world.moderator, tenant=world.tenant, post=world.reply, reason="Off  topic")
    services.restore_post(acting_member=world.moderator, tenant=world.tenant, post=world.reply)
    removed, restored = ModerationAction.objects.order_by("id")
    assert (removed.kind, removed.actor_id, removed.subject_id) == (
        ModerationActionKind.POST_REMOVED,
        world.moderator.pk,
        world.bob.pk,
    )
    assert (removed.post_id_ref, removed.topic_id_ref, removed.community_id) == (
        world.reply.pk,
        world.topic.pk,
        world.community.pk,
    )
    assert removed.reason == "Off topic"
    assert restored.kind == ModerationActionKind.POST_RESTORED and restored.reason == ""


def test_deleting_my_own_post_is_not_a_moderation_decision(world):
    services.delete_post(acting_member=world.bob, tenant=world.tenant, post=world.reply)
    assert _kinds() == []
    # Deleting twice changes nothing and logs nothing.
    services.delete_post(acting_member=world.moderator, tenant=world.tenant, post=world.reply)
    assert _kinds() == []


def test_refused_action_leaves_no_row(world):
    with pytest.raises(NotAllowed):
        services.delete_post(acting_member=world.carol, tenant=world.tenant, post=world.reply)
    with pytest.raises(NotAllowed):
        services.restore_post(acting_member=world.bob, tenant=world.tenant, post=world.reply)
    assert _kinds() == []


def test_join_decisions_and_tag_curation_are_logged(world):
    world.community.joining_policy = JoiningPolicy.APPROVAL
    world.community.save()
    request = services.join_community(member=world.carol, tenant=world.tenant, community=world.community)
    services.decide_join_request(
        acting_member=world.moderator, tenant=world.tenant, membership=request, approve=False, reason="Not a patient"
    )
    proposed = services.propose_tag(
        acting_member=world.alice, tenant=world.tenant, community=world.community, kind=TagKind.SYMPTOM, name="Rash"
    )
    curated = TagFactory(community=world.community, kind=TagKind.SYMPTOM, name="Skin rash", slug="skin-rash")
    services.merge_tags(acting_member=world.moderator, tenant=world.tenant, source=proposed, target=curated)
    services.create_tag(
        acting_member=world.moderator, tenant=world.tenant, community=world.community, kind=TagKind.TOPIC, name="Sun"
    )
    assert _kinds() == [
        ModerationActionKind.JOIN_REFUSED,
        ModerationActionKind.TAG_MERGED,
        ModerationActionKind.TAG_CURATED,
    ]
    refused = ModerationAction.objects.get(kind=ModerationActionKind.JOIN_REFUSED)
    assert refused.subject_id == world.carol.pk and refused.reason == "Not a patient"
    merged = ModerationAction.objects.get(kind=ModerationActionKind.TAG_MERGED)
    assert merged.subject_id == world.alice.pk and "“Rash” into “Skin rash”" in merged.summary


def test_rows_are_append_only(world):
    services.delete_post(acting_member=world.moderator, tenant=world.tenant, post=world.reply)
    action = ModerationAction.objects.get()
    action.reason = "rewritten"
    with pytest.raises(ValueError, match="append-only"):
        action.save()
    assert ModerationAction.objects.get().reason == ""


def test_who_reads_the_log_web_and_api(world, tenant_b):
    services.delete_post(acting_member=world.moderator, tenant=world.tenant, post=world.reply, reason="Spam link")
    use_public_schema()

    moderator_page = signed_in(HOST, world.moderator).get("/manage/log/")
    assert moderator_page.status_code == 200
    assert "Removed post #" in moderator_page.content.decode() and "Spam link" in moderator_page.content.decode()
    assert signed_in(HOST, world.bob).get("/manage/log/").status_code in (403, 404)

    def api_log(client):
        response = client.get("/api/v1/moderation-log/")
        assert response.status_code == 200
        return [(row["kind"], row["reason"]) for row in response.json()]

    assert api_log(signed_in(HOST, world.moderator)) == [("post_removed", "Spam link")]
    # The author learns what was done to their post; anyone else in the tenant sees nothing.
    assert api_log(signed_in(HOST, world.bob)) == [("post_removed", "Spam link")]
    assert api_log(signed_in(HOST, world.carol)) == []
    assert host_client(HOST).get("/api/v1/moderation-log/").status_code in (401, 403)
    # The same moderator on another tenant: that tenant's log is its own (empty).
    assert api_log(signed_in(TENANT_B["domain"], world.moderator)) == []


def test_moderator_removes_a_post_on_a_page_that_asks_why(world):
    use_public_schema()
    topic_url = f"/t/{world.topic.pk}/"
    remove_url = f"{topic_url}p/{world.reply.pk}/remove/"
    moderator = signed_in(HOST, world.moderator)
    assert 'href="' + remove_url + '"' in moderator.get(topic_url).content.decode()
    # Neither the author (who deletes their own post directly) nor another member reaches the page.
    assert f'href="{remove_url}"' not in signed_in(HOST, world.bob).get(topic_url).content.decode()
    assert signed_in(HOST, world.alice).get(remove_url).status_code == 404
    assert signed_in(HOST, world.alice).post(remove_url, {"reason": "spite"}).status_code == 404

    assert "Remove this post?" in moderator.get(remove_url).content.decode()
    response = moderator.post(remove_url, {"reason": "Shares a phone number"})
    assert response.status_code == 302 and response["Location"] == f"{topic_url}#post-{world.reply.pk}"
    with tenant_context(world.tenant):
        action = ModerationAction.objects.get()
        assert (action.kind, action.reason, action.subject_id) == (
            ModerationActionKind.POST_REMOVED,
            "Shares a phone number",
            world.bob.pk,
        )
        world.reply.refresh_from_db()
        assert world.reply.deleted_at is not None


def test_a_join_refusal_can_say_why_on_the_manage_page(world):
    world.community.joining_policy = JoiningPolicy.APPROVAL
    world.community.save()
    request = services.join_community(member=world.carol, tenant=world.tenant, community=world.community)
    use_public_schema()
    moderator = signed_in(HOST, world.moderator)
    url = f"/manage/communities/{world.community.slug}/requests/"
    assert 'name="reason"' in moderator.get(url).content.decode()
    moderator.post(f"{url}{request.pk}/decide/", {"decision": "deny", "reason": "This group is for patients"})
    with tenant_context(world.tenant):
        refused = ModerationAction.objects.get(kind=ModerationActionKind.JOIN_REFUSED)
        assert (refused.subject_id, refused.reason) == (world.carol.pk, "This group is for patients")


def test_the_log_cannot_be_changed_or_deleted_over_http(world):
    services.delete_post(acting_member=world.moderator, tenant=world.tenant, post=world.reply, reason="Spam link")
    rows = list(ModerationAction.objects.order_by("id").values())
    assert len(rows) == 1
    row_id = rows[0]["id"]
    use_public_schema()
    body = {"id": row_id, "kind": "post_restored", "reason": "rewritten", "summary": "nothing happened"}
    for member in (world.admin, world.moderator):
        client = signed_in(HOST, member)
        # The API only reads: every write method on the log and its export is refused.
        for url in ("/api/v1/moderation-log/", "/api/v1/moderation-log/export/"):
            for method in ("post", "put", "patch", "delete"):
                response = getattr(client, method)(url, body, content_type="application/json")
                assert response.status_code == 405, (member, url, method, response.status_code)
        # The admin area's log page and its CSV export only read too (no form writes to them).
        # (The export is the administrators': a moderator is told it isn't there.)
        for url in ("/manage/log/", "/manage/log/export.csv"):
            refused = 405 if member == world.admin or url == "/manage/log/" else 404
            assert client.post(url, body).status_code == refused
            for method in ("put", "patch", "delete"):
                assert getattr(client, method)(url, body, content_type="application/json").status_code == refused
        # There is no per-row address to change either.
        assert client.delete(f"/api/v1/moderation-log/{row_id}/").status_code == 404
        assert client.post(f"/manage/log/{row_id}/", body).status_code == 404
    # Others are refused before the method is even considered.
    bob = signed_in(HOST, world.bob)
    assert bob.delete("/api/v1/moderation-log/").status_code == 405
    assert bob.post("/manage/log/", body).status_code == 404
    assert host_client(HOST).delete("/api/v1/moderation-log/").status_code in (401, 403)
    with tenant_context(world.tenant):
        assert list(ModerationAction.objects.order_by("id").values()) == rows
