"""Tenant schemas keep no foreign-key constraint into another schema (cms migration 0004).

Each such constraint added two referential triggers to the one public table it points at (above
all ``members_member``): with 1,000 tenants every member insert and delete fired thousands of
them, and every clone's ALTERs queued behind locks on that table. Without the constraints,
integrity is the erasure service's: it checks every tenant table that holds a member id (from
model meta) and fails the schema rather than leave a row behind.
"""

from __future__ import annotations

import json
import statistics
import time
from typing import Any, cast

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection
from django_tenants.utils import schema_context, tenant_context

from communities import services as community_services
from communities.models import Community, MemberTrust, Post, TopicKind
from core.errors import NotAllowed
from members import services as member_services
from members.models import Member
from privacy import services as privacy_services
from privacy.models import ErasureStatus
from privacy.registry import member_reference_columns, register_personal_data, unregister_personal_data
from privacy.selectors import remaining_member_references
from tenants.db import use_public_schema
from tenants.models import Tenant
from tenants.selectors import cross_schema_foreign_keys, foreign_key_triggers_on
from tenants.services import provision_tenant
from tests.conftest import TENANT_A, signed_in
from tests.factories import CommunityFactory, MemberFactory

pytestmark = pytest.mark.django_db


def _fetch(sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchall()


@pytest.fixture
def two_more_tenants(tenant_a: Tenant, tenant_b: Tenant) -> list[Tenant]:
    """Two tenants provisioned now (cloned from the template in this test's transaction)."""
    made = [
        provision_tenant(name=f"Keys {n}", slug=f"keys-{n}", domain=f"keys-{n}.localhost").tenant
        for n in ("one", "two")
    ]
    use_public_schema()
    return made


def test_no_tenant_schema_has_a_foreign_key_into_another_schema(tenant_a, tenant_b, two_more_tenants):
    schemas = [settings.TENANT_BASE_SCHEMA, tenant_a.schema_name, tenant_b.schema_name]
    schemas += [tenant.schema_name for tenant in two_more_tenants]
    for schema in schemas:
        assert cross_schema_foreign_keys(schema=schema) == [], schema
        # ... while their own foreign keys (post -> topic, page -> locale...) are all there.
        assert _fetch(
            "SELECT count(*) FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE k.contype = 'f' AND n.nspname = %s",
            [schema],
        )[0][0] > 50, schema  # fmt: skip


def test_no_trigger_on_members_member_comes_from_a_tenant_schema(tenant_a, tenant_b, two_more_tenants):
    referencing = foreign_key_triggers_on(table="members_member", schema="public")
    assert ("public", "members_tenantmembership") in referencing  # public's own keys stay (the query works)
    assert {schema for schema, _table in referencing} == {"public"}


def test_the_checks_find_a_cross_schema_key_when_one_is_added(tenant_a):
    """The checks can fail: a key from a tenant table into public is listed by both."""
    schema = tenant_a.schema_name
    with connection.cursor() as cursor:
        cursor.execute(
            f'ALTER TABLE "{schema}".communities_post ADD CONSTRAINT probe_author_fk '
            "FOREIGN KEY (author_id) REFERENCES public.members_member (id) DEFERRABLE INITIALLY DEFERRED"
        )
    assert cross_schema_foreign_keys(schema=schema) == [
        ("communities_post", "probe_author_fk", "public.members_member")
    ]
    assert (schema, "communities_post") in foreign_key_triggers_on(table="members_member")


def test_our_tenant_models_declare_member_keys_without_a_constraint():
    """The source of truth for where a member id lives is model meta: every such key is listed,
    third-party ones included, and our own declare db_constraint=False (no migration re-adds one)."""
    columns = member_reference_columns(schema="tenant")
    for expected in [
        ("communities_post", "author_id"),
        ("communities_membertrust", "member_id"),
        ("cms_expertquestion", "author_id"),
        ("access_membergroup", "member_id"),
        ("wagtailcore_page", "owner_id"),
        ("wagtailcore_revision", "user_id"),
        ("wagtailcore_pagelogentry", "user_id"),
        ("wagtailcore_workflowstate", "requested_by_id"),
        ("wagtailusers_userprofile", "user_id"),
        ("wagtailimages_image", "uploaded_by_user_id"),
    ]:
        assert expected in columns
    for table, column in columns:  # each exists in the template, as a plain indexed column
        assert _fetch(
            "SELECT 1 FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = %s AND a.attname = %s",
            [settings.TENANT_BASE_SCHEMA, table, column],
        ), (table, column)
    ours = {
        f"{model._meta.label}.{field.name}": getattr(field, "db_constraint", None)
        for label in ("communities", "cms")
        for model in apps.get_app_config(label).get_models()
        for field in model._meta.local_concrete_fields
        if field.is_relation and field.related_model is Member
    }
    assert len(ours) >= 25 and "communities.Post.author" in ours
    assert {name for name, constrained in ours.items() if constrained is not False} == set()


def test_deleting_a_member_fires_no_trigger_of_a_tenant_schema(tenant_a, tenant_b, two_more_tenants):
    member = MemberFactory()
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the referential checks run inside the statement
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) DELETE FROM public.members_member WHERE id = %s", [member.pk])
        plan = cursor.fetchone()[0]
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    plan = json.loads(plan) if isinstance(plan, str) else plan
    fired = [trigger["Constraint Name"] for trigger in plan[0]["Triggers"] if "Constraint Name" in trigger]
    public_keys = _fetch(
        "SELECT k.conname FROM pg_constraint k "
        "WHERE k.contype = 'f' AND k.confrelid = 'public.members_member'::regclass"
    )
    assert fired  # public's keys are checked ...
    assert sorted(fired) == sorted(name for (name,) in public_keys)  # ... and nothing else: one per key
    assert {schema for schema, _table in foreign_key_triggers_on(table="members_member")} == {"public"}


