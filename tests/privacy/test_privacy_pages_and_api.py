"""Privacy settings, names per tenant, profiles, exports, deletion and the staff-access log: web and API."""

from __future__ import annotations

import pytest
from django.contrib.auth import SESSION_KEY

from members.models import Member, TenantMembership
from members.selectors import local_id_of
from privacy.models import DataExport, ErasureRequest, ErasureStatus, ExportStatus, StaffAccess
from tests.conftest import PASSWORD, TENANT_A, TENANT_B, host_client, signed_in
from tests.factories import MemberFactory, TenantMembershipFactory

pytestmark = pytest.mark.django_db
ROOT = "localhost"

FLAGS = ("show_conditions", "show_location", "show_role", "listed_in_member_lists")


@pytest.fixture
def exports_dir(settings, tmp_path):
    settings.KINDRED_EXPORTS_DIR = str(tmp_path / "exports")
    return tmp_path / "exports"


class TestSettings:
    def test_defaults_are_the_private_choice(self):
        member = Member.objects.create_user("new-person@example.test", PASSWORD)
        assert [getattr(member, flag) for flag in FLAGS] == [False, False, False, False]
        page = signed_in(ROOT, member).get("/accounts/privacy/").content.decode()
        for flag in FLAGS:
            assert f'name="{flag}" id="id_{flag}"' in page
            assert f'name="{flag}" id="id_{flag}" checked' not in page

    def test_the_page_saves_settings(self):
        member = MemberFactory()
        response = signed_in(ROOT, member).post("/accounts/privacy/", {"show_role": "on", "email_notifications": "off"})
        assert response.status_code == 302
        member.refresh_from_db()
        assert [getattr(member, flag) for flag in FLAGS] == [False, False, True, False]
        assert member.email_notifications == "off"

    def test_api_reads_and_patches_settings_and_rejects_bad_input(self):
        member = MemberFactory()
        client = signed_in(ROOT, member)
        assert client.get("/api/v1/privacy/settings/").json() == {
            "show_conditions": False, "show_location": False, "show_role": False,
            "listed_in_member_lists": False, "email_notifications": "digest",
        }  # fmt: skip
        response = client.patch(
            "/api/v1/privacy/settings/", {"listed_in_member_lists": True}, content_type="application/json"
        )
        assert response.json()["listed_in_member_lists"] is True
        bad = client.patch(
            "/api/v1/privacy/settings/",
            {"show_conditions": "perhaps", "show_role": True},
            content_type="application/json",
        )
        assert bad.status_code == 400
        assert bad.json()["code"] == "invalid"
        member.refresh_from_db()
        assert (member.show_conditions, member.show_role, member.listed_in_member_lists) == (False, False, True)

    def test_anonymous_gets_nothing(self):
        anonymous = host_client(ROOT)
        assert anonymous.get("/api/v1/privacy/settings/").status_code == 401
        assert anonymous.get("/accounts/privacy/").status_code == 302
        assert anonymous.post("/api/v1/privacy/exports/").status_code == 401
        assert anonymous.post("/accounts/privacy/exports/").status_code == 302
        assert anonymous.post("/api/v1/privacy/erasure/", {"password": PASSWORD, "keep_posts": True}).status_code == 401
        assert anonymous.get("/api/v1/privacy/staff-access/").status_code == 401
        assert (DataExport.objects.count(), ErasureRequest.objects.count()) == (0, 0)


