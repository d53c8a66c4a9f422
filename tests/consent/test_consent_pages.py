"""Member pages on the root and on tenant hosts: one-click grant/withdraw, history, the interstitial."""

from __future__ import annotations

import re

import pytest
from django.conf import settings

from consent import selectors, services
from consent.models import ConsentRecord
from tests.conftest import TENANT_A, TENANT_B, host_client, signed_in
from tests.consent.conftest import CONTACT, NEWSLETTERS, RESEARCH, publish_next
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

ROOT = settings.ROOT_DOMAIN


def records(member) -> list[tuple[str, str, str, str]]:
    return [
        (r.purpose.code, r.decision, r.tenant_schema, r.channel)
        for r in ConsentRecord.objects.filter(subject__member=member).order_by("id")
    ]


def test_consent_page_lists_purposes_unticked_and_grants_and_withdraws_in_one_click(policy_v1):
    member = MemberFactory()
    client = signed_in(ROOT, member)
    page = client.get("/accounts/consent/")
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('name="decision" value="grant"') == 3
    assert 'value="withdraw"' not in html
    assert html.count("Not asked yet (no)") == 3
    response = client.post("/accounts/consent/decide/", {"purpose": RESEARCH, "decision": "grant"})
    assert response.status_code == 302 and response["Location"] == "/accounts/consent/"
    html = client.get("/accounts/consent/").content.decode()
    assert html.count('name="decision" value="withdraw"') == 1
    assert "You agreed" in html
    client.post("/accounts/consent/decide/", {"purpose": RESEARCH, "decision": "withdraw"})
    assert records(member) == [(RESEARCH, "granted", "", "web"), (RESEARCH, "withdrawn", "", "web")]
    html = client.get("/accounts/consent/").content.decode()
    assert html.count("<tr><td>") == 2  # the history table: both decisions


def test_bad_posts_are_refused_and_write_nothing(policy_v1):
    member = MemberFactory()
    client = signed_in(ROOT, member)
    for data in ({"purpose": RESEARCH, "decision": "maybe"}, {"purpose": "sell-data", "decision": "grant"}, {}):
        response = client.post("/accounts/consent/decide/", data, follow=True)
        assert response.status_code == 200
        assert "error" in response.content.decode()
    assert records(member) == []
    anonymous = host_client(ROOT).post("/accounts/consent/decide/", {"purpose": RESEARCH, "decision": "grant"})
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/auth/login/")
    assert ConsentRecord.objects.count() == 0


def test_tenant_hosts_serve_the_page_and_record_which_tenant(policy_v1, tenant_a, tenant_b):
    member = MemberFactory()
    client_a = signed_in(TENANT_A["domain"], member)
    client_b = signed_in(TENANT_B["domain"], member)
    assert client_a.get("/accounts/consent/").status_code == 200
    client_a.post("/accounts/consent/decide/", {"purpose": CONTACT, "decision": "grant"})
    client_b.post("/accounts/consent/decide/", {"purpose": NEWSLETTERS, "decision": "grant"})
    assert records(member) == [
        (CONTACT, "granted", tenant_a.schema_name, "web"),
        (NEWSLETTERS, "granted", tenant_b.schema_name, "web"),
    ]
    # Consent is the member's, not a partner's: both hosts show the same state and history.
    for client in (client_a, client_b):
        html = client.get("/accounts/consent/").content.decode()
        assert html.count("You agreed") == 2
        assert f"<td>{TENANT_A['name']} · web</td>" in html and f"<td>{TENANT_B['name']} · web</td>" in html


def test_members_see_only_their_own_history(policy_v1):
    alice, bob = MemberFactory(display_name="Alice"), MemberFactory(display_name="Bob")
    services.record_consent(member=alice, purpose=RESEARCH, granted=True, channel="web")
    html = signed_in(ROOT, bob).get("/accounts/consent/").content.decode()
    assert "No decisions yet." in html
    assert signed_in(ROOT, bob).get("/api/v1/consent/history/").json() == []


def test_profile_links_to_the_consent_page(policy_v1):
    html = signed_in(ROOT, MemberFactory()).get("/accounts/profile/").content.decode()
    assert '<a class="consent-link" href="/accounts/consent/">' in html


def test_policy_pages_are_public(policy_v1):
    page = host_client(ROOT).get("/consent/policy/1/")
    assert page.status_code == 200
    assert "<h2>Version one</h2>" in page.content.decode()
    assert host_client(ROOT).get("/consent/policy/2/").status_code == 404
    assert host_client(TENANT_A["domain"]).get("/consent/policy/1/").status_code == 200


