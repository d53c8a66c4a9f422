"""The API contract (issue 17): the same rule gives the same code wherever it is checked, details
name the field the client sent, the OpenAPI schema tells the truth, and names refuse hidden
characters consistently (web and API); passwords have a ceiling; Markdown never loses text."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.conf import settings
from django_tenants.utils import tenant_context
from drf_spectacular.generators import SchemaGenerator

from communities import services as community_services
from communities.markdown import render_markdown
from communities.models import Community, Tag, TagKind, Topic, TopicKind
from core.text import hidden_character
from members.models import Member
from members.passwords import MAX_PASSWORD_LENGTH
from tenants.db import use_public_schema
from tests.conftest import PASSWORD, TENANT_A, host_client, signed_in
from tests.factories import community_world

pytestmark = pytest.mark.django_db

ROOT = settings.ROOT_DOMAIN
TENANT = TENANT_A["domain"]
JSON = "application/json"


@pytest.fixture
def world(tenant_a, settings):
    settings.KINDRED_POSTING_RATE = "1000/1m"
    with tenant_context(tenant_a):
        w = community_world(tenant=tenant_a, slug="lupus-circle", name="Lupus circle")
        w.topic = community_services.create_topic(
            acting_member=w.alice, tenant=tenant_a, community=w.community, kind=TopicKind.QUESTION,
            title="Sleep and steroids", body="How do you sleep?",
        )  # fmt: skip
    use_public_schema()
    return w


def _error(response: Any, status: int = 400) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    return body


# --- 2. same rule, same code; details name the field sent ----------------------------------------


@pytest.mark.parametrize(
    ("title", "code"), [("Hi", "title_length"), ("x" * 201, "title_length"), ("   ", "title_length")]
)
def test_title_length_has_one_code_on_create_and_edit(world, title, code):
    client = signed_in(TENANT, world.alice)
    created = client.post(
        "/api/v1/communities/lupus-circle/topics/",
        {"kind": "question", "title": title, "body": "Body"},
        content_type=JSON,
    )
    with tenant_context(world.tenant):
        opening = world.topic.posts.get(is_opening=True)
    use_public_schema()
    edited = client.patch(f"/api/v1/posts/{opening.pk}/", {"body": "New", "title": title}, content_type=JSON)
    for response in (created, edited):
        body = _error(response)
        assert (body["code"], list(body["details"])) == (code, ["title"])


@pytest.mark.parametrize(("body_text", "code"), [("   ", "body_empty"), ("x" * 20_001, "body_too_long")])
def test_body_rules_have_one_code_on_topic_reply_and_edit(world, body_text, code):
    client = signed_in(TENANT, world.alice)
    responses = [
        client.post(
            "/api/v1/communities/lupus-circle/topics/",
            {"kind": "question", "title": "A fine title", "body": body_text},
            content_type=JSON,
        ),
        client.post(f"/api/v1/topics/{world.topic.pk}/posts/", {"body": body_text}, content_type=JSON),
    ]
    for response in responses:
        body = _error(response)
        assert (body["code"], list(body["details"])) == (code, ["body"])


def test_tag_name_rule_has_one_code_and_names_the_field(world):
    client = signed_in(TENANT, world.moderator)
    too_long = client.post(
        "/api/v1/communities/lupus-circle/tags/", {"kind": "symptom", "name": "x" * 61}, content_type=JSON
    )
    too_short = client.post(
        "/api/v1/communities/lupus-circle/tags/", {"kind": "symptom", "name": "!"}, content_type=JSON
    )
    proposed = signed_in(TENANT, world.alice).post(
        "/api/v1/communities/lupus-circle/topics/",
        {"kind": "question", "title": "A fine title", "body": "b", "proposed_tags": ["x" * 61]},
        content_type=JSON,
    )
    assert [(_error(r)["code"], list(_error(r)["details"])) for r in (too_long, too_short)] == [
        ("tag_invalid", ["name"]),
        ("tag_invalid", ["name"]),
    ]
    assert (_error(proposed)["code"], list(_error(proposed)["details"])) == ("tag_invalid", ["proposed_tags"])


def test_missing_trial_is_not_found_for_detail_and_discussion(world, tenant_a):
    detail = host_client(TENANT).get("/api/v1/trials/NCT99999999/")
    discussion = signed_in(TENANT, world.alice).post(
        "/api/v1/trials/NCT99999999/discussions/", {"community": "lupus-circle"}, content_type=JSON
    )
    assert _error(detail, 404)["code"] == _error(discussion, 404)["code"] == "not_found"


def test_unknown_condition_ids_are_named_as_sent(world):
    response = signed_in(TENANT, world.admin).post(
        "/api/v1/communities/",
        {"name": "Fatigue", "slug": "fatigue", "condition_ids": [999_999]},
        content_type=JSON,
    )
    assert list(_error(response)["details"]) == ["condition_ids"]
    me = signed_in(ROOT, world.alice).patch("/api/v1/me/", {"condition_ids": [999_999]}, content_type=JSON)
    assert list(_error(me)["details"]) == ["condition_ids"]


def test_unknown_consents_at_signup_are_named_consents(tenant_a):
    import datetime

    from django.utils import timezone

    from consent.models import ConsentPurpose
    from consent.services import publish_policy

    publish_policy(
        text_markdown="Policy",
        effective_at=timezone.now() - datetime.timedelta(days=1),
        change_summary="First.",
        purposes=list(ConsentPurpose.objects.filter(code="research-data-sharing")),
    )
    response = host_client(ROOT).post(
        "/api/v1/auth/signup/",
        {"email": "c@example.org", "password": PASSWORD, "consents": ["no-such-purpose"]},
        content_type=JSON,
    )
    assert list(_error(response)["details"]) == ["consents"]
    assert not Member.objects.filter(email="c@example.org").exists()


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"lat": "40", "lon": "x"}, ["lon"]),
        ({"lat": "x", "lon": "10"}, ["lat"]),
        ({"lat": "91", "lon": "200"}, ["lat", "lon"]),
    ],
)
def test_bad_coordinates_name_the_bad_parameter(tenant_a, params, named):
    response = host_client(ROOT).get("/api/v1/trials/", params)
    assert sorted(_error(response)["details"]) == named


# --- 4. the schema tells the truth ---------------------------------------------------------------


@pytest.fixture(scope="module")
def schemas() -> dict[str, dict[str, Any]]:
    return {
        urlconf: SchemaGenerator(urlconf=urlconf).get_schema(request=None, public=True)
        for urlconf in ("config.urls_public", "config.urls_tenant")
    }


def test_nullable_and_blank_values_are_declared(schemas):
    components = schemas["config.urls_tenant"]["components"]["schemas"]
    assert components["Tag"]["properties"]["merged_into"]["nullable"] is True
    # The root's Member (a partner's API shows the member as TenantMe, without global ids).
    role = schemas["config.urls_public"]["components"]["schemas"]["Member"]["properties"]["role"]
    assert {"$ref": "#/components/schemas/BlankEnum"} in role["oneOf"]


def test_required_fields_and_ranges_are_declared(schemas):
    public = schemas["config.urls_public"]["components"]["schemas"]
    tenant = schemas["config.urls_tenant"]["components"]["schemas"]
    password = public["SignUp"]["properties"]["password"]
    assert (password["minLength"], password["maxLength"]) == (10, MAX_PASSWORD_LENGTH)
    birth_year = public["SignUp"]["properties"]["birth_year"]
    assert birth_year["maximum"] - birth_year["minimum"] == 120
    assert public["TrialAlertInput"]["properties"]["place"]["minLength"] == 1
    topic = tenant["TopicCreate"]
    assert {"title", "body", "kind"} <= set(topic["required"])
    assert (topic["properties"]["title"]["minLength"], topic["properties"]["title"]["maxLength"]) == (3, 200)
    assert topic["properties"]["body"]["minLength"] == 1


def test_patch_bodies_are_described_as_accepted(schemas):
    operation = schemas["config.urls_tenant"]["paths"]["/api/v1/posts/{post_id}/"]["patch"]
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert schemas["config.urls_tenant"]["components"]["schemas"][ref]["required"] == ["body"]


def test_every_operation_documents_its_errors_in_the_one_shape(schemas):
    for schema in schemas.values():
        error = schema["components"]["schemas"]["Error"]
        assert set(error["required"]) == {"code", "message", "details"}
        for path, item in schema["paths"].items():
            for method, operation in item.items():
                responses = operation["responses"]
                expected = {"400", "403", "404"} | ({"409", "429"} if method != "get" else set())
                assert expected <= set(responses), (method, path)
                for code in expected:
                    content = responses[code]["content"]["application/json"]["schema"]
                    assert content == {"$ref": "#/components/schemas/Error"}, (method, path, code)


def test_401_is_documented_where_sign_in_is_needed_only(schemas):
    paths = schemas["config.urls_public"]["paths"]
    assert "401" in paths["/api/v1/me/"]["get"]["responses"]
    assert "WWW-Authenticate" in paths["/api/v1/me/"]["get"]["responses"]["401"]["headers"]
    assert "401" not in paths["/api/v1/partners/"]["get"]["responses"]
    assert (
        "Retry-After"
        in schemas["config.urls_tenant"]["paths"]["/api/v1/topics/{topic_id}/posts/"]["post"]["responses"]["429"][
            "headers"
        ]
    )


# --- 5. text hygiene ----------------------------------------------------------------------------

HIDDEN = {
    "zero-width space": "ad\u200bmin",
    "right-to-left override": "abc\u202edef",
    "bidi isolate": "abc\u2066def",
    "control character": "abc\x07def",
    "byte-order mark": "\ufeffabc",
    "soft hyphen": "abc\u00addef",
}


@pytest.mark.parametrize("text", HIDDEN.values(), ids=HIDDEN.keys())
def test_hidden_characters_are_refused_in_every_name_and_title(world, text):
    moderator = signed_in(TENANT, world.moderator)
    responses = {
        "title": signed_in(TENANT, world.alice).post(
            "/api/v1/communities/lupus-circle/topics/",
            {"kind": "question", "title": f"Title {text}", "body": "b"},
            content_type=JSON,
        ),
        "tag": moderator.post(
            "/api/v1/communities/lupus-circle/tags/", {"kind": "symptom", "name": f"Tag {text}"}, content_type=JSON
        ),
        "community": signed_in(TENANT, world.admin).post(
            "/api/v1/communities/", {"name": f"Circle {text}", "slug": "circle"}, content_type=JSON
        ),
        "tenant name": signed_in(TENANT, world.alice).put(
            "/api/v1/me/name/", {"display_name": f"Al {text}"}, content_type=JSON
        ),
        "display name": signed_in(ROOT, world.alice).patch(
            "/api/v1/me/", {"display_name": f"Al {text}"}, content_type=JSON
        ),
        "sign-up": host_client(ROOT).post(
            "/api/v1/auth/signup/",
            {"email": "h@example.org", "password": PASSWORD, "display_name": f"Al {text}"},
            content_type=JSON,
        ),
    }
    for what, response in responses.items():
        body = _error(response)
        assert body["code"] == "invalid", (what, body)
        assert any("hidden or control character" in m for messages in body["details"].values() for m in messages)
    with tenant_context(world.tenant):
        assert not Topic.objects.filter(title__startswith="Title").exists()
        assert not Tag.objects.filter(name__startswith="Tag").exists()
        assert not Community.objects.filter(slug="circle").exists()
    use_public_schema()
    world.alice.refresh_from_db()
    assert not world.alice.display_name.startswith("Al ")
    assert not Member.objects.filter(email="h@example.org").exists()


def test_partner_names_refuse_hidden_characters(tenant_a):
    from django.core.exceptions import ValidationError

    from tenants.services import validate_new_tenant

    with pytest.raises(ValidationError) as refused:
        validate_new_tenant(name="Lupus\u200b Alliance", slug="zw-partner", domain="zw-partner.localhost")
    assert "name" in refused.value.message_dict


def test_hidden_character_web_form_shows_the_message(world):
    response = signed_in(TENANT, world.alice).post(
        "/c/lupus-circle/new/", {"kind": "question", "title": "Hello\u202edlrow", "body": "Body"}
    )
    assert response.status_code in (200, 400)
    assert b"hidden or control character" in response.content


def test_whitespace_in_names_is_collapsed_not_refused(world):
    response = signed_in(ROOT, world.alice).patch(
        "/api/v1/me/", {"display_name": "Ana\u2028 \t Maria"}, content_type=JSON
    )
    assert response.json()["display_name"] == "Ana Maria"


def test_emoji_sequences_and_ordinary_scripts_are_names(world):
    for name in ["Ana 👩\u200d⚕️", "María José", "Zoë", "محمد", "小林", "O'Brien-Smith"]:
        assert hidden_character(name) is None, name
    response = signed_in(ROOT, world.alice).patch("/api/v1/me/", {"display_name": "Ana 👩\u200d⚕️"}, content_type=JSON)
    assert response.status_code == 200
    assert response.json()["display_name"] == "Ana 👩\u200d⚕️"


def test_passwords_have_a_ceiling(tenant_a):
    long_password = "correct-horse-" + "x" * MAX_PASSWORD_LENGTH
    response = host_client(ROOT).post(
        "/api/v1/auth/signup/", json.dumps({"email": "p@example.org", "password": long_password}), content_type=JSON
    )
    assert list(_error(response)["details"]) == ["password"]
    web = host_client(ROOT).post("/accounts/signup/", {"email": "p@example.org", "password": long_password})
    assert not Member.objects.filter(email="p@example.org").exists()
    assert web.status_code in (200, 400)


@pytest.mark.parametrize(
    ("source", "kept"),
    [
        ("before <script>alert(1)</script> after", ["before", "after"]),
        ("before <script>never closed, and more text", ["before", "never closed, and more text"]),
        ("a <textarea>unclosed then text", ["a", "unclosed then text"]),
        ("x <style>p{}</style>\nnext line", ["x", "next line"]),
        ("a <plaintext>rest of the post", ["a", "rest of the post"]),
        ("See ![my chart](https://example.org/c.png) here", ["See", "my chart", "here"]),
        ("<iframe src=x></iframe>after", ["after"]),
    ],
)
def test_markdown_never_drops_the_text_around_a_removed_element(source, kept):
    html = render_markdown(source)
    assert "<script" not in html and "<iframe" not in html and "<textarea" not in html and "<img" not in html
    for text in kept:
        assert text in html, (text, html)


def test_markdown_still_formats(tenant_a):
    assert render_markdown("**b** _i_ `<b>`") == "<p><strong>b</strong> <em>i</em> <code>&lt;b&gt;</code></p>"


def test_tag_kind_error_names_kind(world):
    with tenant_context(world.tenant), pytest.raises(Exception) as refused:
        community_services.create_tag(
            acting_member=world.moderator, tenant=world.tenant, community=world.community, kind="nope", name="Ok tag"
        )
    use_public_schema()
    assert list(refused.value.details) == ["kind"]
    assert TagKind.SYMPTOM in TagKind.values
