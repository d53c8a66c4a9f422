"""Account erasure across every schema: nothing that names the member is left anywhere."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from communities.models import ModerationAction, Post, PostRevision, Reaction, Topic
from communities.selectors import REMOVED_HTML
from members.models import Member, TenantMembership
from privacy import services
from privacy.models import ErasureRequest, ErasureStatus, StaffAccess
from privacy.registry import member_reference_columns, register_personal_data, unregister_personal_data
from tests.privacy.world import build_member_everywhere

pytestmark = pytest.mark.django_db

TEXTUAL = ("text", "character varying", "character", "json", "jsonb", "uuid")


def _schemas() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT schema_name FROM public.tenants_tenant ORDER BY schema_name")
        return ["public", *[row[0] for row in cursor.fetchall() if row[0] != "public"]]


def find_member_traces(*, needles: list[str], member_id: int) -> list[str]:
    """Search every table of every schema: text-like columns for the needles, and every column that
    holds a member id (a foreign key to Member in model meta) for the id."""
    hits: list[str] = []
    with connection.cursor() as cursor:
        for schema in _schemas():
            cursor.execute(
                "SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c "
                "JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name "
                "WHERE c.table_schema = %s AND t.table_type = 'BASE TABLE'",
                [schema],
            )
            by_table: dict[str, list[str]] = {}
            for table, column, data_type in cursor.fetchall():
                if data_type in TEXTUAL:
                    by_table.setdefault(table, []).append(column)
            for table, columns in by_table.items():
                for column in columns:
                    for needle in needles:
                        cursor.execute(
                            f'SELECT count(*) FROM "{schema}"."{table}" WHERE "{column}"::text ILIKE %s',
                            [f"%{needle}%"],
                        )
                        if cursor.fetchone()[0]:
                            hits.append(f"{schema}.{table}.{column} contains {needle!r}")
            # Every column that holds a member id, from model meta (tenant tables keep no foreign key
            # into public, so pg_constraint no longer lists them).
            for table, column in member_reference_columns(schema="public" if schema == "public" else "tenant"):
                cursor.execute(f'SELECT count(*) FROM "{schema}"."{table}" WHERE "{column}" = %s', [member_id])
                if cursor.fetchone()[0]:
                    hits.append(f"{schema}.{table}.{column} = {member_id}")
    return hits


def _needles(world: Any) -> list[str]:
    zed = world.zed
    return [zed.email, str(zed.public_id), *world.names.values()]


@pytest.fixture
def world(tenant_a, tenant_b, settings, tmp_path):
    settings.KINDRED_POSTING_RATE = "1000/1m"
    settings.KINDRED_EXPORTS_DIR = str(tmp_path / "exports")
    world = build_member_everywhere(tenant_a=tenant_a, tenant_b=tenant_b)
    services.build_export(export_id=services.request_export(member=world.zed).pk)  # a file to erase too
    return world


def test_the_search_finds_the_member_before_erasure(world):
    """The search can fail: before erasure it finds the member in public and in both tenant schemas."""
    hits = find_member_traces(needles=_needles(world), member_id=world.zed.pk)
    assert any(hit.startswith("public.members_member.email") for hit in hits)
    assert any(hit.startswith("alpha_alliance.communities_post.author_id") for hit in hits)
    assert any(hit.startswith("beta_society.communities_post.body_html") for hit in hits)  # the quote names Zed
    assert any(hit.startswith("alpha_alliance.wagtailcore_modellogentry.label") for hit in hits)
    assert any(hit.startswith("public.django_admin_log.object_repr") for hit in hits)
    assert any(hit.startswith("public.trials_savedtrial.member_id") for hit in hits)
    assert any(hit.startswith("public.trials_trialnotice.member_id") for hit in hits)


def test_erasure_keeping_posts_leaves_no_trace_and_keeps_threads(world, tenant_a, tenant_b):
    zed = world.zed
    request = services.erase_member(member=zed, keep_posts=True, requested_by=zed)

    assert request.status == ErasureStatus.DONE
    assert request.progress == 100
    assert request.schema_status == {"alpha_alliance": "done", "beta_society": "done", "public": "done"}
    assert request.member_id is None and request.requested_by_id is None
    assert find_member_traces(needles=_needles(world), member_id=zed.pk) == []
    assert not Member.objects.filter(pk=zed.pk).exists()
    assert Member.objects.filter(pk=world.other.pk, is_active=True).exists()
    for tenant in (tenant_a, tenant_b):
        here = world.tenants[tenant.slug]
        with tenant_context(tenant):
            kept = Post.objects.get(pk=here.zed_reply.pk)
            assert (kept.author_id, kept.body_markdown) == (None, f"Zed replies, edited {world.tag}")
            assert PostRevision.objects.filter(post_id=kept.pk).count() == 0
            topic = Topic.objects.get(pk=here.topic.pk)
            assert (topic.author_id, topic.title) == (None, f"Zed asks in {tenant.slug}")
            reply = Post.objects.get(pk=here.other_reply.pk)
            assert (reply.author_id, reply.topic_id) == (world.other.pk, topic.pk)
            assert reply.body_markdown == "Otto answers @former-member kindly"
            assert reply.body_html.startswith("<p>A former member wrote:</p>\n<blockquote>\n<p>Zed replies, edited")
            # Zed's reaction is gone and the counters went down with it; Otto's reaction stays.
            assert Reaction.objects.filter(post_id=here.opening.pk).count() == 1
            assert Post.objects.get(pk=here.other_topic.posts.get(is_opening=True).pk).helpful_count == 0
            assert Topic.objects.get(pk=here.other_topic.pk).reaction_count == 0
            decision = ModerationAction.objects.get(post_id_ref=here.removed.pk)  # the decision stays
            assert (decision.kind, decision.actor_id, decision.subject_id) == ("post_removed", world.other.pk, None)
            assert list(Post.objects.filter(topic_id=topic.pk).values_list("pk", flat=True)) == [
                here.opening.pk, here.zed_reply.pk, here.other_reply.pk, here.removed.pk
            ]  # fmt: skip


def test_erasure_removing_posts_shows_removed_and_keeps_replies_in_context(world, tenant_a, root_client):
    zed = world.zed
    services.erase_member(member=zed, keep_posts=False, requested_by=zed)

    assert find_member_traces(needles=[*_needles(world), f"Zed replies, edited {world.tag}"], member_id=zed.pk) == []
    here = world.tenants[tenant_a.slug]
    with tenant_context(tenant_a):
        gone = Post.objects.get(pk=here.zed_reply.pk)
        assert (gone.author_id, gone.body_markdown, gone.body_html) == (None, "[removed]", REMOVED_HTML)
        assert Topic.objects.get(pk=here.topic.pk).title == "[removed]"
        reply = Post.objects.get(pk=here.other_reply.pk)
        assert reply.body_html.startswith("<p>A former member wrote:</p>\n<blockquote>\n<p>[removed]</p>")
        assert reply.body_markdown == "Otto answers @former-member kindly"


def test_erasure_of_one_failing_tenant_is_recorded_then_resumed(world, tenant_a, tenant_b):
    """Beta fails once: alpha's work is kept, the Member row stays, the second run finishes beta only."""
    zed = world.zed
    calls: list[str] = []

    def flaky(member: Member, keep_posts: bool) -> None:
        schema = connection.schema_name  # type: ignore[attr-defined]
        calls.append(schema)
        if schema == "beta_society" and calls.count("beta_society") == 1:
            Post.objects.filter(author_id=member.pk).update(body_markdown="half-done")  # rolled back below
            raise RuntimeError("disk full")

    register_personal_data(name="flaky", models=[], export=lambda m: [], erase=flaky, schema="tenant", order=999)
    try:
        first = services.erase_member(member=zed, keep_posts=True, requested_by=zed)
        assert first.status == ErasureStatus.FAILED
        assert first.progress == 33  # one of three schemas (alpha, beta, public) done
        assert first.schema_status == {
            "alpha_alliance": "done",
            "beta_society": "failed: RuntimeError: disk full",
        }
        assert Member.objects.filter(pk=zed.pk, is_active=False).exists()
        with tenant_context(tenant_b):  # beta's transaction rolled back whole: Zed's posts untouched
            assert Post.objects.filter(author_id=zed.pk).exclude(body_markdown="half-done").count() == 3
        with tenant_context(tenant_a):
            assert Post.objects.filter(author_id=zed.pk).count() == 0

        second = services.run_erasure(request_id=first.pk)
        assert second.status == ErasureStatus.DONE
        assert calls == ["alpha_alliance", "beta_society", "beta_society"]
        assert ErasureRequest.objects.filter(pk=first.pk, attempts=2).exists()
        assert find_member_traces(needles=_needles(world), member_id=zed.pk) == []
    finally:
        unregister_personal_data(name="flaky", schema="tenant")


def test_staff_access_by_an_erased_staff_member_keeps_no_name(world):
    services.erase_member(member=world.staff, keep_posts=True, requested_by=world.staff)
    access = StaffAccess.objects.get(member=world.zed)
    assert (access.staff_id, access.staff_name) == (None, "A former staff member")
    assert find_member_traces(needles=[world.staff.email, world.staff.display_name], member_id=world.staff.pk) == []


def test_only_the_member_or_a_superuser_can_erase(world):
    with pytest.raises(services.NotAllowed):
        services.erase_member(member=world.zed, keep_posts=True, requested_by=world.other)
    assert Member.objects.filter(pk=world.zed.pk, is_active=True).exists()
    assert TenantMembership.objects.filter(member=world.zed).count() == 2
    assert not ErasureRequest.objects.exists()
