"""Issue 18, finding 5: no member may pass for staff, for the partner, or for another member."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from members.models import Member, TenantMembership
from members.names import name_skeleton, sounds_official
from tests.conftest import TENANT_A, TENANT_B, signed_in
from tests.factories import MemberFactory, TenantMembershipFactory

pytestmark = pytest.mark.django_db

OFFICIAL = [
    "Alpha Lupus Alliance moderator",
    "Alpha Lupus Alliance",
    "alpha lupus alliance",
    "ALPHA-LUPUS-ALLIANCE",
    "AlphaLupusAlliance",
    "Alpha Lupus Al1iance",
    "Αlpha Lupus Alliance",  # Greek capital alpha
    "The alpha-alliance crew",
    "Moderator",
    "M0derator",
    "m.o.d.e.r.a.t.o.r",
    "ＭＯＤＥＲＡＴＯＲ",  # fullwidth
    "The mods",
    "Admin Sarah",
    "SarahAdmin",
    "sarah_admin",
    "Administrator",
    "Kindred Team",
    "Kindred",
    "Staff",
    "Official",
    "Support",
    "Team Alpha",
]
ALLOWED = ["Stafford Jones", "Modesto", "Badminton fan", "Teagan", "Maria Alvarez-Smith", "river_walker"]


@pytest.fixture
def here(tenant_a):
    """Me and Maria on partner A; a member on B whose name must not matter on A."""
    me = MemberFactory(display_name="Jo")
    TenantMembershipFactory(member=me, tenant=tenant_a)
    maria = MemberFactory(display_name="M. A.")
    TenantMembershipFactory(member=maria, tenant=tenant_a, display_name="Maria Alvarez")
    platform_named = MemberFactory(display_name="Sam Okafor")
    TenantMembershipFactory(member=platform_named, tenant=tenant_a)
    return me


def _name_here(member: Member, tenant) -> str:
    return TenantMembership.objects.get(member=member, tenant=tenant).display_name


class TestReservedNames:
    @pytest.mark.parametrize("name", OFFICIAL)
    def test_web_refuses_with_a_clear_message_and_changes_nothing(self, here, tenant_a, name):
        client = signed_in(TENANT_A["domain"], here)
        response = client.post("/members/me/name/", {"display_name": name})
        assert response.status_code == 200
        assert "are reserved" in response.content.decode()
        assert _name_here(here, tenant_a) == ""

    @pytest.mark.parametrize("name", OFFICIAL)
    def test_api_refuses_with_code_and_field(self, here, tenant_a, name):
        client = signed_in(TENANT_A["domain"], here)
        response = client.put("/api/v1/me/name/", {"display_name": name}, content_type="application/json")
        assert response.status_code == 400
        body = response.json()
        assert body["code"] == "name_reserved"
        assert "reserved" in body["details"]["display_name"][0]
        assert _name_here(here, tenant_a) == ""

    @pytest.mark.parametrize("name", ALLOWED)
    def test_ordinary_names_are_fine(self, here, tenant_a, name):
        client = signed_in(TENANT_A["domain"], here)
        response = client.put("/api/v1/me/name/", {"display_name": name}, content_type="application/json")
        assert response.status_code == 200, response.json()
        assert _name_here(here, tenant_a) == name

    def test_the_other_partners_name_is_not_reserved_here_but_is_there(self, here, tenant_a, tenant_b):
        client = signed_in(TENANT_A["domain"], here)
        ok = client.put("/api/v1/me/name/", {"display_name": "Beta fan"}, content_type="application/json")
        assert ok.status_code == 200
        TenantMembershipFactory(member=here, tenant=tenant_b)
        there = signed_in(TENANT_B["domain"], here)
        refused = there.put("/api/v1/me/name/", {"display_name": "Beta MS Society"}, content_type="application/json")
        assert refused.status_code == 400 and refused.json()["code"] == "name_reserved"


LOOKALIKES_OF_MARIA = [
    "Maria Alvarez",
    "maria alvarez",
    "MARIA  ALVAREZ",
    "Maria_Alvarez",
    "Maria.Alvarez",
    "MariaAlvarez",
    "María Álvarez",
    "Mаria Alvarez",  # Cyrillic a
    "Mar1a Alvarez",
    "Maria Alvarez.",
]


class TestOtherMembersNames:
    @pytest.mark.parametrize("name", LOOKALIKES_OF_MARIA)
    def test_api_refuses_a_lookalike_of_another_members_name_here(self, here, tenant_a, name):
        client = signed_in(TENANT_A["domain"], here)
        response = client.put("/api/v1/me/name/", {"display_name": name}, content_type="application/json")
        assert response.status_code == 409
        body = response.json()
        assert body["code"] == "name_taken" and "looks like" in body["details"]["display_name"][0]
        assert _name_here(here, tenant_a) == ""

    def test_web_refuses_a_lookalike_with_a_clear_message(self, here, tenant_a):
        response = signed_in(TENANT_A["domain"], here).post("/members/me/name/", {"display_name": "Maria_Alvarez"})
        assert response.status_code == 200
        assert "looks like, the name of someone here" in response.content.decode()
        assert _name_here(here, tenant_a) == ""

    def test_a_members_platform_name_counts_where_they_set_none(self, here, tenant_a):
        client = signed_in(TENANT_A["domain"], here)
        response = client.put("/api/v1/me/name/", {"display_name": "sam okafor"}, content_type="application/json")
        assert response.status_code == 409

    def test_names_on_another_partner_do_not_count(self, here, tenant_b):
        TenantMembershipFactory(member=MemberFactory(), tenant=tenant_b, display_name="Dana Reyes")
        client = signed_in(TENANT_A["domain"], here)
        response = client.put("/api/v1/me/name/", {"display_name": "Dana Reyes"}, content_type="application/json")
        assert response.status_code == 200

    def test_my_own_platform_name_is_mine_to_use(self, here, tenant_a):
        client = signed_in(TENANT_A["domain"], here)
        assert (
            client.put("/api/v1/me/name/", {"display_name": "Jo"}, content_type="application/json").status_code == 200
        )


class TestPlatformNames:
    """The platform name shows on partners where a member sets none: the same reservations apply."""

    @pytest.mark.parametrize("name", ["Kindred Support", "Alpha Lupus Alliance moderator", "Beta MS Society", "Admin"])
    def test_profile_edit_and_api_refuse_official_names(self, tenant_a, root_client, name):
        member = MemberFactory(display_name="Jo")
        client = signed_in("localhost", member)
        api = client.patch("/api/v1/me/", {"display_name": name}, content_type="application/json")
        assert api.status_code == 400 and "display_name" in api.json()["details"]
        web = client.post("/accounts/profile/edit/", {"display_name": name, "role": "patient"})
        assert web.status_code == 200 and "are reserved" in web.content.decode()
        member.refresh_from_db()
        assert member.display_name == "Jo"

    def test_sign_up_refuses_an_official_name(self, root_client):
        from tests.members.test_identity import SIGNUP

        response = root_client.post("/accounts/signup/", {**SIGNUP, "display_name": "Kindred Team"})
        assert response.status_code == 200 and "are reserved" in response.content.decode()
        assert not Member.objects.filter(email="river.walker@example.test").exists()


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=30))
def test_skeleton_ignores_case_spacing_and_punctuation(text):
    assert name_skeleton(text) == name_skeleton(f"  {text.upper()} .,-")
    assert name_skeleton(text) == name_skeleton(text.replace(" ", "_"))


@given(
    st.sampled_from(["moderator", "admin", "staff", "official", "team", "kindred"]),
    st.sampled_from([" ", ".", "_", "-"]),
)
def test_role_words_spelled_out_with_separators_are_reserved(word, separator):
    assert sounds_official(separator.join(word))
    assert sounds_official(word.upper())


def test_a_platform_name_may_not_copy_someone_where_it_shows(here, tenant_a):
    """Jo set no name on A, so their platform name shows there: it may not become Maria's."""
    client = signed_in("localhost", here)
    refused = client.patch("/api/v1/me/", {"display_name": "Maria_Alvarez"}, content_type="application/json")
    assert refused.status_code == 400
    assert "Alpha Lupus Alliance" in refused.json()["details"]["display_name"][0]
    here.refresh_from_db()
    assert here.display_name == "Jo"
    # With a name of their own on A, the platform name no longer shows there.
    TenantMembership.objects.filter(member=here, tenant=tenant_a).update(display_name="Jo here")
    assert (
        client.patch("/api/v1/me/", {"display_name": "Maria Alvarez"}, content_type="application/json").status_code
        == 200
    )