class TestNamesPerTenant:
    def test_a_name_per_tenant_stays_on_its_tenant(self, tenant_a, tenant_b):
        member = MemberFactory(display_name="Anna Kowalski")
        for tenant in (tenant_a, tenant_b):
            TenantMembershipFactory(member=member, tenant=tenant)
        a = signed_in(TENANT_A["domain"], member)
        response = a.put("/api/v1/me/name/", {"display_name": "river_walker"}, content_type="application/json")
        assert response.json() == {
            "tenant": TENANT_A["slug"],
            "display_name": "river_walker",
            "shown_as": "river_walker",
        }
        b = signed_in(TENANT_B["domain"], member).get("/api/v1/me/name/").json()
        assert b == {"tenant": TENANT_B["slug"], "display_name": "", "shown_as": "Anna Kowalski"}

    def test_a_name_taken_here_in_any_case_is_refused_and_nothing_changes(self, tenant_a, tenant_b):
        first, second = MemberFactory(), MemberFactory()
        for member in (first, second):
            TenantMembershipFactory(member=member, tenant=tenant_a)
            TenantMembershipFactory(member=member, tenant=tenant_b)
        signed_in(TENANT_A["domain"], first).put(
            "/api/v1/me/name/", {"display_name": "River Walker"}, content_type="application/json"
        )
        clash = signed_in(TENANT_A["domain"], second).put(
            "/api/v1/me/name/", {"display_name": "river walker"}, content_type="application/json"
        )
        assert clash.status_code == 409
        assert TenantMembership.objects.get(member=second, tenant=tenant_a).display_name == ""
        # Another tenant is another namespace.
        ok = signed_in(TENANT_B["domain"], second).put(
            "/api/v1/me/name/", {"display_name": "river walker"}, content_type="application/json"
        )
        assert ok.status_code == 200
        bad = signed_in(TENANT_A["domain"], second).put(
            "/api/v1/me/name/", {"display_name": "<b>x</b>"}, content_type="application/json"
        )
        assert bad.status_code == 400
        assert TenantMembership.objects.get(member=second, tenant=tenant_a).display_name == ""

    def test_the_web_form_sets_my_name_here(self, tenant_a):
        member = MemberFactory()
        TenantMembershipFactory(member=member, tenant=tenant_a)
        client = signed_in(TENANT_A["domain"], member)
        assert client.post("/members/me/name/", {"display_name": "Kite"}).status_code == 302
        assert TenantMembership.objects.get(member=member, tenant=tenant_a).display_name == "Kite"
        home = client.get("/").content.decode()
        assert "Here you are “Kite”." in home
        assert '<a href="/members/me/name/">My name here</a>' in home

    def test_non_members_have_no_name_here(self, tenant_a):
        response = signed_in(TENANT_A["domain"], MemberFactory()).get("/api/v1/me/name/")
        assert response.status_code == 404


class TestProfiles:
    @pytest.fixture
    def people(self, tenant_a, tenant_b):
        from conditions.models import Condition

        condition = Condition.objects.create(mesh_id="D990077", name="Privacy test lupus", slug="ptl")
        shown = MemberFactory(
            display_name="Shown", role="patient", region="Bavaria", country="DE", listed_in_member_lists=True,
            show_role=True, show_conditions=False, show_location=True,
        )  # fmt: skip
        shown.conditions.set([condition])
        hidden = MemberFactory(display_name="Hidden", role="caregiver")
        beta_only = MemberFactory(display_name="Beta only", listed_in_member_lists=True)
        viewer = MemberFactory(display_name="Viewer")
        for member in (shown, hidden, viewer):
            TenantMembershipFactory(member=member, tenant=tenant_a)
        TenantMembershipFactory(member=beta_only, tenant=tenant_b)
        TenantMembership.objects.filter(member=shown, tenant=tenant_a).update(display_name="Shown Here")
        return shown, hidden, beta_only, viewer

    def test_the_list_shows_only_listed_members_of_this_tenant(self, people):
        viewer = people[3]
        client = signed_in(TENANT_A["domain"], viewer)
        assert [row["display_name"] for row in client.get("/api/v1/profiles/").json()] == ["Shown Here"]
        page = client.get("/members/").content.decode()
        assert "Shown Here" in page
        assert "Hidden" not in page
        assert "Beta only" not in page

    def test_a_profile_shows_only_what_the_member_allowed(self, people, tenant_a, tenant_b):
        shown, hidden, beta_only, viewer = people
        client = signed_in(TENANT_A["domain"], viewer)
        data = client.get(f"/api/v1/profiles/{local_id_of(shown, tenant=tenant_a)}/").json()
        assert {key: value for key, value in data.items() if key != "joined_at"} == {
            "id": local_id_of(shown, tenant=tenant_a), "display_name": "Shown Here", "role": "Patient",
            "location": "Bavaria, Germany",
        }  # fmt: skip
        page = client.get(f"/members/{local_id_of(shown, tenant=tenant_a)}/").content.decode()
        assert "Privacy test lupus" not in page
        assert "Bavaria, Germany" in page
        assert client.get(f"/api/v1/profiles/{local_id_of(hidden, tenant=tenant_a)}/").status_code == 404
        assert client.get(f"/members/{local_id_of(hidden, tenant=tenant_a)}/").status_code == 404
        # The global id names no one here.
        assert client.get(f"/api/v1/profiles/{shown.public_id}/").status_code == 404
        assert client.get(f"/members/{shown.public_id}/").status_code == 404
        # A member of another tenant is unknown here, listed or not.
        for local_id in (local_id_of(beta_only, tenant=tenant_a), local_id_of(beta_only, tenant=tenant_b)):
            assert client.get(f"/api/v1/profiles/{local_id}/").status_code == 404
            assert client.get(f"/members/{local_id}/").status_code == 404

    def test_outsiders_see_no_profiles(self, people, tenant_a):
        shown = people[0]
        outsider = signed_in(TENANT_A["domain"], MemberFactory())
        assert outsider.get("/api/v1/profiles/").status_code == 404
        assert outsider.get(f"/members/{local_id_of(shown, tenant=tenant_a)}/").status_code == 404
        assert host_client(TENANT_A["domain"]).get("/members/").status_code == 404