@pytest.mark.parametrize("host", [ROOT, TENANT_A["domain"]])
def test_pending_reconsent_sends_the_member_to_the_interstitial(policy_v1, purposes, tenant_a, host):
    member = MemberFactory()
    services.record_consent(member=member, purpose=RESEARCH, granted=True, channel="web")
    services.record_consent(member=member, purpose=CONTACT, granted=True, channel="web")
    client = signed_in(host, member)
    assert client.get("/accounts/profile/" if host == ROOT else "/").status_code == 200
    publish_next(purposes, material=[RESEARCH])
    target = "/accounts/profile/?tab=1" if host == ROOT else "/c/x/?a=1"
    response = client.get(target)
    assert response.status_code == 302
    assert response["Location"] == "/consent/review/?next=" + target.replace("/", "%2F").replace("?", "%3F").replace(
        "=", "%3D"
    )
    # The consent page offers both answers with the same weight while the question is open.
    item = client.get("/accounts/consent/").content.decode().split(f'data-purpose="{RESEARCH}"')[1].split("</li>")[0]
    assert 'value="grant">Agree</button>' in item and 'value="withdraw">Say no</button>' in item
    # Exempt: the interstitial, the consent page, the API, health, sign-out, static.
    for path in ("/consent/review/", "/accounts/consent/", "/api/v1/consent/me/", "/healthz/"):
        assert client.get(path).status_code == 200, path
    # Other members and anonymous visitors are not redirected.
    assert host_client(host).get("/healthz/").status_code == 200
    other = signed_in(host, MemberFactory())
    assert other.get("/accounts/consent/").status_code == 200
    # Until answered the gate says no for the changed purpose only.
    assert list(selectors.members_consenting_to(RESEARCH)) == []
    assert list(selectors.members_consenting_to(CONTACT)) == [member]
    page = client.get(response["Location"])
    html = page.content.decode()
    assert "Changed: research-data-sharing." in html
    assert html.count('type="radio"') == 2 and "checked" not in html
    # An unanswered form is refused and records nothing.
    refused = client.post("/consent/review/", {"next": target})
    assert refused.status_code == 400 and "Please choose yes or no." in refused.content.decode()
    assert len(records(member)) == 2
    answered = client.post("/consent/review/", {"next": target, f"purpose-{RESEARCH}": "decline"})
    assert answered.status_code == 302 and answered["Location"] == target
    expected_tenant = tenant_a.schema_name if host != ROOT else ""
    assert records(member)[-1] == (RESEARCH, "withdrawn", expected_tenant, "web")
    assert ConsentRecord.objects.filter(subject__member=member).order_by("-id")[0].policy.version == 2
    assert client.get("/accounts/consent/").status_code == 200
    assert client.get("/consent/review/?next=/accounts/consent/")["Location"] == "/accounts/consent/"
    assert list(selectors.members_consenting_to(RESEARCH)) == []


def test_the_interstitial_never_redirects_off_site(policy_v1, purposes):
    member = MemberFactory()
    services.record_consent(member=member, purpose=RESEARCH, granted=True, channel="web")
    publish_next(purposes, material=[RESEARCH])
    client = signed_in(ROOT, member)
    response = client.post("/consent/review/", {"next": "https://evil.example/", f"purpose-{RESEARCH}": "grant"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert list(selectors.members_consenting_to(RESEARCH)) == [member]


def test_posts_are_not_swallowed_by_the_interstitial(policy_v1, purposes):
    """A form posted while re-consent is pending still reaches its view (nothing typed is lost)."""
    member = MemberFactory()
    services.record_consent(member=member, purpose=RESEARCH, granted=True, channel="web")
    publish_next(purposes, material=[RESEARCH])
    client = signed_in(ROOT, member)
    response = client.post("/accounts/profile/", {"email_notifications": "off"})
    assert response.status_code == 302 and response["Location"] == "/accounts/profile/"
    member.refresh_from_db()
    assert member.email_notifications == "off"


def test_signup_offers_one_unticked_checkbox_per_purpose_and_records_only_ticked(policy_v1, tenant_a):
    from members.models import Member

    client = host_client(ROOT)
    html = client.get("/accounts/signup/").content.decode()
    boxes = re.findall(r'<input type="checkbox" name="consents"[^>]*>', html)
    assert len(boxes) == 3
    assert not any("checked" in box for box in boxes)
    response = client.post(
        "/accounts/signup/?tenant=" + TENANT_A["slug"],
        {"email": "ticker@example.test", "password": "a-long-unusual-password", "consents": [CONTACT]},
    )
    assert response.status_code == 200 and "Check your email" in response.content.decode()
    member = Member.objects.get(email="ticker@example.test")
    assert records(member) == [(CONTACT, "granted", tenant_a.schema_name, "signup")]
    states = {code: s.state for code, s in selectors.consent_state_for(member=member).items()}
    assert states == {RESEARCH: "not_asked", CONTACT: "granted", NEWSLETTERS: "not_asked"}


def test_signup_without_ticks_records_nothing_and_bad_codes_lose_nothing(policy_v1):
    from members.models import Member

    client = host_client(ROOT)
    client.post("/accounts/signup/", {"email": "quiet@example.test", "password": "a-long-unusual-password"})
    assert records(Member.objects.get(email="quiet@example.test")) == []
    bad = client.post(
        "/accounts/signup/",
        {"email": "bad@example.test", "password": "a-long-unusual-password", "consents": ["sell-data"]},
    )
    assert bad.status_code == 200
    assert "Select a valid choice" in bad.content.decode()
    assert 'value="bad@example.test"' in bad.content.decode()  # the form keeps what was typed
    assert not Member.objects.filter(email="bad@example.test").exists()


def test_the_interstitial_check_costs_one_query_or_two(policy_v1, purposes, django_assert_num_queries):
    from consent.selectors import has_pending_reconsent

    newcomer, granter = MemberFactory(), MemberFactory()
    services.record_consent(member=granter, purpose=RESEARCH, granted=True, channel="web")
    with django_assert_num_queries(1):
        assert has_pending_reconsent(member=newcomer) is False
    with django_assert_num_queries(2):
        assert has_pending_reconsent(member=granter) is False
    publish_next(purposes, material=[RESEARCH])
    with django_assert_num_queries(2):
        assert has_pending_reconsent(member=granter) is True


def test_consent_page_query_count_does_not_grow_with_history(policy_v1, django_assert_max_num_queries):
    member = MemberFactory()
    client = signed_in(ROOT, member)
    client.get("/accounts/consent/")  # warm caches (content types, theme)
    for _ in range(10):
        services.record_consent(member=member, purpose=RESEARCH, granted=True, channel="web")
        services.record_consent(member=member, purpose=CONTACT, granted=False, channel="web")
    with django_assert_max_num_queries(13):
        page = client.get("/accounts/consent/")
    assert page.content.decode().count("<tr><td>") == 20
