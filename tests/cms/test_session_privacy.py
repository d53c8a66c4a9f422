"""An expert session of a members-only community is that community's: who can't read the community
can't see the session anywhere (its page, the API's detail, questions and votes, the home page's and
the API's lists, search, the embed feed), and it answers 404 as if it did not exist. Readers of the
community see it all."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django_tenants.utils import tenant_context

from cms import selectors, services
from cms.models import ExpertQuestion, ExpertQuestionVote, QuestionStatus
from communities.models import Visibility
from tenants.db import use_public_schema
from tests.conftest import TENANT_A, TENANT_B, host_client, signed_in
from tests.factories import (
    CommunityFactory,
    CommunityMembershipFactory,
    ExpertSessionPageFactory,
    MemberFactory,
    TenantMembershipFactory,
    community_world,
)

pytestmark = pytest.mark.django_db

HOST = TENANT_A["domain"]
JSON = "application/json"
SECRET_TITLE = "Private session on fertility"
SECRET_QUESTION = "Can I stay on my treatment while trying for a baby?"
SECRET_ANSWER = "Talk to your neurologist about switching three months before."
OPEN_TITLE = "Open session on walking"


@pytest.fixture
def world(tenant_a: Any, tenant_b: Any) -> SimpleNamespace:
    with tenant_context(tenant_a):
        world = community_world(tenant=tenant_a, visibility=Visibility.MEMBERS_ONLY)
        world.secret = ExpertSessionPageFactory(community=world.community, title=SECRET_TITLE)
        world.secret_url = world.secret.url
        world.question = services.submit_question(
            member=world.alice, tenant=tenant_a, session=world.secret, body=SECRET_QUESTION
        )
        answered = services.submit_question(
            member=world.bob, tenant=tenant_a, session=world.secret, body="Does pregnancy change relapses?"
        )
        services.answer_question(
            acting_member=world.moderator, tenant=tenant_a, question=answered, answer=SECRET_ANSWER
        )
        world.open_community = CommunityFactory(visibility=Visibility.OPEN, name="Open circle")
        world.open = ExpertSessionPageFactory(community=world.open_community, title=OPEN_TITLE)
        # The home features both communities: the members-only one is listed to this tenant's members only.
        home = selectors.home_page()
        assert home is not None
        home.featured_communities.set([world.community, world.open_community])
        home.save_revision().publish()
    # A member of the other tenant, in a members-only community there.
    with tenant_context(tenant_b):
        world.elsewhere = MemberFactory(display_name="Elsewhere")
        TenantMembershipFactory(member=world.elsewhere, tenant=tenant_b)
        there = CommunityFactory(visibility=Visibility.MEMBERS_ONLY)
        CommunityMembershipFactory(community=there, member=world.elsewhere)
    use_public_schema()
    return world


def _outsiders(world: SimpleNamespace) -> dict[str, Any]:
    """Everyone who may not read the members-only community, as a client on tenant A's host."""
    return {
        "signed out": host_client(HOST),
        "no member of this tenant": signed_in(HOST, world.stranger),
        "tenant member outside the community": signed_in(HOST, world.carol),
        "member of another tenant": signed_in(HOST, world.elsewhere),
    }


def _readers(world: SimpleNamespace) -> dict[str, Any]:
    return {
        "community member": signed_in(HOST, world.alice),
        "moderator": signed_in(HOST, world.moderator),
    }


def _state(tenant: Any) -> tuple[list[tuple[str, str, int]], int]:
    with tenant_context(tenant):
        questions = list(ExpertQuestion.objects.order_by("pk").values_list("body", "status", "vote_count"))
        votes = ExpertQuestionVote.objects.count()
    use_public_schema()
    return questions, votes


@pytest.mark.parametrize("who", ["signed out", "no member of this tenant", "tenant member outside the community",
                                 "member of another tenant"])  # fmt: skip
def test_outsiders_cannot_see_the_session_on_any_page_or_endpoint(world: SimpleNamespace, who: str) -> None:
    client = _outsiders(world)[who]
    # The session page and the API's detail: 404, with nothing of the session in the answer.
    page = client.get(world.secret_url)
    assert page.status_code == 404
    detail = client.get(f"/api/v1/expert-sessions/{world.secret.pk}/")
    assert detail.status_code == 404 and detail.json()["code"] == "not_found"
    for response in (page, detail):
        text = response.content.decode()
        assert SECRET_TITLE not in text and SECRET_QUESTION not in text and SECRET_ANSWER not in text
    # The lists: the community home and the API list show the open session only.
    home = client.get("/pages/")
    assert home.status_code == 200
    text = home.content.decode()
    assert OPEN_TITLE in text and SECRET_TITLE not in text
    assert "Open circle" in text
    if who != "tenant member outside the community":  # tenant members see that it exists, and ask to join
        assert world.community.name not in text
    listed = client.get("/api/v1/expert-sessions/").json()["results"]
    assert [session["title"] for session in listed] == [OPEN_TITLE]
    # Search and the embed feed never list it either.
    for url in ("/search/?q=fertility", "/search/?q=neurologist", "/embed/feed/", "/api/v1/embed/feed/"):
        text = client.get(url).content.decode()
        assert SECRET_TITLE not in text and SECRET_QUESTION not in text and SECRET_ANSWER not in text, url


