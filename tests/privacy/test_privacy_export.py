"""Data export: a ZIP of JSON plus a readable page, with everything the member has and nothing else."""

from __future__ import annotations

import datetime
import json
import zipfile
from pathlib import Path

import pytest
from django.test.utils import isolate_apps
from django.utils import timezone
from django_tenants.utils import tenant_context

from communities import services as community_services
from members.models import Member
from privacy import registry, services
from privacy.models import DataExport, ExportStatus
from tests.conftest import TENANT_A, TENANT_B, signed_in
from tests.privacy.world import build_member_everywhere

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(tenant_a, tenant_b, settings, tmp_path):
    settings.KINDRED_POSTING_RATE = "1000/1m"
    settings.KINDRED_EXPORTS_DIR = str(tmp_path / "exports")
    return build_member_everywhere(tenant_a=tenant_a, tenant_b=tenant_b)


def _export(member, django_capture_on_commit_callbacks) -> DataExport:
    with django_capture_on_commit_callbacks(execute=True):  # the real task, run eagerly
        export = services.request_export(member=member)
    export.refresh_from_db()
    return export


def _read(export: DataExport) -> dict[str, str]:
    with zipfile.ZipFile(export.file_path) as archive:
        return {name: archive.read(name).decode() for name in archive.namelist()}


def test_exports_live_in_a_private_folder_never_served(settings):
    default = Path(settings.DATA_DIR) / "exports"
    assert Path(settings.KINDRED_EXPORTS_DIR) == default
    for served in (settings.MEDIA_ROOT, settings.STATIC_ROOT):
        assert not default.resolve().is_relative_to(Path(served).resolve())


def test_every_model_referencing_a_member_is_covered_by_a_provider():
    missing = registry.uncovered_models()
    assert missing == [], (
        f"{missing} reference Member but no personal-data provider covers them: register an exporter and an "
        "eraser with privacy.registry.register_personal_data in the app's ready() (see docs/privacy.md)"
    )
    # Data about members held without a foreign key is listed too.
    from django.contrib.sessions.models import Session

    assert Session in registry.covered_models()


def test_a_new_model_referencing_members_fails_the_completeness_check():
    with isolate_apps("privacy"):
        from django.conf import settings
        from django.db import models

        class SavedTrial(models.Model):  # noqa: DJ008
            member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)

            class Meta:
                app_label = "privacy"

        assert registry.uncovered_models(candidates=[SavedTrial, Member]) == ["privacy.SavedTrial"]
        registry.register_personal_data(
            name="trials-test", models=[SavedTrial], export=lambda m: [], erase=lambda m, k: None, schema="public"
        )
        try:
            assert registry.uncovered_models(candidates=[SavedTrial, Member]) == []
        finally:
            registry.unregister_personal_data(name="trials-test", schema="public")