class TestExports:
    def test_api_starts_an_export_and_reports_progress_and_link(self, exports_dir, django_capture_on_commit_callbacks):
        member, other = MemberFactory(), MemberFactory()
        client = signed_in(ROOT, member)
        with django_capture_on_commit_callbacks(execute=True):
            created = client.post("/api/v1/privacy/exports/")
        assert created.status_code == 202
        assert (created.json()["status"], created.json()["download_url"]) == ("pending", None)
        detail = client.get(f"/api/v1/privacy/exports/{created.json()['id']}/").json()
        assert (detail["status"], detail["progress"]) == ("ready", 100)
        assert client.get(detail["download_url"]).status_code == 200
        assert signed_in(ROOT, other).get(f"/api/v1/privacy/exports/{created.json()['id']}/").status_code == 404
        assert signed_in(ROOT, other).get(detail["download_url"]).status_code == 404

    def test_the_web_page_shows_progress_then_the_link(self, exports_dir):
        member = MemberFactory()
        client = signed_in(ROOT, member)
        response = client.post("/accounts/privacy/exports/")  # no commit in this test: the task waits
        export = DataExport.objects.get(member=member)
        assert response["Location"] == f"/accounts/privacy/exports/{export.public_id}/"
        page = client.get(response["Location"]).content.decode()
        assert '<meta http-equiv="refresh" content="2">' in page
        assert 'data-status="pending"' in page
        from privacy.services import build_export

        build_export(export_id=export.pk)
        page = client.get(response["Location"]).content.decode()
        assert "Download ZIP" in page
        assert "refresh" not in page
        assert DataExport.objects.get(pk=export.pk).status == ExportStatus.READY


class TestDeletion:
    def test_a_wrong_password_deletes_nothing(self, tenant_a):
        member = MemberFactory()
        TenantMembershipFactory(member=member, tenant=tenant_a)
        client = signed_in(ROOT, member)
        page = client.post("/accounts/delete/", {"password": "not-it", "keep_posts": "1"})
        assert page.status_code == 200
        assert "That password is not right." in page.content.decode()
        api = client.post(
            "/api/v1/privacy/erasure/", {"password": "nope", "keep_posts": True}, content_type="application/json"
        )
        assert (api.status_code, api.json()["code"]) == (400, "wrong_password")
        assert Member.objects.filter(pk=member.pk, is_active=True).exists()
        assert not ErasureRequest.objects.filter(member=member).exists()

    def test_deleting_with_the_password_signs_out_and_erases(self, tenant_a, django_capture_on_commit_callbacks):
        member = MemberFactory()
        TenantMembershipFactory(member=member, tenant=tenant_a)
        client = signed_in(ROOT, member)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/accounts/delete/", {"password": PASSWORD, "keep_posts": "0"})
        assert response.status_code == 302
        assert SESSION_KEY not in client.session
        assert not Member.objects.filter(pk=member.pk).exists()
        erasure = ErasureRequest.objects.get()
        assert (erasure.status, erasure.keep_posts, erasure.member_id) == (ErasureStatus.DONE, False, None)
        status_page = host_client(ROOT).get(response["Location"]).content.decode()
        assert 'data-status="done"' in status_page
        assert host_client(ROOT).get("/accounts/deleted/forged-token/").status_code == 404

    def test_the_api_deletes_too(self, django_capture_on_commit_callbacks):
        member = MemberFactory()
        client = signed_in(ROOT, member)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                "/api/v1/privacy/erasure/", {"password": PASSWORD, "keep_posts": True}, content_type="application/json"
            )
        assert response.status_code == 202
        assert response.json()["status_url"].startswith("/accounts/deleted/")
        assert not Member.objects.filter(pk=member.pk).exists()


