"""Issue 13: research exports under a research agreement: scope, consent gate, pseudonyms, k-anonymity,
encrypted files with a complete manifest, recipients-only expiring links, audit, and what members see."""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import json
from collections import Counter
from pathlib import Path
from typing import Any, cast

import pytest
from django.contrib.auth.models import Permission
from django.db import DatabaseError, transaction
from django_tenants.utils import tenant_context

from conditions.models import Condition
from consent.services import record_consent
from core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from members.models import Member
from partnerships import services as partnership_services
from partnerships.models import AgreementKind
from privacy.services import collect_member_data, erase_member
from research import kanon, services, vault
from research.models import Dataset, ExportStatus, ReleaseInclusion, ResearchEvent, ResearchExport
from tests.conftest import TENANT_A, signed_in
from tests.consent.conftest import CONTACT, RESEARCH
from tests.factories import (
    CommunityFactory,
    CommunityMembershipFactory,
    MemberFactory,
    PostFactory,
    TenantMembershipFactory,
    TopicFactory,
)
from tests.partnerships.helpers import make_agreement, make_partner

pytestmark = pytest.mark.django_db
ROOT_HOST = "localhost"
ALL = [Dataset.MEMBER_ATTRIBUTES, Dataset.POST_TEXTS, Dataset.ACTIVITY_COUNTS, Dataset.TAGS]


def named_staff() -> Member:
    staff = cast(Member, MemberFactory(is_staff=True))
    staff.user_permissions.add(Permission.objects.get(codename="run_research_exports"))
    return Member.objects.get(pk=staff.pk)


def research_agreement(*, tenants: list[Any], purposes: list[str], conditions: list[Condition], name: str = "") -> Any:
    partner = make_partner(name=name or "", kind="research")
    recipient = cast(Member, MemberFactory())
    partner.representatives.add(recipient)
    agreement = make_agreement(partner=partner, kind=AgreementKind.RESEARCH, starts_on=datetime.date(2026, 1, 1))
    partnership_services.set_agreement_recipients(actor=None, agreement=agreement, member_ids=[recipient.pk])
    partnership_services.set_agreement_scope(
        actor=None,
        agreement=agreement,
        tenant_ids=[t.pk for t in tenants],
        condition_ids=[c.pk for c in conditions],
        purpose_codes=purposes,
    )
    agreement = partnership_services.activate_agreement(actor=None, agreement_id=agreement.pk)
    return agreement, recipient


@pytest.fixture
def world(policy_v1, purposes, tenant_a, tenant_b):
    lupus = Condition.objects.filter(parent__isnull=False).order_by("pk").first() or Condition.objects.first()
    agreement, recipient = research_agreement(tenants=[tenant_a], purposes=[RESEARCH], conditions=[lupus])

    def person(*, tenant=tenant_a, birth_year=1984, sex="female", region="Otago", consent=True, community=None):
        member = MemberFactory(birth_year=birth_year, sex=sex, country="NZ", region=region, role="patient")
        member.conditions.set([lupus])
        TenantMembershipFactory(member=member, tenant=tenant)
        if consent:
            record_consent(member=member, purpose=RESEARCH, granted=True, channel="web")
        return member

    alike = [person() for _ in range(6)]  # one quasi-identifier class of 6
    outlier = person(birth_year=1931, sex="male", region="Auckland")  # alone: suppressed at k=5
    contact_only = person(consent=False)
    record_consent(member=contact_only, purpose=CONTACT, granted=True, channel="web")
    never = person(consent=False)
    other_tenant = person(tenant=tenant_b)
    with tenant_context(tenant_a):
        community = CommunityFactory(slug="lupus-talk")
        quiet = CommunityFactory(slug="quiet-room")
        for member in [*alike, outlier, contact_only, never]:
            CommunityMembershipFactory(community=community, member=member)
        topic = TopicFactory(community=community, author=alike[0], title="Hello from Lauren Whitfield")
        posts = [
            PostFactory(
                topic=topic,
                author=alike[0],
                is_opening=True,
                body_markdown="I'm Lauren Whitfield, email lauren.w@example.com, on methotrexate for lupus.",
                helpful_count=2,
            ),
            PostFactory(topic=topic, author=alike[1], body_markdown="Call me on 555-201-7788 about Humira."),
            PostFactory(topic=topic, author=outlier, body_markdown="I am the only 95-year-old man here."),
            PostFactory(topic=topic, author=contact_only, body_markdown="Contact-only post."),
            PostFactory(topic=topic, author=never, body_markdown="Never-asked post."),
        ]
        quiet_topic = TopicFactory(community=quiet, author=alike[2])
        PostFactory(topic=quiet_topic, author=alike[2], body_markdown="A post in the quiet room.")
    with tenant_context(tenant_b):
        b_topic = TopicFactory(community=CommunityFactory(slug="b-only"), author=other_tenant)
        PostFactory(topic=b_topic, author=other_tenant, body_markdown="Tenant B secret text.")
    return {
        "agreement": agreement,
        "recipient": recipient,
        "staff": named_staff(),
        "lupus": lupus,
        "alike": alike,
        "outlier": outlier,
        "contact_only": contact_only,
        "never": never,
        "other_tenant": other_tenant,
        "posts": posts,
        "tenant_a": tenant_a,
        "tenant_b": tenant_b,
    }