def test_the_zip_holds_everything_of_the_member_across_tenants(world, tenant_a, django_capture_on_commit_callbacks):
    zed, tag = world.zed, world.tag
    with tenant_context(tenant_a):
        community_services.create_reply(
            acting_member=zed, tenant=tenant_a, topic=world.tenants[TENANT_A["slug"]].topic,
            body="<script>alert('x')</script> tricky",
        )  # fmt: skip
    export = _export(zed, django_capture_on_commit_callbacks)

    assert (export.status, export.progress) == (ExportStatus.READY, 100)
    assert Path(export.file_path).parent == Path(services.exports_dir())
    assert oct(Path(export.file_path).stat().st_mode & 0o777) == "0o600"
    files = _read(export)
    a, b = TENANT_A["slug"], TENANT_B["slug"]
    # One file per public provider (whatever apps registered, e.g. consent), one per tenant provider
    # with data; the platform's own are always there.
    public = {f"{provider.name}.json" for provider in registry.providers(schema="public")}
    assert public >= {"account.json", "privacy.json", "access.json", "admin-log.json"}
    assert sorted(files) == sorted([
        "index.html", *public,
        f"tenants/{a}/communities.json", f"tenants/{a}/third-party.json",
        f"tenants/{b}/communities.json", f"tenants/{b}/third-party.json",
    ])  # fmt: skip
    account = json.loads(files["account.json"])
    assert account["profile"]["email"] == zed.email
    assert account["profile"]["conditions"] == [world.condition.name]
    assert account["privacy_settings"]["show_conditions"] is True
    assert sorted((m["tenant"], m["display_name_here"]) for m in account["memberships"]) == [
        (a, world.names[a]), (b, world.names[b])
    ]  # fmt: skip
    assert sorted(c["tenant"] for c in account["role_changes"]) == [a, b]
    assert json.loads(files["privacy.json"])["staff_access"][0]["reason"] == "Support ticket 42"
    trials = json.loads(files["trials.json"])
    assert [saved["nct_id"] for saved in trials["saved_trials"]] == [world.nct_id]
    assert [(alert["place"], alert["distance_miles"]) for alert in trials["alert"]] == [("40.7128, -74.0060", 50)]
    assert [notice["message"] for notice in trials["notices"]] == ["Now recruiting"]
    for slug in (a, b):
        here = world.tenants[slug]
        data = json.loads(files[f"tenants/{slug}/communities.json"])
        post_bodies = [p["body_markdown"] for p in data["posts"]]
        assert post_bodies[:3] == [f"Zed's opening words {tag}", f"Zed replies, edited {tag}",
                                   f"Zed's rule-breaking reply {tag}"]  # fmt: skip
        assert [t["title"] for t in data["topics"]] == [f"Zed asks in {slug}"]
        assert [v["body_markdown"] for v in data["earlier_versions_of_my_posts"]] == [f"Zed replies {tag}"]
        assert [(r["post_id"], r["kind"]) for r in data["reactions"]] == [(here.other_opening.pk, "helpful")]
        assert sorted(f["topic_id"] for f in data["topic_follows"]) == sorted([here.topic.pk, here.other_topic.pk])
        assert [(f["community"], f["level"]) for f in data["community_follows"]] == [(here.community.slug, "watching")]
        assert [m["community"] for m in data["community_memberships"]] == [here.community.slug]
        assert len(data["notifications"]) == here.notifications >= 2
        assert sorted(t["name"] for t in data["tag_proposals"]) == sorted([f"zedtag{tag}", f"zedsym{tag}"])
        decisions = data["moderation_decisions_about_me"]
        assert decisions == [{
            "kind": "post_removed", "summary": f"Removed post #{here.removed.pk}", "reason": "",
            "community": here.community.slug, "topic_id": here.topic.pk, "post_id": here.removed.pk,
            "decided_at": decisions[0]["decided_at"],
        }]  # fmt: skip
        assert data["moderation_decisions_i_took"] == []
        assert [n["kind"] for n in data["notifications"]].count("moderation") == 1
    # Nothing of anyone else: Otto's email, his own posts' texts.
    everything = "\n".join(files.values())
    assert world.other.email not in everything
    assert "Otto's news" not in everything
    # The readable page shows the data, escaped.
    index = files["index.html"]
    assert f"Zed replies, edited {tag}" in index
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; tricky" in index
    assert "<script>" not in index


def test_the_download_link_needs_the_same_member_and_expires(world, django_capture_on_commit_callbacks):
    zed = world.zed
    export = _export(zed, django_capture_on_commit_callbacks)
    token = services.make_download_token(export=export)
    url = f"/accounts/privacy/exports/download/{token}/"

    response = signed_in("localhost", zed).get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="kindred-data-{export.public_id}.zip"'
    assert response["Cache-Control"] == "private, no-store"
    assert b"".join(response.streaming_content)[:2] == b"PK"
    export.refresh_from_db()
    assert export.downloaded_at is not None

    assert signed_in("localhost", world.other).get(url).status_code == 404  # someone else's link
    anonymous = signed_in("localhost", zed)
    anonymous.logout()
    assert anonymous.get(url).status_code == 302  # to sign-in
    assert signed_in("localhost", zed).get(url[:-5] + "xxxx/").status_code == 404

    DataExport.objects.filter(pk=export.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    response = signed_in("localhost", zed).get(url)
    assert response.status_code == 410
    export.refresh_from_db()
    assert (export.status, export.file_path) == (ExportStatus.EXPIRED, "")
    assert list(Path(services.exports_dir()).iterdir()) == []


def test_the_purge_deletes_expired_files_only(world, django_capture_on_commit_callbacks):
    old = _export(world.zed, django_capture_on_commit_callbacks)
    fresh = _export(world.other, django_capture_on_commit_callbacks)
    DataExport.objects.filter(pk=old.pk).update(expires_at=timezone.now() - datetime.timedelta(minutes=1))

    assert services.purge_expired_exports() == 1
    assert not Path(old.file_path).exists()
    assert Path(fresh.file_path).is_file()
    assert DataExport.objects.get(pk=old.pk).status == ExportStatus.EXPIRED
    assert DataExport.objects.get(pk=fresh.pk).status == ExportStatus.READY
    assert services.purge_expired_exports() == 0


def test_beat_purges_expired_exports(settings):
    from config.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["purge-expired-data-exports"]
    assert entry["task"] == "privacy.tasks.purge_expired_exports_task"
    assert entry["task"] in app.tasks