def test_creating_and_deleting_a_member_stays_fast_with_more_tenants(tenant_a, tenant_b, two_more_tenants):
    """A generous bound (a loaded 2-core machine): with a trigger per tenant key this grew with
    every tenant (25 ms -> 680 ms at ~300 tenants); bench/provisioning.py reports the figure."""
    timings = []
    for n in range(5):
        started = time.perf_counter()
        member = Member.objects.create(email=f"fast-{n}@example.test", display_name=f"Fast {n}")
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            Member.objects.filter(pk=member.pk)._raw_delete(using="default")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        timings.append(time.perf_counter() - started)
    assert statistics.median(timings) < 0.25, timings


def _member_with_rows_in(tenants: list[Tenant]) -> Member:
    zed = cast(Member, MemberFactory())
    for tenant in tenants:
        member_services.join_tenant(member=zed, tenant=tenant)
        with tenant_context(tenant):
            community = cast(Community, CommunityFactory())
            community_services.join_community(member=zed, tenant=tenant, community=community)
            community_services.create_topic(
                acting_member=zed, tenant=tenant, community=community, kind=TopicKind.QUESTION,
                title="A question", body="Words", proposed_tag_names=[],
            )  # fmt: skip
            MemberTrust.objects.get_or_create(member_id=zed.pk)
    use_public_schema()
    return zed


def _references_everywhere(member_id: int, tenants: list[Tenant]) -> dict[str, list[str]]:
    found = {}
    for tenant in tenants:
        with tenant_context(tenant):
            found[tenant.schema_name] = remaining_member_references(member_id=member_id)
    with schema_context("public"):
        found["public"] = remaining_member_references(member_id=member_id)
    return found


