"""No input produces a 500 (issue 17): the four causes found by a hostile client, sent to every API
operation and web page that takes the parameter, plus the API's one error shape for every error
under /api/v1/ (unmatched paths, 404, 405, uncaught exceptions), 401 with WWW-Authenticate and 429
with Retry-After.

The operations come from the OpenAPI schema of each URL set, so an endpoint added later is tried
without a change here."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from drf_spectacular.generators import SchemaGenerator

from config.edge import MAX_JSON_DEPTH, json_depth
from tests.conftest import PASSWORD, TENANT_A, host_client, signed_in
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

ROOT = settings.ROOT_DOMAIN
TENANT = TENANT_A["domain"]
URLCONFS = {ROOT: "config.urls_public", TENANT: "config.urls_tenant"}
NUL = "\x00"
BEYOND_BIGINT = "9223372036854775808"
SAMPLE_PATH_VALUES = {"slug": "lupus", "nct_id": "NCT00000001", "kind": "helpful"}


def _schema(urlconf: str) -> dict[str, Any]:
    return SchemaGenerator(urlconf=urlconf).get_schema(request=None, public=True)


def _operations(host: str) -> list[tuple[str, str, dict[str, Any]]]:
    schema = _schema(URLCONFS[host])
    return [
        (path, method.upper(), operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def _fill(path: str, override: dict[str, str] | None = None) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if override and name in override:
            return override[name]
        if name.endswith("id") and name != "nct_id" and name != "public_id":
            return "1"
        if name == "public_id":
            return "00000000-0000-0000-0000-000000000001"
        return SAMPLE_PATH_VALUES.get(name, "x")

    return re.sub(r"\{(\w+)\}", value, path)


def _query_cases() -> list[tuple[str, str, str, str]]:
    cases = []
    for host in URLCONFS:
        for path, method, operation in _operations(host):
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query":
                    cases.append((host, method, path, parameter["name"]))
    return cases


def _body_cases() -> list[tuple[str, str, str]]:
    return [
        (host, method, path)
        for host in URLCONFS
        for path, method, operation in _operations(host)
        if "requestBody" in operation
    ]


def _path_cases() -> list[tuple[str, str, str, str]]:
    cases = []
    for host in URLCONFS:
        for path, method, operation in _operations(host):
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path":
                    cases.append((host, method, path, parameter["name"]))
    return cases


def assert_api_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body) == {"code", "message", "details"}, body
    assert isinstance(body["details"], dict)
    if code is not None:
        assert body["code"] == code, body
    return body


@pytest.fixture
def member(tenant_a):
    from members.services import join_tenant

    someone = MemberFactory()
    join_tenant(member=someone, tenant=tenant_a)
    return someone


def _client(host: str, member: Any | None) -> Any:
    return host_client(host) if member is None else signed_in(host, member)


# --- 1. NUL bytes --------------------------------------------------------------------------------


@pytest.mark.parametrize(("host", "method", "path", "name"), _query_cases())
def test_nul_in_any_query_parameter_is_a_400_in_the_api_shape(tenant_a, member, host, method, path, name):
    for who in (None, member):
        url = f"{_fill(path)}?{quote(name)}=a%00b"
        response = _client(host, who).generic(method, url)
        body = assert_api_error(response, 400, "invalid")
        assert name in body["details"]


@pytest.mark.parametrize(("host", "method", "path", "name"), _path_cases())
def test_nul_in_any_path_parameter_is_a_400(tenant_a, host, method, path, name):
    response = host_client(host).generic(method, _fill(path, {name: "NCT%00"}))
    assert_api_error(response, 400, "invalid")


@pytest.mark.parametrize(("host", "method", "path"), _body_cases())
def test_nul_in_any_json_body_is_a_400(tenant_a, member, host, method, path):
    body = json.dumps({"name": "a\x00b", "title": "a\x00b", "body": "x", "role": "\x00"})
    response = signed_in(host, member).generic(method, _fill(path), body, content_type="application/json")
    assert_api_error(response, 400, "invalid")


def test_nul_in_a_form_body_is_a_400_page(tenant_a):
    response = host_client(TENANT).post("/auth/login/", {"email": "a\x00@example.org", "password": "x"})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert b"could not read that request" in response.content


# The web pages that take a parameter (issue 17's list), on the host that serves them.
WEB_PAGES = [
    (ROOT, "/trials/", ["q", "condition", "near", "lat", "lon", "within", "offset", "limit", "status", "phase"]),
    (ROOT, "/", ["community_q"]),
    (ROOT, "/communities/", ["q", "condition"]),
    (ROOT, "/accounts/signup/", ["tenant", "next"]),
    (ROOT, "/accounts/login/", ["next"]),
    (ROOT, "/auth/handoff/", ["host", "next"]),
    (TENANT, "/", ["tag", "cursor"]),
    (TENANT, "/search/", ["q", "kind", "tag_kind"]),
    (TENANT, "/c/lupus/", ["tag", "kind", "cursor"]),
    (TENANT, "/trials/", ["q", "condition", "near", "offset"]),
    (TENANT, "/manage/log/", ["community"]),
    (TENANT, "/notifications/", ["unread"]),
]


@pytest.mark.parametrize(("host", "page", "names"), WEB_PAGES)
def test_nul_on_web_pages_is_a_clean_400_page(tenant_a, member, host, page, names):
    for who in (None, member):
        for name in names:
            response = _client(host, who).get(f"{page}?{name}=%00")
            assert response.status_code == 400, (page, name, response.status_code)
            assert response["Content-Type"].startswith("text/html")
            assert b"could not read that request" in response.content


# --- 2. Integers beyond bigint -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "method", "path", "name"),
    [case for case in _query_cases() if case[3] in {"offset", "limit", "condition", "condition_id"}],
)
def test_paging_and_id_parameters_beyond_bigint_are_a_400(tenant_a, host, method, path, name):
    response = host_client(host).generic(method, f"{_fill(path)}?{name}={BEYOND_BIGINT}")
    body = assert_api_error(response, 400, "invalid")
    assert name in body["details"]


@pytest.mark.parametrize(("host", "page"), [(ROOT, "/trials/"), (TENANT, "/trials/")])
def test_offset_beyond_bigint_on_the_trials_page_is_a_400(tenant_a, host, page):
    assert host_client(host).get(f"{page}?offset={BEYOND_BIGINT}").status_code == 400


@pytest.mark.parametrize(("host", "method", "path", "name"), [c for c in _path_cases() if c[3].endswith("_id")])
def test_path_ids_beyond_bigint_are_refused(tenant_a, member, host, method, path, name):
    if name in {"nct_id", "public_id"}:
        return
    response = signed_in(host, member).generic(method, _fill(path, {name: BEYOND_BIGINT}))
    assert_api_error(response, 400, "invalid")


@pytest.mark.parametrize(("host", "method", "path"), _body_cases())
def test_json_integers_beyond_bigint_are_a_400(tenant_a, member, host, method, path):
    body = '{"into": 9223372036854775808, "post_id": 1, "birth_year": 1}'
    response = signed_in(host, member).generic(method, _fill(path), body, content_type="application/json")
    assert_api_error(response, 400, "invalid")


# --- 3. Deep JSON --------------------------------------------------------------------------------


@pytest.mark.parametrize(("host", "method", "path"), _body_cases())
def test_json_nested_1000_levels_is_a_400_anonymous_and_signed_in(tenant_a, member, host, method, path):
    deep = "[" * 1000 + "]" * 1000
    for who in (None, member):
        response = _client(host, who).generic(method, _fill(path), deep, content_type="application/json")
        body = assert_api_error(response, 400, "invalid")
        assert "nest" in body["details"]["body"][0]


def test_signup_with_deep_json_is_a_400(tenant_a):
    deep = '{"email": ' + "[" * 1000 + "]" * 1000 + "}"
    response = host_client(ROOT).post("/api/v1/auth/signup/", deep, content_type="application/json")
    assert_api_error(response, 400, "invalid")


def test_nesting_at_the_limit_is_parsed_normally(tenant_a):
    body = '{"email": ' + "[" * (MAX_JSON_DEPTH - 1) + "]" * (MAX_JSON_DEPTH - 1) + "}"
    assert json_depth(body.encode()) == MAX_JSON_DEPTH
    response = host_client(ROOT).post("/api/v1/auth/signup/", body, content_type="application/json")
    body_json = assert_api_error(response, 400, "invalid")
    assert "email" in body_json["details"]  # the serializer, not the edge, refused it


def test_brackets_inside_strings_do_not_count_as_nesting():
    assert json_depth(b'{"a": "[[[[[[[[[[{{{{{{", "b": "\\"[["}') == 1


# --- 4. Lone surrogates ------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["role", "country", "display_name", "email"])
def test_lone_surrogate_at_signup_is_a_400_not_a_500(tenant_a, field):
    body = json.dumps({"email": "s@example.org", "password": PASSWORD, field: "\udfff"})
    response = host_client(ROOT).post("/api/v1/auth/signup/", body, content_type="application/json")
    body_json = assert_api_error(response, 400, "invalid")
    assert field in body_json["details"]


@pytest.mark.parametrize(("host", "method", "path"), _body_cases())
def test_lone_surrogate_in_any_json_body_is_a_400(tenant_a, member, host, method, path):
    body = json.dumps({"level": "\udfff", "kind": "\ud800", "sex": "\udfff", "email_notifications": "\udfff"})
    response = signed_in(host, member).generic(method, _fill(path), body, content_type="application/json")
    assert_api_error(response, 400, "invalid")


def test_invalid_utf8_in_a_form_body_is_refused_not_replaced(tenant_a):
    client = host_client(ROOT)
    response = client.generic(
        "POST", "/accounts/login/", b"email=a%ff%fe@example.org&password=x", "application/x-www-form-urlencoded"
    )
    assert response.status_code == 400
    response = client.generic("POST", "/accounts/login/", b"email=\xff\xfe", "application/x-www-form-urlencoded")
    assert response.status_code == 400


def test_invalid_utf8_in_a_query_string_is_refused(tenant_a):
    assert_api_error(host_client(ROOT).get("/api/v1/trials/?q=%ed%b0%80"), 400, "invalid")
    assert host_client(ROOT).get("/trials/?q=%ff").status_code == 400


def test_ordinary_unicode_passes_the_edge(tenant_a):
    response = host_client(ROOT).get("/api/v1/trials/?q=" + quote("Sjögren 症候群 🙂"))
    assert response.status_code == 200


# --- One error shape under /api/v1/ --------------------------------------------------------------


@pytest.mark.parametrize("host", list(URLCONFS))
def test_unmatched_api_paths_are_json_404(tenant_a, host):
    client = host_client(host)
    assert_api_error(client.get("/api/v1/no-such-thing/"), 404, "not_found")
    assert_api_error(client.get("/api/v1/trials"), 404, "not_found")  # no slash-appending redirect
    assert_api_error(client.post("/api/v1/me", {}), 404, "not_found")  # a POST without the slash too


def test_method_not_allowed_is_json_405(tenant_a, member):
    response = signed_in(ROOT, member).delete("/api/v1/partners/")
    assert_api_error(response, 405, "method_not_allowed")


def test_missing_trial_is_json_404(tenant_a):
    assert_api_error(host_client(ROOT).get("/api/v1/trials/NCT99999999/"), 404, "not_found")


def test_uncaught_exception_is_json_500(tenant_a):
    # A real fault, not a mock: the trials table is gone (renamed inside this test's transaction,
    # which rolls back), so the view's own query fails after routing and sign-in worked.
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE public.trials_trial RENAME TO trials_trial_gone")
    client = host_client(ROOT, raise_request_exception=False)
    body = assert_api_error(client.get("/api/v1/trials/NCT00000001/"), 500, "server_error")
    assert "trials_trial" not in body["message"]


def test_web_404_stays_html(tenant_a):
    response = host_client(ROOT).get("/no-such-page/")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize(
    ("host", "path"), [(ROOT, "/api/v1/me/"), (TENANT, "/api/v1/notifications/"), (ROOT, "/api/v1/trials/saved/")]
)
def test_signed_out_is_401_with_www_authenticate(tenant_a, host, path):
    response = host_client(host).get(path)
    assert_api_error(response, 401, "not_authenticated")
    # Two ways in: an API token (Bearer), or the session of the web sign-in.
    assert response["WWW-Authenticate"].startswith('Bearer realm="api", Session realm="Kindred"')


def test_signed_in_without_permission_is_still_403(tenant_a, member):
    response = signed_in(ROOT, member).get("/api/v1/research/dataset/")
    assert_api_error(response, 403)
    assert "WWW-Authenticate" not in response


def test_multipart_without_a_boundary_is_a_400_in_the_api_shape(tenant_a):
    response = host_client(ROOT).generic("POST", "/api/v1/auth/signup/", b"x", "multipart/form-data")
    assert_api_error(response, 400, "invalid")


def test_nul_in_a_multipart_field_is_a_400(tenant_a):
    response = host_client(ROOT).post("/api/v1/auth/signup/", {"email": "a\x00@example.org", "password": "x"})
    assert_api_error(response, 400, "invalid")


@pytest.mark.parametrize("digits", ["9" * 5000, "0" * 30 + "1"])
def test_very_long_numbers_in_paths_and_paging_are_refused_or_read(tenant_a, digits):
    client = host_client(TENANT)
    for url in (f"/api/v1/topics/{digits}/", f"/api/v1/feed/?limit={digits}", f"/api/v1/trials/?offset={digits}"):
        response = client.get(url)
        if digits.startswith("9"):
            assert_api_error(response, 400, "invalid")
        else:
            assert response.status_code in (200, 400, 404), url  # a padded 1 is a fine small number


def test_unicode_digits_in_a_path_are_not_ids(tenant_a):
    assert_api_error(host_client(TENANT).get("/api/v1/topics/²³/"), 404, "not_found")


def _multipart(fields: list[tuple[bytes, bytes]], boundary: bytes = b"kindredboundary") -> bytes:
    parts = [b"--" + boundary + b"\r\n" + head + b"\r\n\r\n" + value + b"\r\n" for head, value in fields]
    return b"".join(parts) + b"--" + boundary + b"--\r\n"


def test_invalid_utf8_in_a_multipart_field_is_refused_not_replaced(tenant_a):
    body = _multipart(
        [
            (b'Content-Disposition: form-data; name="email"', b"a\xff\xfe@example.org"),
            (b'Content-Disposition: form-data; name="password"', b"long-enough-pass-1"),
        ]
    )
    response = host_client(ROOT).generic(
        "POST", "/api/v1/auth/signup/", body, "multipart/form-data; boundary=kindredboundary"
    )
    assert_api_error(response, 400, "invalid")
    assert "UTF-8" in response.json()["message"] + str(response.json()["details"])


def test_a_file_part_may_hold_any_bytes(tenant_a):
    body = _multipart(
        [
            (b'Content-Disposition: form-data; name="email"', b"not-an-email"),
            (b'Content-Disposition: form-data; name="file"; filename="x.bin"', b"\xff\xfe\x00\x01"),
        ]
    )
    response = host_client(ROOT).generic(
        "POST", "/api/v1/auth/signup/", body, "multipart/form-data; boundary=kindredboundary"
    )
    assert response.status_code == 400
    assert "UTF-8" not in str(response.json())  # refused for the email, not for the file's bytes