@pytest.mark.parametrize("who", ["no member of this tenant", "tenant member outside the community",
                                 "member of another tenant"])  # fmt: skip
def test_outsiders_cannot_ask_or_vote_and_nothing_changes(world: SimpleNamespace, tenant_a: Any, who: str) -> None:
    client = _outsiders(world)[who]
    before = _state(tenant_a)
    asked = client.post(
        f"/api/v1/expert-sessions/{world.secret.pk}/questions/", {"body": "A question from outside"}, content_type=JSON
    )
    assert asked.status_code == 404
    assert client.put(f"/api/v1/expert-questions/{world.question.pk}/vote/").status_code == 404
    web_ask = client.post(f"/sessions/{world.secret.pk}/questions/", {"body": "A question from outside"})
    assert web_ask.status_code == 404
    assert client.post(f"/sessions/questions/{world.question.pk}/vote/").status_code == 404
    assert _state(tenant_a) == before


def test_readers_of_the_community_see_the_session_everywhere(world: SimpleNamespace) -> None:
    for who, client in _readers(world).items():
        page = client.get(world.secret_url)
        assert page.status_code == 200, who
        text = page.content.decode()
        assert SECRET_QUESTION in text and SECRET_ANSWER in text, who
        detail = client.get(f"/api/v1/expert-sessions/{world.secret.pk}/").json()
        assert [q["body"] for q in detail["questions"]] == [SECRET_QUESTION], who
        assert [q["body"] for q in detail["transcript"]] == ["Does pregnancy change relapses?"], who
        home = client.get("/pages/").content.decode()
        assert SECRET_TITLE in home and world.community.name in home, who
        listed = client.get("/api/v1/expert-sessions/").json()["results"]
        assert sorted(session["title"] for session in listed) == sorted([OPEN_TITLE, SECRET_TITLE]), who


def test_a_community_member_still_asks_and_votes(world: SimpleNamespace, tenant_a: Any) -> None:
    bob = signed_in(HOST, world.bob)
    assert bob.put(f"/api/v1/expert-questions/{world.question.pk}/vote/").json()["vote_count"] == 1
    response = bob.post(
        f"/api/v1/expert-sessions/{world.secret.pk}/questions/",
        {"body": "Is breastfeeding safe on treatment?"},
        content_type=JSON,
    )
    assert response.status_code == 201


def test_leaving_the_community_hides_the_session_again(world: SimpleNamespace, tenant_a: Any) -> None:
    alice = signed_in(HOST, world.alice)
    assert alice.get(f"/api/v1/expert-sessions/{world.secret.pk}/").status_code == 200
    with tenant_context(tenant_a):
        world.community.memberships.filter(member=world.alice).delete()
    use_public_schema()
    assert alice.get(f"/api/v1/expert-sessions/{world.secret.pk}/").status_code == 404
    assert alice.get(world.secret_url).status_code == 404


def test_the_selectors_apply_one_rule(world: SimpleNamespace, tenant_a: Any) -> None:
    """Lists and detail agree for every reader (the rule is visible_sessions)."""
    with tenant_context(tenant_a):
        for member, sees in ((world.carol, False), (world.stranger, False), (world.alice, True), (world.admin, True)):
            titles = {s.title for s in selectors.upcoming_sessions(member=member, tenant=tenant_a)}
            assert (SECRET_TITLE in titles) is sees
            assert selectors.can_read_session(member=member, tenant=tenant_a, session=world.secret) is sees
    use_public_schema()


def test_sessions_of_one_tenant_are_unknown_on_another(world: SimpleNamespace) -> None:
    alice_on_b = signed_in(TENANT_B["domain"], world.alice)
    assert alice_on_b.get(f"/api/v1/expert-sessions/{world.secret.pk}/").status_code == 404
    assert alice_on_b.get("/api/v1/expert-sessions/").json()["results"] == []


def test_hidden_questions_stay_hidden_from_readers(world: SimpleNamespace, tenant_a: Any) -> None:
    with tenant_context(tenant_a):
        services.hide_question(acting_member=world.moderator, tenant=tenant_a, question=world.question)
        assert ExpertQuestion.objects.get(pk=world.question.pk).status == QuestionStatus.HIDDEN
    use_public_schema()
    detail = signed_in(HOST, world.alice).get(f"/api/v1/expert-sessions/{world.secret.pk}/").json()
    assert detail["questions"] == []