def run(world: dict[str, Any], capture: Any, **overrides: Any) -> ResearchExport:
    params: dict[str, Any] = {
        "actor": world["staff"],
        "agreement": world["agreement"],
        "tenant_ids": [world["tenant_a"].pk],
        "datasets": ALL,
        "k": 5,
        "title": "Lupus study",
    }
    params.update(overrides)
    with capture(execute=True):  # the real Celery task, run eagerly on commit
        export = services.define_export(**params)
    export.refresh_from_db()
    assert export.status == ExportStatus.READY, export.error
    return export


def files_of(export: ResearchExport) -> dict[str, bytes]:
    return {f.name: vault.decrypt_file_bytes(Path(f.path).read_bytes()) for f in export.files.all()}


def csv_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode())))


def pseudonym_of(world: dict[str, Any], member: Member, agreement: Any = None) -> str:
    secret = services.agreement_secret(agreement or world["agreement"])
    return vault.pseudonym(secret, "member", str(member.public_id))


# --- scope ------------------------------------------------------------------------------------------


def test_exports_outside_the_agreement_scope_are_refused_with_a_reason(world, django_capture_on_commit_callbacks):
    staff, agreement = world["staff"], world["agreement"]
    base: dict[str, Any] = {"actor": staff, "agreement": agreement, "datasets": ALL, "channel": "api"}
    with pytest.raises(InvalidInput) as outside:
        services.define_export(tenant_ids=[world["tenant_a"].pk, world["tenant_b"].pk], **base)
    assert outside.value.code == "outside_scope"
    assert outside.value.details == {"tenants": ["beta-society"]}
    assert "outside the agreement's scope" in outside.value.message
    other_condition = Condition.objects.exclude(pk=world["lupus"].pk).exclude(parent=world["lupus"]).first()
    with pytest.raises(InvalidInput) as condition:
        services.define_export(tenant_ids=[world["tenant_a"].pk], condition_ids=[other_condition.pk], **base)
    assert condition.value.code == "outside_scope" and condition.value.details == {"conditions": [other_condition.name]}
    with pytest.raises(InvalidInput) as bad:
        services.define_export(
            tenant_ids=[world["tenant_a"].pk],
            community_slugs=["nope"],
            k=3,
            date_from=datetime.date(2026, 5, 1),
            date_to=datetime.date(2026, 4, 1),
            **{**base, "datasets": ["emails"]},
        )
    assert set(bad.value.details) == {"communities", "k", "date_to", "datasets"}
    # An agreement covering only "contact about studies" cannot release data.
    contact_agreement, _ = research_agreement(
        tenants=[world["tenant_a"]], purposes=[CONTACT], conditions=[world["lupus"]], name="Contact Only Uni"
    )
    with pytest.raises(InvalidInput, match="does not cover de-identified data sharing"):
        services.define_export(**{**base, "agreement": contact_agreement}, tenant_ids=[world["tenant_a"].pk])
    partnership_services.suspend_agreement(actor=None, agreement_id=agreement.pk, reason="Unpaid")
    agreement.refresh_from_db()
    with pytest.raises(Conflict, match="not active"):
        services.define_export(**{**base, "agreement": agreement}, tenant_ids=[world["tenant_a"].pk])
    plain_staff = MemberFactory(is_staff=True)
    with pytest.raises(NotAllowed):
        services.define_export(**{**base, "actor": plain_staff}, tenant_ids=[world["tenant_a"].pk])
    assert ResearchExport.objects.count() == 0
    refusals = ResearchEvent.objects.filter(action="export_refused")
    assert refusals.count() == 6
    assert set(refusals.values_list("details__code", flat=True)) == {
        "outside_scope", "invalid", "agreement_inactive", "not_research_staff"
    }  # fmt: skip


