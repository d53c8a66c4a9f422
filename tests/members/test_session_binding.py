"""Issue 18: a session is honoured only on the host it was opened on; the hand-off goes only to a
host the platform serves; nobody is switched to another account by a link; partner hosts never
take a password."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core import mail
from django.test import Client

from members.middleware import SESSION_HOST_KEY, SESSION_SCHEMA_KEY
from members.models import HandoffNonce, Member
from members.selectors import local_id_of
from members.services import issue_handoff_token, make_verification_token
from tenants.models import Domain
from tenants.services import add_domain
from tests.conftest import PASSWORD, TENANT_A, TENANT_B, host_client, signed_in
from tests.factories import MemberFactory
from tests.members.test_identity import hand_off, me, sign_in_on_root


def partner_id(member: Member, host: str) -> str:
    """How the partner at ``host`` names the member (never a global id: issue 9)."""
    return local_id_of(member, tenant=Domain.objects.get(domain=host).tenant)


pytestmark = pytest.mark.django_db

ROOT = "localhost"
COOKIE = settings.SESSION_COOKIE_NAME


def _replayed(host: str, cookie_value: str, **kwargs) -> Client:
    """A browser of ``host`` that was handed a session cookie from somewhere else."""
    client = host_client(host, **kwargs)
    client.cookies[COOKIE] = cookie_value
    return client


def _cookie_cleared(response) -> bool:
    cookie = response.cookies.get(COOKIE)
    return cookie is not None and cookie.value == "" and cookie["max-age"] == 0


@pytest.fixture
def sessions(tenant_a, tenant_b) -> dict[str, str]:
    """One member, signed in for real on the root and handed off to A and B: host -> cookie value."""
    MemberFactory(email="replay@example.test", show_conditions=False, listed_in_member_lists=False)
    root, a, b = host_client(ROOT), host_client(TENANT_A["domain"]), host_client(TENANT_B["domain"])
    sign_in_on_root(root, "replay@example.test")
    hand_off(root, a, TENANT_A["domain"])
    hand_off(root, b, TENANT_B["domain"])
    values = {ROOT: root.cookies[COOKIE].value, TENANT_A["domain"]: a.cookies[COOKIE].value}
    values[TENANT_B["domain"]] = b.cookies[COOKIE].value
    assert len(set(values.values())) == 3
    return values


HOSTS = (ROOT, TENANT_A["domain"], TENANT_B["domain"])
PAIRS = [(source, target) for source in HOSTS for target in HOSTS if source != target]


class TestSessionsAreBoundToTheirHost:
    def test_every_session_records_its_host_and_tenant(self, sessions, tenant_a, tenant_b):
        expected = {ROOT: "public", TENANT_A["domain"]: tenant_a.schema_name, TENANT_B["domain"]: tenant_b.schema_name}
        for host, value in sessions.items():
            data = Session.objects.get(session_key=value).get_decoded()
            assert (data[SESSION_HOST_KEY], data[SESSION_SCHEMA_KEY]) == (host, expected[host])

    @pytest.mark.parametrize(("source", "target"), PAIRS)
    def test_a_session_replayed_on_another_host_is_signed_out_and_its_cookie_cleared(self, sessions, source, target):
        member = Member.objects.get(email="replay@example.test")
        stolen = sessions[source]

        api = _replayed(target, stolen).get("/api/v1/me/")
        assert api.status_code == 401
        assert _cookie_cleared(api)
        settings_api = _replayed(target, stolen).get("/api/v1/privacy/settings/")
        assert settings_api.status_code == 401

        change = _replayed(target, stolen).patch(
            "/api/v1/privacy/settings/",
            {"show_conditions": True, "listed_in_member_lists": True},
            content_type="application/json",
        )
        assert change.status_code == 401
        page = "/accounts/privacy/" if target == ROOT else "/members/me/name/"
        web = _replayed(target, stolen).get(page)
        assert web.status_code == 302 and "login" in web["Location"]
        assert _cookie_cleared(web)
        if target == ROOT:
            form = _replayed(target, stolen).post(
                "/accounts/privacy/", {"show_conditions": "on", "email_notifications": "off"}
            )
            assert form.status_code == 302 and "login" in form["Location"]
            assert "Delete my account" not in _replayed(target, stolen).get("/accounts/privacy/").content.decode()

        member.refresh_from_db()
        assert (member.show_conditions, member.listed_in_member_lists, member.email_notifications) == (
            False,
            False,
            "digest",
        )
        # Refused here, it still works where it was issued: the binding, not the store, said no.
        here = me(_replayed(source, stolen))
        assert here is not None
        if source == ROOT:
            assert here["email"] == member.email
        else:
            assert here["id"] == partner_id(member, source)

    def test_a_session_of_one_custom_domain_is_not_valid_on_the_partners_other_domain(self, tenant_a):
        add_domain(tenant=tenant_a, domain="community.alpha-lupus.org")
        member = MemberFactory()
        root, custom = host_client(ROOT), host_client("community.alpha-lupus.org")
        sign_in_on_root(root, member.email)
        hand_off(root, custom, "community.alpha-lupus.org")
        assert me(custom)["id"] == local_id_of(member, tenant=tenant_a)
        assert me(_replayed(TENANT_A["domain"], custom.cookies[COOKIE].value)) is None

    def test_a_session_that_recorded_no_host_is_refused(self, tenant_a):
        member = MemberFactory()
        client = host_client(TENANT_A["domain"])
        client.force_login(member)  # a session made outside any request: it names no host
        response = client.get("/api/v1/me/")
        assert response.status_code == 401 and _cookie_cleared(response)

    def test_a_session_moved_to_another_tenant_by_its_domain_is_refused(self, tenant_a):
        member = MemberFactory()
        client = signed_in(TENANT_A["domain"], member)
        session = client.session
        session[SESSION_SCHEMA_KEY] = "public"
        session.save()
        assert me(client) is None

    def test_a_sign_in_by_any_view_is_bound_to_its_host(self, tenant_a):
        # The root's sign-in is a library's view (django-allauth) that knows nothing of hosts.
        staff = MemberFactory(is_staff=True, is_superuser=True)
        root = host_client(ROOT)
        response = root.post("/accounts/login/", {"login": staff.email, "password": PASSWORD, "next": "/admin/"})
        assert response.status_code == 302
        data = Session.objects.get(session_key=root.cookies[COOKIE].value).get_decoded()
        assert (data[SESSION_HOST_KEY], data[SESSION_SCHEMA_KEY]) == (ROOT, "public")
        assert me(root)["email"] == staff.email
        assert me(_replayed(TENANT_A["domain"], root.cookies[COOKIE].value)) is None


# --- 2. the hand-off goes only where the platform serves -----------------------------------------

HOSTILE_HOSTS = [
    "alpha-alliance.localhost:@evil.example",
    "alpha-alliance.localhost%3A%40evil.example",
    "alpha-alliance.localhost@evil.example",
    "alpha-alliance.localhost%40evil.example",
    "evil.example@alpha-alliance.localhost",
    "alpha-alliance.localhost\\@evil.example",
    "alpha-alliance.localhost\\evil.example",
    "alpha-alliance.localhost/evil.example",
    "alpha-alliance.localhost%2Fevil.example",
    "alpha-alliance.localhost%252F..",
    "alpha-alliance.localhost:80@evil.example",
    "alpha-alliance.localhost:1234",
    "alpha-alliance.localhost:8000:9000",
    "alpha-alliance.localhost:",
    "alpha-alliance.localhost.",
    "alpha-alliance.localhost:evil.example",
    "alpha-alliance.localhost#@evil.example",
    "alpha-alliance.localhost?@evil.example",
    " alpha-alliance.localhost",
    "alpha-alliance.localhost\t",
    "alpha-alliance.localhost\n.evil.example",
    "http://alpha-alliance.localhost",
    "//alpha-alliance.localhost",
    "ALPHA-ALLIANCE.LOCALHOST\u212a",  # KELVIN SIGN lowercases to an ASCII "k"
    "alpha-alliance.local\u0131host",  # dotless i
    "\u0430lpha-alliance.localhost",  # Cyrillic a
    "xn--lpha-alliance-bzi.localhost",  # the punycode of that lookalike
    "alpha-alliance\u3002localhost",  # ideographic full stop, which IDNA reads as a dot
    "ａｌｐｈａ-alliance.localhost",  # fullwidth letters NFKC-fold to ASCII
    "tenant-template.localhost",
    "localhost",
    "",
]


class TestHandoffTarget:
    @pytest.mark.parametrize("host", HOSTILE_HOSTS)
    def test_hostile_host_gets_404_and_no_token(self, tenant_a, host):
        member = MemberFactory()
        root = host_client(ROOT)
        sign_in_on_root(root, member.email)
        for method in (root.get, root.post):
            response = method("/auth/handoff/", {"host": host, "next": "/"})
            assert response.status_code == 404, (host, response.get("Location"))
        assert not HandoffNonce.objects.filter(member=member).exists()

    def test_the_issue_report_url_as_sent(self, tenant_a):
        """The exact request of the report: the query decodes to ``…localhost:@evil.example``."""
        member = MemberFactory()
        root = host_client(ROOT)
        sign_in_on_root(root, member.email)
        response = root.get("/auth/handoff/?host=alpha-alliance.localhost%3A%40evil.example&next=/")
        assert response.status_code == 404
        assert not HandoffNonce.objects.filter(member=member).exists()

    def test_hostile_host_is_refused_before_the_sign_in_detour(self, tenant_a):
        response = host_client(ROOT).get("/auth/handoff/", {"host": "alpha-alliance.localhost:@evil.example"})
        assert response.status_code == 404

    @pytest.mark.parametrize(
        "host", ["alpha-alliance.localhost", "Alpha-Alliance.LocalHost", "alpha-alliance.localhost:8000"]
    )
    def test_the_redirect_is_built_from_the_domain_row(self, tenant_a, host):
        member = MemberFactory()
        root = host_client(ROOT)  # served on port 80 here; the platform's configured port is 8000
        sign_in_on_root(root, member.email)
        response = root.get("/auth/handoff/", {"host": host, "next": "/c/x/"})
        if response.status_code == 200:
            response = root.post("/auth/handoff/", {"host": host, "next": "/c/x/"})
        assert response.status_code == 302
        target = urlsplit(response["Location"])
        assert (target.scheme, target.netloc, target.path) == (
            "http",
            "alpha-alliance.localhost",
            "/auth/handoff/complete/",
        )
        assert target.username is None and target.password is None
        assert HandoffNonce.objects.get(member=member).host == "alpha-alliance.localhost"

    def test_the_service_refuses_hosts_it_would_not_route(self, tenant_a):
        from core.errors import InvalidInput

        member = MemberFactory()
        for host in (
            "alpha-alliance.localhost:@evil.example",
            "alpha-alliance.localhost:8000",
            "\u0430lpha-alliance.localhost",
        ):
            with pytest.raises(InvalidInput):
                issue_handoff_token(member=member, host=host)
        assert not HandoffNonce.objects.filter(member=member).exists()

    def test_next_with_a_backslash_stays_home(self, tenant_b):
        member = MemberFactory()
        root = host_client(ROOT)
        sign_in_on_root(root, member.email)
        assert hand_off(root, host_client(TENANT_B["domain"]), TENANT_B["domain"], "/\\evil.example/") == "/"


# --- 3. no switching accounts through someone else's link ----------------------------------------


class TestNoLoginCsrf:
    def test_someone_elses_verification_link_does_not_switch_the_session(self, root_client):
        me_member = MemberFactory(email="me@example.test")
        other = MemberFactory(email="other@example.test", email_verified_at=None)
        sign_in_on_root(root_client, me_member.email)
        response = root_client.get(f"/accounts/verify/{make_verification_token(member=other)}/")
        assert response.status_code == 200
        assert "still signed in with your own account" in response.content.decode()
        assert me(root_client)["email"] == "me@example.test"
        other.refresh_from_db()
        assert other.email_verified  # the address is confirmed all the same

    def test_a_verification_link_signs_in_only_when_nobody_is(self, root_client):
        other = MemberFactory(email="new@example.test", email_verified_at=None)
        response = root_client.get(f"/accounts/verify/{make_verification_token(member=other)}/")
        assert response.status_code == 302
        assert me(root_client)["email"] == "new@example.test"

    def test_someone_elses_handoff_link_asks_before_switching(self, tenant_b):
        mine, theirs = MemberFactory(email="me@example.test"), MemberFactory(email="them@example.test")
        client = host_client(TENANT_B["domain"], enforce_csrf_checks=True)
        root = host_client(ROOT)
        sign_in_on_root(root, mine.email)
        hand_off(root, client, TENANT_B["domain"])
        their_token = issue_handoff_token(member=theirs, host=TENANT_B["domain"])

        asked = client.get("/auth/handoff/complete/", {"token": their_token, "next": "/c/x/"})
        assert asked.status_code == 200
        page = asked.content.decode()
        assert "Switch account?" in page and 'name="csrfmiddlewaretoken"' in page
        assert "them@example.test" not in page
        assert me(client)["id"] == partner_id(mine, TENANT_B["domain"])
        assert HandoffNonce.objects.get(member=theirs).redeemed_at is None  # not used up by asking

        # A cross-site POST without the form's CSRF token switches nothing.
        forged = client.post("/auth/handoff/complete/", {"token": their_token, "next": "/"})
        assert forged.status_code == 403
        assert me(client)["id"] == partner_id(mine, TENANT_B["domain"])

        csrf = client.cookies[settings.CSRF_COOKIE_NAME].value
        switched = client.post(
            "/auth/handoff/complete/", {"token": their_token, "next": "/c/x/", "csrfmiddlewaretoken": csrf}
        )
        assert switched.status_code == 302 and switched["Location"] == "/c/x/"
        assert me(client)["id"] == partner_id(theirs, TENANT_B["domain"])
        assert HandoffNonce.objects.get(member=theirs).redeemed_at is not None

    def test_own_handoff_link_needs_no_question(self, tenant_b):
        mine = MemberFactory()
        client = signed_in(TENANT_B["domain"], mine)
        token = issue_handoff_token(member=mine, host=TENANT_B["domain"])
        assert client.get("/auth/handoff/complete/", {"token": token}).status_code == 302
        assert me(client)["id"] == partner_id(mine, TENANT_B["domain"])

    def test_a_spent_link_is_refused_even_on_the_question_page(self, tenant_b):
        mine, theirs = MemberFactory(), MemberFactory()
        client = signed_in(TENANT_B["domain"], mine)
        token = issue_handoff_token(member=theirs, host=TENANT_B["domain"])
        assert host_client(TENANT_B["domain"]).get("/auth/handoff/complete/", {"token": token}).status_code == 302
        response = client.get("/auth/handoff/complete/", {"token": token})
        assert response.status_code == 400 and "already used" in response.content.decode()
        assert me(client)["id"] == partner_id(mine, TENANT_B["domain"])


# --- 4. partner hosts never take a password ------------------------------------------------------


def _root_sign_in_redirect(response, *, host: str, next_path: str) -> None:
    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert (target.hostname, target.path) == (ROOT, "/auth/handoff/")
    assert {k: v[0] for k, v in parse_qs(target.query).items()} == {"host": host, "next": next_path}


class TestNoPasswordsOnPartnerHosts:
    def test_admin_login_redirects_to_the_root_and_a_correct_password_opens_nothing(self, tenant_a):
        staff = MemberFactory(email="staff@example.test", is_staff=True, is_superuser=True)
        client = host_client(TENANT_A["domain"])
        _root_sign_in_redirect(
            client.get("/admin/login/", {"next": "/admin/pages/"}), host=TENANT_A["domain"], next_path="/admin/pages/"
        )
        before = Session.objects.count()
        right = client.post("/admin/login/?next=/admin/", {"username": staff.email, "password": PASSWORD})
        wrong = host_client(TENANT_A["domain"]).post(
            "/admin/login/?next=/admin/", {"username": staff.email, "password": "wrong-password-123"}
        )
        # Same answer for a right and a wrong password: nothing to learn, and no session.
        _root_sign_in_redirect(right, host=TENANT_A["domain"], next_path="/admin/")
        _root_sign_in_redirect(wrong, host=TENANT_A["domain"], next_path="/admin/")
        assert COOKIE not in right.cookies
        assert Session.objects.count() == before
        assert me(client) is None

    def test_wagtails_front_end_login_is_closed_too(self, tenant_a):
        member = MemberFactory()
        client = host_client(TENANT_A["domain"])
        response = client.post("/pages/_util/login/", {"username": member.email, "password": PASSWORD})
        _root_sign_in_redirect(response, host=TENANT_A["domain"], next_path="/")
        assert me(client) is None

    @pytest.mark.parametrize(
        "path", ["/admin/password_reset/", "/admin/password_reset/done/", "/admin/password_reset/complete/",
                 "/admin/password_reset/MQ/set-password/"]
    )  # fmt: skip
    def test_password_reset_redirects_and_sends_no_mail(self, tenant_a, path):
        member = MemberFactory(email="reset@example.test")
        client = host_client(TENANT_A["domain"])
        response = client.post(path, {"email": member.email, "new_password1": "x" * 12, "new_password2": "x" * 12})
        _root_sign_in_redirect(response, host=TENANT_A["domain"], next_path="/admin/")
        assert client.get(path).status_code == 302
        assert mail.outbox == []
        member.refresh_from_db()
        assert member.check_password(PASSWORD)

    def test_admin_pages_send_visitors_through_the_hand_off(self, tenant_a):
        response = host_client(TENANT_A["domain"]).get("/admin/pages/")
        assert response.status_code == 302
        assert response["Location"].startswith("/auth/login/")
        onward = host_client(TENANT_A["domain"]).get(response["Location"])
        assert urlsplit(onward["Location"]).hostname == ROOT

    def test_wagtail_account_page_offers_no_password_or_email_change(self, tenant_a):
        staff = MemberFactory(is_staff=True, is_superuser=True)
        client = signed_in(TENANT_A["domain"], staff)
        page = client.get("/admin/account/")
        assert page.status_code == 200
        text = page.content.decode()
        assert 'name="password-old_password"' not in text and 'name="password-new_password1"' not in text
        assert 'name="name_email-email"' not in text
        # Posting the password panel anyway changes nothing.
        client.post(
            "/admin/account/",
            {
                "password-old_password": PASSWORD,
                "password-new_password1": "N3w-pass-phrase!",
                "password-new_password2": "N3w-pass-phrase!",
            },
        )
        staff.refresh_from_db()
        assert staff.check_password(PASSWORD)

    def test_sign_out_from_the_wagtail_admin_ends_every_session(self, tenant_a):
        member = MemberFactory(is_staff=True, is_superuser=True)
        root, a = host_client(ROOT), host_client(TENANT_A["domain"])
        sign_in_on_root(root, member.email)
        hand_off(root, a, TENANT_A["domain"])
        assert a.post("/admin/logout/").status_code == 302
        assert me(a) is None and me(root) is None


def test_the_binding_costs_no_query(tenant_a, settings):
    """The host check reads the session the authentication middleware loads anyway."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    member = MemberFactory()
    client = signed_in(TENANT_A["domain"], member)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/api/v1/me/").status_code == 200
        return len(captured)

    queries()  # the first request routes the host (then cached) and selects the schema
    bound = queries()
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != "members.middleware.SessionHostMiddleware"]
    assert queries() == bound