def test_erasure_leaves_no_row_pointing_at_the_member_in_any_tenant(tenant_a, tenant_b, two_more_tenants):
    tenants = [tenant_a, tenant_b, *two_more_tenants]
    zed = _member_with_rows_in(tenants)
    before = _references_everywhere(zed.pk, tenants)
    for tenant in tenants:  # the selector finds what there is to erase
        assert {"communities_topic.author_id", "communities_post.author_id"} <= set(before[tenant.schema_name])
        assert "communities_membertrust.member_id" in before[tenant.schema_name]
    assert "members_tenantmembership.member_id" in before["public"]

    request = privacy_services.erase_member(member=zed, keep_posts=True, requested_by=zed)

    assert request.status == ErasureStatus.DONE, request.schema_status
    assert not Member.objects.filter(pk=zed.pk).exists()
    assert _references_everywhere(zed.pk, tenants) == {schema: [] for schema in before}


def test_erasure_fails_a_schema_that_still_names_the_member_and_keeps_the_member(tenant_a, tenant_b):
    """Without constraints, a provider that forgets a table would leave a dangling id: the service
    checks each schema, rolls it back, marks the request failed and keeps the Member row."""
    zed = _member_with_rows_in([tenant_a, tenant_b])

    def forgetful(member: Member, keep_posts: bool) -> None:
        if connection.schema_name == tenant_b.schema_name:  # type: ignore[attr-defined]
            MemberTrust.objects.get_or_create(member_id=member.pk)  # as if MemberTrust had no provider

    register_personal_data(
        name="forgetful", models=[], export=lambda m: [], erase=forgetful, schema="tenant", order=999
    )
    try:
        first = privacy_services.erase_member(member=zed, keep_posts=True, requested_by=zed)
    finally:
        unregister_personal_data(name="forgetful", schema="tenant")

    assert first.status == ErasureStatus.FAILED
    assert first.schema_status[tenant_a.schema_name] == "done"
    assert first.schema_status[tenant_b.schema_name] == (
        "failed: MemberStillReferenced: rows still name the member in communities_membertrust.member_id"
    )
    assert "public" not in first.schema_status
    assert Member.objects.filter(pk=zed.pk, is_active=False).exists()
    with tenant_context(tenant_b):  # beta's erasure rolled back whole
        assert Post.objects.filter(author_id=zed.pk).count() == 1

    second = privacy_services.run_erasure(request_id=first.pk)
    assert second.status == ErasureStatus.DONE
    assert _references_everywhere(zed.pk, [tenant_a, tenant_b]) == {
        tenant_a.schema_name: [], tenant_b.schema_name: [], "public": []
    }  # fmt: skip


def test_plain_member_delete_is_refused_everywhere(tenant_a, tenant_b):
    """DESIGN.md: members are deleted by the erasure service only. Before, the tenant schemas'
    constraints refused a plain delete; now nothing in the database would: inside tenant A,
    Django's collector would clear A's rows and leave B's pointing at a deleted id. So the model
    refuses it, the queryset too, in public and in a tenant alike, and nothing changes."""
    zed = _member_with_rows_in([tenant_a, tenant_b])
    before = _references_everywhere(zed.pk, [tenant_a, tenant_b])
    for context in (schema_context("public"), tenant_context(tenant_a)):
        with context:
            with pytest.raises(NotAllowed) as refused:
                Member.objects.get(pk=zed.pk).delete()
            assert refused.value.code == "erase_not_delete"
            with pytest.raises(NotAllowed):
                Member.objects.filter(pk=zed.pk).delete()
    assert Member.objects.filter(pk=zed.pk).exists()
    assert _references_everywhere(zed.pk, [tenant_a, tenant_b]) == before


def test_a_superuser_cannot_delete_a_member_from_a_tenants_wagtail_admin(tenant_a, tenant_b):
    zed = _member_with_rows_in([tenant_a, tenant_b])
    superuser = MemberFactory(is_staff=True, is_superuser=True)
    client = signed_in(TENANT_A["domain"], superuser)
    response = client.post(f"/admin/users/delete/{zed.pk}/")
    # Wagtail answers a PermissionDenied inside its admin with a redirect to the dashboard.
    assert (response.status_code, response["Location"]) == (302, "/admin/")
    assert client.get("/admin/users/").status_code == 200  # the superuser does reach the Users admin
    assert Member.objects.filter(pk=zed.pk).exists()