class TestStaffAccess:
    @pytest.fixture
    def staff(self):
        return MemberFactory(display_name="Sam Staff", is_staff=True, is_superuser=True)

    def test_the_admin_asks_why_before_showing_a_member(self, staff, settings):
        member = MemberFactory(region="Bavaria")
        client = signed_in(ROOT, staff)
        change = f"/admin/members/member/{member.pk}/change/"
        response = client.get(change)
        assert response.status_code == 302
        assert response["Location"].startswith(f"/admin/members/member/{member.pk}/reason/")
        assert StaffAccess.objects.count() == 0
        too_short = client.post(response["Location"], {"reason": "hm"})
        assert too_short.status_code == 200
        assert StaffAccess.objects.count() == 0
        done = client.post(response["Location"], {"reason": "Member asked for help by email"})
        assert done["Location"] == change
        assert client.get(change).status_code == 200  # the reason holds for a while
        settings.KINDRED_STAFF_REASON_TTL = 0
        assert client.get(change).status_code == 302  # ...and then it is asked again
        access = StaffAccess.objects.get()
        assert (access.staff_id, access.member_id, access.reason) == (
            staff.pk, member.pk, "Member asked for help by email"
        )  # fmt: skip
        # The member sees it, on the page and in the API.
        mine = signed_in(ROOT, member)
        assert "Member asked for help by email" in mine.get("/accounts/privacy/").content.decode()
        assert mine.get("/api/v1/privacy/staff-access/").json() == [
            {"staff": "Sam Staff", "what": "account page in the admin", "reason": "Member asked for help by email",
             "accessed_at": mine.get("/api/v1/privacy/staff-access/").json()[0]["accessed_at"]}
        ]  # fmt: skip

    def test_the_staff_api_requires_a_reason_and_logs_it(self, staff):
        member = MemberFactory()
        url = f"/api/v1/staff/members/{member.public_id}/"
        client = signed_in(ROOT, staff)
        missing = client.get(url)
        assert (missing.status_code, missing.json()["code"]) == (400, "reason_required")
        assert StaffAccess.objects.count() == 0
        response = client.get(url, {"reason": "Fraud check 7"})
        assert response.json()["account"]["profile"]["email"] == member.email
        assert list(StaffAccess.objects.values_list("reason", "what")) == [("Fraud check 7", "account (API)")]
        assert signed_in(ROOT, MemberFactory()).get(url, {"reason": "curious"}).status_code == 403
        assert StaffAccess.objects.count() == 1


def test_the_openapi_schema_lists_the_privacy_endpoints(tenant_a):
    root = set(host_client(ROOT).get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"])
    assert {
        "/api/v1/privacy/settings/", "/api/v1/privacy/exports/", "/api/v1/privacy/exports/{public_id}/",
        "/api/v1/privacy/erasure/", "/api/v1/privacy/staff-access/", "/api/v1/staff/members/{public_id}/",
    } <= root  # fmt: skip
    tenant = set(host_client(TENANT_A["domain"]).get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"])
    assert {
        "/api/v1/me/name/",
        "/api/v1/privacy/settings/",
        "/api/v1/profiles/",
        "/api/v1/profiles/{member_id}/",
    } <= tenant


def test_no_one_edits_or_deletes_the_staff_access_log():
    staff = MemberFactory(is_staff=True, is_superuser=True)
    member = MemberFactory()
    from privacy.services import record_staff_access

    access = record_staff_access(staff=staff, member=member, reason="Checking a report", what="profile")
    client = signed_in(ROOT, staff)
    assert client.post(f"/admin/privacy/staffaccess/{access.pk}/change/", {"reason": "nothing"}).status_code == 403
    assert client.post(f"/admin/privacy/staffaccess/{access.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get("/admin/privacy/staffaccess/add/").status_code == 403
    assert list(StaffAccess.objects.values_list("reason", flat=True)) == ["Checking a report"]


def test_the_privacy_page_links_to_each_sites_name_page(tenant_a):
    member = MemberFactory()
    TenantMembershipFactory(member=member, tenant=tenant_a)
    page = signed_in(ROOT, member).get("/accounts/privacy/").content.decode()
    assert f'href="http://{TENANT_A["domain"]}/members/me/name/"' in page


def test_member_lists_cost_the_same_queries_for_more_members(tenant_a):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    viewer = MemberFactory()
    TenantMembershipFactory(member=viewer, tenant=tenant_a)
    client = signed_in(TENANT_A["domain"], viewer)

    def counts() -> list[int]:
        result = []
        for url in ("/members/", "/api/v1/profiles/"):
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            result.append(len(queries))
        return result

    TenantMembershipFactory(member=MemberFactory(listed_in_member_lists=True), tenant=tenant_a)
    counts()  # warm caches (the theme): steady-state counts are compared
    before = counts()
    for _ in range(5):
        TenantMembershipFactory(member=MemberFactory(listed_in_member_lists=True), tenant=tenant_a)
    assert counts() == before
    assert len(client.get("/api/v1/profiles/").json()) == 6