def test_a_date_range_outside_the_agreements_term_is_refused_with_a_reason(world, django_capture_on_commit_callbacks):
    staff, agreement = world["staff"], world["agreement"]
    base: dict[str, Any] = {
        "actor": staff, "agreement": agreement, "datasets": ALL, "channel": "api", "tenant_ids": [world["tenant_a"].pk]
    }  # fmt: skip
    with pytest.raises(InvalidInput) as early:
        services.define_export(date_from=datetime.date(2025, 12, 31), **base)
    assert early.value.code == "outside_scope"
    assert "outside the agreement's scope" in early.value.message and "2026-01-01" in early.value.message
    assert early.value.details == {"date_from": ["2025-12-31 is before the agreement's term starts (2026-01-01)."]}
    with pytest.raises(InvalidInput) as both_before:
        services.define_export(date_from=datetime.date(2025, 1, 1), date_to=datetime.date(2025, 6, 30), **base)
    assert set(both_before.value.details) == {"date_from", "date_to"}
    # An agreement that ended its term early for posts: a range reaching past its end is refused too.
    partnership_services.update_agreement(actor=None, agreement=agreement, ends_on=datetime.date(2027, 6, 30))
    agreement.refresh_from_db()
    with pytest.raises(InvalidInput) as late:
        services.define_export(date_to=datetime.date(2027, 7, 1), **{**base, "agreement": agreement})
    assert late.value.details == {"date_to": ["2027-07-01 is after the agreement's term ends (2027-06-30)."]}
    assert ResearchExport.objects.count() == 0
    refusals = ResearchEvent.objects.filter(action="export_refused", details__code="outside_scope")
    assert refusals.count() == 3
    # The API says the same with a 400.
    body = {"agreement": str(agreement.public_id), "tenants": [TENANT_A["slug"]], "datasets": ALL,
            "date_from": "2025-12-01"}  # fmt: skip
    response = signed_in(ROOT_HOST, staff).post("/api/v1/research/exports/", body, content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "outside_scope"
    assert response.json()["details"] == {
        "date_from": ["2025-12-01 is before the agreement's term starts (2026-01-01)."]
    }
    # Within the term it runs; an open range takes the term's bounds (recorded in the manifest).
    export = run(world, django_capture_on_commit_callbacks, agreement=agreement)
    assert (export.date_from, export.date_to) == (datetime.date(2026, 1, 1), datetime.date(2027, 6, 30))
    parameters = json.loads(files_of(export)["manifest.json"])["parameters"]
    assert (parameters["date_from"], parameters["date_to"]) == ("2026-01-01", "2027-06-30")


# --- one export, end to end ------------------------------------------------------------------------


def test_an_export_releases_consenting_members_k_anonymously_with_a_complete_manifest(
    world, django_capture_on_commit_callbacks
):
    export = run(world, django_capture_on_commit_callbacks)
    files = files_of(export)
    assert set(files) == set(services.FILE_NAMES)
    # Encrypted at rest: nothing on disk reads as CSV or JSON.
    for file in export.files.all():
        raw = Path(file.path).read_bytes()
        assert b"member_id" not in raw and b"agreement" not in raw
        assert oct(Path(file.path).stat().st_mode)[-3:] == "600"

    manifest = json.loads(files["manifest.json"])
    for name, entry in manifest["files"].items():
        assert hashlib.sha256(files[name]).hexdigest() == entry["sha256"]
        assert len(files[name]) == entry["bytes"]
    assert set(manifest["files"]) == set(services.FILE_NAMES) - {"manifest.json"}
    assert export.files.get(name="manifest.json").sha256 == hashlib.sha256(files["manifest.json"]).hexdigest()
    assert manifest["agreement"]["id"] == str(world["agreement"].public_id)
    assert manifest["parameters"]["tenants"] == [TENANT_A["slug"]]
    assert manifest["consent"]["purpose"] == RESEARCH
    assert manifest["consent"]["policy_version_in_effect"] == 1
    assert manifest["consent"]["granted_under_versions"] == {"1": 6}
    assert manifest["k"] == 5
    assert manifest["software"]["name"] == "kindred" and manifest["software"]["version"]

    members = csv_rows(files["members.csv"])
    expected = {pseudonym_of(world, m) for m in world["alike"]}
    assert {row["member_id"] for row in members} == expected
    # k-anonymity recomputed from the released file.
    classes = Counter(tuple(row[q] for q in kanon.QUASI_IDENTIFIERS) for row in members)
    assert classes and min(classes.values()) >= 5
    assert manifest["counts"]["members"]["included"] == 6
    assert manifest["counts"]["members"]["excluded"]["k_anonymity_suppressed"] == 1
    assert manifest["counts"]["members"]["excluded"]["no_current_consent"] == 2

    posts = csv_rows(files["posts.csv"])
    assert {row["member_id"] for row in posts} <= expected
    texts = " ".join(row["text"] + row["title"] for row in posts)
    assert "[EMAIL]" in texts and "[PHONE]" in texts and "[NAME]" in texts
    assert "methotrexate" in texts and "Humira" in texts and "lupus" in texts
    for leaked in ("lauren.w@example.com", "555-201-7788", "Whitfield", "only 95-year-old", "Contact-only",
                   "Never-asked", "Tenant B secret"):  # fmt: skip
        assert leaked not in texts
    assert manifest["counts"]["posts"] == {"included": len(posts), "excluded_suppressed_members": 1}
    assert {row["tenant"] for row in posts} == {TENANT_A["slug"]}
    assert all(len(row["created_month"]) == 7 for row in posts)

    dictionary = json.loads(files["data_dictionary.json"])
    assert [c["name"] for c in dictionary["files"]["members.csv"]["columns"]][:6] == [
        "member_id", *kanon.QUASI_IDENTIFIERS
    ]  # fmt: skip
    assert b"<table>" in files["data_dictionary.html"] and b"created_month" in files["data_dictionary.html"]

    # Who was included is recorded for the members; every step is audited.
    assert set(ReleaseInclusion.objects.filter(export=export).values_list("member_id", flat=True)) == {
        m.pk for m in world["alike"]
    }
    assert list(export.events.order_by("pk").values_list("action", flat=True)) == [
        "export_defined", "export_started", "export_ready"
    ]  # fmt: skip


def test_isolation_a_tenant_outside_the_export_never_appears(world, django_capture_on_commit_callbacks):
    export = run(world, django_capture_on_commit_callbacks)
    files = files_of(export)
    everything = b"".join(files.values()).decode()
    assert pseudonym_of(world, world["other_tenant"]) not in everything
    assert "beta-society" not in everything and "b-only" not in everything and "Tenant B" not in everything
    assert not ReleaseInclusion.objects.filter(member=world["other_tenant"]).exists()


def test_community_and_date_filters_bound_the_release(world, django_capture_on_commit_callbacks):
    export = run(world, django_capture_on_commit_callbacks, community_slugs=["lupus-talk"])
    posts = csv_rows(files_of(export)["posts.csv"])
    assert {row["community"] for row in posts} == {"lupus-talk"}
    tomorrow = datetime.date.today() + datetime.timedelta(days=1)
    later = run(
        world, django_capture_on_commit_callbacks, date_from=tomorrow - datetime.timedelta(days=1), date_to=tomorrow
    )
    assert len(csv_rows(files_of(later)["posts.csv"])) == 3  # today's posts of released members
    old = run(world, django_capture_on_commit_callbacks, date_to=datetime.date(2026, 1, 31))
    assert csv_rows(files_of(old)["posts.csv"]) == []


# --- consent between exports, pseudonyms -------------------------------------------------------------


def test_a_withdrawal_between_two_exports_excludes_the_member_from_the_later_one(
    world, django_capture_on_commit_callbacks
):
    first = run(world, django_capture_on_commit_callbacks)
    leaver = world["alike"][5]
    record_consent(member=leaver, purpose=RESEARCH, granted=False, channel="web")
    second = run(world, django_capture_on_commit_callbacks)
    first_ids = {row["member_id"] for row in csv_rows(files_of(first)["members.csv"])}
    second_ids = {row["member_id"] for row in csv_rows(files_of(second)["members.csv"])}
    assert pseudonym_of(world, leaver) in first_ids
    assert second_ids == first_ids - {pseudonym_of(world, leaver)}  # the others keep their pseudonyms
    assert json.loads(files_of(second)["manifest.json"])["counts"]["members"]["excluded"]["no_current_consent"] == 3
    # The earlier release still lists the member (it happened); the later one does not.
    assert ReleaseInclusion.objects.filter(member=leaver, export=first).exists()
    assert not ReleaseInclusion.objects.filter(member=leaver, export=second).exists()


def test_pseudonyms_are_stable_within_an_agreement_and_unlinkable_across_agreements(
    world, django_capture_on_commit_callbacks
):
    first = run(world, django_capture_on_commit_callbacks)
    again = run(world, django_capture_on_commit_callbacks)
    other, _ = research_agreement(
        tenants=[world["tenant_a"]], purposes=[RESEARCH], conditions=[world["lupus"]], name="Other Institute"
    )
    elsewhere = run(world, django_capture_on_commit_callbacks, agreement=other)

    def ids(export: ResearchExport, name: str, column: str) -> set[str]:
        return {row[column] for row in csv_rows(files_of(export)[name])}

    assert ids(first, "members.csv", "member_id") == ids(again, "members.csv", "member_id")
    assert ids(first, "posts.csv", "post_id") == ids(again, "posts.csv", "post_id")
    assert ids(first, "members.csv", "member_id").isdisjoint(ids(elsewhere, "members.csv", "member_id"))
    assert ids(first, "posts.csv", "post_id").isdisjoint(ids(elsewhere, "posts.csv", "post_id"))
    # The secret is stored encrypted, never in clear.
    key = world["agreement"].research_key
    assert services.agreement_secret(world["agreement"]) not in bytes(key.encrypted_secret)


def test_running_twice_changes_nothing(world, django_capture_on_commit_callbacks):
    export = run(world, django_capture_on_commit_callbacks)
    before = {f.name: f.sha256 for f in export.files.all()}
    again = services.build_export(export_id=export.pk)
    assert {f.name: f.sha256 for f in again.files.all()} == before
    # A half-done run (a worker lost after starting) starts over and produces the same files.
    ResearchExport.objects.filter(pk=export.pk).update(status=ExportStatus.RUNNING)
    redone = services.build_export(export_id=export.pk)
    assert {f.name: f.sha256 for f in redone.files.all()} == before
    assert ReleaseInclusion.objects.filter(export=export).count() == 6


def test_a_rerun_after_a_withdrawal_leaves_the_member_out(world, django_capture_on_commit_callbacks):
    """Consent is passed again at every run: a worker lost mid-run and re-delivered after a withdrawal
    does not release the member who withdrew in between (even though the run's moment is older)."""
    export = run(world, django_capture_on_commit_callbacks)
    leaver = world["alike"][0]
    record_consent(member=leaver, purpose=RESEARCH, granted=False, channel="web")
    ResearchExport.objects.filter(pk=export.pk).update(status=ExportStatus.RUNNING)
    redone = services.build_export(export_id=export.pk)
    assert pseudonym_of(world, leaver) not in {row["member_id"] for row in csv_rows(files_of(redone)["members.csv"])}
    assert not ReleaseInclusion.objects.filter(export=export, member=leaver).exists()
    assert ReleaseInclusion.objects.filter(export=export).count() == 5


# --- downloads ------------------------------------------------------------------------------------


def test_only_recipients_download_through_expiring_logged_links(world, django_capture_on_commit_callbacks, settings):
    export = run(world, django_capture_on_commit_callbacks)
    recipient, staff = world["recipient"], world["staff"]
    token = services.issue_download_link(member=recipient, export=export, name="members.csv")
    response = signed_in(ROOT_HOST, recipient).get(f"/research/downloads/{token}/")
    assert response.status_code == 200
    assert response.content == files_of(export)["members.csv"]
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    downloaded = ResearchEvent.objects.get(action="downloaded")
    assert (downloaded.actor_id, downloaded.export_id, downloaded.details["file"]) == (
        recipient.pk,
        export.pk,
        "members.csv",
    )

    # Anyone else with the same link, named staff included, is refused (and that is logged too).
    for other in (staff, world["alike"][0], MemberFactory()):
        refused = signed_in(ROOT_HOST, other).get(f"/research/downloads/{token}/")
        assert refused.status_code == 404
        assert b"member_id" not in refused.content
    with pytest.raises(NotFound):
        services.issue_download_link(member=staff, export=export, name="members.csv")
    assert ResearchEvent.objects.filter(action="download_refused").count() == 3
    assert ResearchEvent.objects.filter(action="downloaded").count() == 1

    # The release page gives the recipient a link per file (each issued link is logged); not to others.
    page = signed_in(ROOT_HOST, recipient).get(f"/research/exports/{export.public_id}/").content.decode()
    assert page.count("/research/downloads/") == len(services.FILE_NAMES)
    assert ResearchEvent.objects.filter(action="link_issued", actor=recipient).count() == 1 + len(services.FILE_NAMES)
    staff_page = signed_in(ROOT_HOST, staff).get(f"/research/exports/{export.public_id}/").content.decode()
    assert "/research/downloads/" not in staff_page and "Manifest" in staff_page

    # An expired link is refused.
    settings.KINDRED_RESEARCH_LINK_TTL = -1
    expired = signed_in(ROOT_HOST, recipient).get(f"/research/downloads/{token}/")
    assert expired.status_code == 410
    assert ResearchEvent.objects.filter(action="download_refused", details__reason="expired").count() == 1
    assert ResearchEvent.objects.filter(action="downloaded").count() == 1


def test_only_the_named_recipients_get_the_data_not_every_representative(world, django_capture_on_commit_callbacks):
    export = run(world, django_capture_on_commit_callbacks)
    agreement, recipient = world["agreement"], world["recipient"]
    colleague = cast(Member, MemberFactory())  # acts for the partner, but is not named on the agreement
    agreement.partner.representatives.add(colleague)
    token = services.issue_download_link(member=recipient, export=export, name="members.csv")
    with pytest.raises(NotFound):
        services.issue_download_link(member=colleague, export=export, name="members.csv")
    assert signed_in(ROOT_HOST, colleague).get(f"/research/downloads/{token}/").status_code == 404
    assert signed_in(ROOT_HOST, colleague).get(f"/research/exports/{export.public_id}/").status_code == 404
    assert signed_in(ROOT_HOST, colleague).get("/api/v1/research/exports/").json() == []
    assert signed_in(ROOT_HOST, colleague).get(f"/api/v1/research/exports/{export.public_id}/").status_code == 404

    # Staff name the colleague and drop the first recipient: the old recipient's own link stops working.
    partnership_services.set_agreement_recipients(actor=None, agreement=agreement, member_ids=[colleague.pk])
    assert signed_in(ROOT_HOST, recipient).get(f"/research/downloads/{token}/").status_code == 404
    assert signed_in(ROOT_HOST, recipient).get("/api/v1/research/exports/").json() == []
    with pytest.raises(NotFound):
        services.issue_download_link(member=recipient, export=export, name="members.csv")
    fresh = services.issue_download_link(member=colleague, export=export, name="members.csv")
    got = signed_in(ROOT_HOST, colleague).get(f"/research/downloads/{fresh}/")
    assert got.status_code == 200 and got.content == files_of(export)["members.csv"]
    assert list(
        ResearchEvent.objects.filter(action__in=["downloaded", "download_refused"])
        .order_by("pk")
        .values_list("action", "actor_id")
    ) == [("download_refused", colleague.pk), ("download_refused", recipient.pk), ("downloaded", colleague.pk)]
    # Leaving the partner does not matter either way: only the agreement's list counts.
    agreement.partner.representatives.remove(colleague)
    assert services.issue_download_link(member=colleague, export=export, name="manifest.json")


def test_the_api_defines_shows_and_links_exports(world, django_capture_on_commit_callbacks):
    staff, recipient = world["staff"], world["recipient"]
    body = {
        "agreement": str(world["agreement"].public_id),
        "tenants": [TENANT_A["slug"]],
        "datasets": ALL,
        "k": 5,
        "title": "Via the API",
    }
    url = "/api/v1/research/exports/"
    plain = signed_in(ROOT_HOST, MemberFactory(is_staff=True)).post(url, body, content_type="application/json")
    assert plain.status_code == 403 and plain.json()["code"] == "not_research_staff"
    outside = signed_in(ROOT_HOST, staff).post(
        url, {**body, "tenants": [TENANT_A["slug"], "beta-society"]}, content_type="application/json"
    )
    assert outside.status_code == 400 and outside.json()["code"] == "outside_scope"
    with django_capture_on_commit_callbacks(execute=True):
        created = signed_in(ROOT_HOST, staff).post(url, body, content_type="application/json")
    assert created.status_code == 201, created.content
    detail_url = f"{url}{created.json()['id']}/"
    shown = signed_in(ROOT_HOST, staff).get(detail_url).json()
    assert shown["status"] == "ready" and shown["manifest"]["counts"]["members"]["included"] == 6
    assert all(f["download_url"] is None for f in shown["files"])  # staff do not get the files
    mine = signed_in(ROOT_HOST, recipient).get(detail_url).json()
    links = {f["name"]: f["download_url"] for f in mine["files"]}
    assert set(links) == set(services.FILE_NAMES) and all(links.values())
    path = links["manifest.json"].split("testserver", 1)[-1].split(ROOT_HOST, 1)[-1]
    assert signed_in(ROOT_HOST, recipient).get(path).status_code == 200
    assert signed_in(ROOT_HOST, world["alike"][0]).get(detail_url).status_code == 404
    assert signed_in(ROOT_HOST, world["alike"][0]).get(url).json() == []
    assert ResearchEvent.objects.filter(action="export_defined", channel="api").count() == 1


# --- members ----------------------------------------------------------------------------------------


def test_members_see_the_releases_that_included_their_data(world, django_capture_on_commit_callbacks):
    export = run(world, django_capture_on_commit_callbacks)
    included, suppressed = world["alike"][0], world["outlier"]
    page = signed_in(ROOT_HOST, included).get("/accounts/privacy/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Research releases that included your data" in text
    assert world["agreement"].partner.name in text and "Lupus study" in text
    api = signed_in(ROOT_HOST, included).get("/api/v1/research/releases/mine/").json()
    assert [(r["release"], r["partner"], r["posts"]) for r in api] == [
        (str(export.public_id), world["agreement"].partner.name, 1)
    ]
    for outsider in (suppressed, world["contact_only"], world["other_tenant"]):
        assert signed_in(ROOT_HOST, outsider).get("/api/v1/research/releases/mine/").json() == []
        assert (
            "No research release has included your data."
            in signed_in(ROOT_HOST, outsider).get("/accounts/privacy/").content.decode()
        )


def test_the_staff_page_defines_exports_and_refuses_with_a_reason(world, django_capture_on_commit_callbacks):
    staff = signed_in(ROOT_HOST, world["staff"])
    assert staff.get("/research/exports/").status_code == 200
    form = {
        "agreement": str(world["agreement"].public_id),
        "tenants": [world["tenant_a"].pk, world["tenant_b"].pk],
        "datasets": ALL,
        "k": 11,
    }
    refused = staff.post("/research/exports/", form)
    assert refused.status_code == 400
    assert "outside the agreement&#x27;s scope" in refused.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        made = staff.post("/research/exports/", {**form, "tenants": [world["tenant_a"].pk]})
    assert made.status_code == 302
    export = ResearchExport.objects.get()
    assert export.k == 11 and export.status == ExportStatus.READY
    assert staff.get(made["Location"]).status_code == 200
    # Not for anyone else.
    assert signed_in(ROOT_HOST, MemberFactory(is_staff=True)).get("/research/exports/").status_code == 404
    assert signed_in(ROOT_HOST, world["alike"][0]).get(made["Location"]).status_code == 404


def test_the_research_audit_is_append_only_but_forgets_people(world):
    event = services.audit(action="dataset_pulled", channel="api", actor=world["staff"], rows=1)
    with pytest.raises(DatabaseError), transaction.atomic():
        ResearchEvent.objects.filter(pk=event.pk).update(action="nothing")
    with pytest.raises(DatabaseError), transaction.atomic():
        ResearchEvent.objects.filter(pk=event.pk).delete()
    ResearchEvent.objects.filter(pk=event.pk).update(actor=None)  # erasure may forget who acted
    event.refresh_from_db()
    assert (event.action, event.actor_id, event.details) == ("dataset_pulled", None, {"rows": 1})


def test_erasing_a_member_removes_their_inclusions_and_keeps_the_release(world, django_capture_on_commit_callbacks):
    export = run(world, django_capture_on_commit_callbacks)
    leaver = world["alike"][3]
    staff_id = world["staff"].pk
    done = erase_member(member=leaver, keep_posts=True, requested_by=leaver)
    assert done.status == "done"
    assert not Member.objects.filter(pk=leaver.pk).exists()
    assert ReleaseInclusion.objects.filter(export=export).count() == 5
    assert json.loads(files_of(export)["manifest.json"])["counts"]["members"]["included"] == 6
    # The staff member who defined it is still named (only the leaver is forgotten).
    assert export.events.filter(action="export_defined", actor_id=staff_id).exists()


def test_a_members_own_data_download_lists_the_releases_that_included_them(world, django_capture_on_commit_callbacks):
    export = run(world, django_capture_on_commit_callbacks)
    data = collect_member_data(member_id=world["alike"][0].pk)
    releases = data["public"]["research"]["releases_including_my_data"]
    assert [(r["release"], r["partner"], r["posts"]) for r in releases] == [
        (str(export.public_id), world["agreement"].partner.name, 1)
    ]
    outlier = collect_member_data(member_id=world["outlier"].pk)["public"]["research"]
    assert outlier == {"releases_including_my_data": [], "research_actions": []}
