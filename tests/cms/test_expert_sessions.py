"""Issue 14, point 2: expert Q&A sessions. Members ask and upvote (one vote per member, however often
sent); a moderator posts the expert's answers, which are highlighted in the community and kept on the
session page as the transcript."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from cms import services
from cms.models import ExpertQuestion, ExpertQuestionVote, QuestionStatus
from communities.models import Post, Topic, Visibility
from core.errors import NotAllowed, NotFound
from tenants.db import use_public_schema
from tests.conftest import TENANT_A, TENANT_B, host_client, signed_in
from tests.factories import ExpertSessionPageFactory, community_world

pytestmark = pytest.mark.django_db

HOST = TENANT_A["domain"]
JSON = "application/json"


@pytest.fixture
def world(tenant_a):
    with tenant_context(tenant_a):
        world = community_world(tenant=tenant_a, visibility=Visibility.OPEN)
        world.session = ExpertSessionPageFactory(community=world.community, title="Ask a neurologist")
        world.session_url = world.session.url
        world.question = services.submit_question(
            member=world.alice, tenant=tenant_a, session=world.session, body="How long does a relapse usually last?"
        )
    use_public_schema()
    return world


def _count(tenant, question):
    with tenant_context(tenant):
        question.refresh_from_db()
        votes = ExpertQuestionVote.objects.filter(question=question).count()
    use_public_schema()
    return question.vote_count, votes


def test_upvotes_are_idempotent_in_the_service(world, tenant_a):
    with tenant_context(tenant_a):
        for _ in range(3):
            services.set_vote(member=world.bob, tenant=tenant_a, question=world.question, voted=True)
        assert (world.question.vote_count, ExpertQuestionVote.objects.count()) == (1, 1)
        services.set_vote(member=world.carol, tenant=tenant_a, question=world.question, voted=True)
        for _ in range(2):
            services.set_vote(member=world.bob, tenant=tenant_a, question=world.question, voted=False)
        world.question.refresh_from_db()
        assert world.question.vote_count == 1
        assert list(ExpertQuestionVote.objects.values_list("member_id", flat=True)) == [world.carol.pk]
        # The page's single button toggles.
        services.toggle_vote(member=world.bob, tenant=tenant_a, question=world.question)
        services.toggle_vote(member=world.carol, tenant=tenant_a, question=world.question)
        world.question.refresh_from_db()
        assert world.question.vote_count == 1
        assert list(ExpertQuestionVote.objects.values_list("member_id", flat=True)) == [world.bob.pk]
    use_public_schema()


def test_upvotes_are_idempotent_through_the_api(world, tenant_a):
    bob = signed_in(HOST, world.bob)
    url = f"/api/v1/expert-questions/{world.question.pk}/vote/"
    for _ in range(3):
        response = bob.put(url)
        assert response.status_code == 200, response.content
        assert response.json()["vote_count"] == 1 and response.json()["voted"] is True
    assert _count(tenant_a, world.question) == (1, 1)
    assert signed_in(HOST, world.carol).put(url).json()["vote_count"] == 2
    for _ in range(2):
        assert bob.delete(url).json()["vote_count"] == 1
    assert _count(tenant_a, world.question) == (1, 1)
    # The session's detail shows the member's own vote.
    detail = signed_in(HOST, world.carol).get(f"/api/v1/expert-sessions/{world.session.pk}/").json()
    assert [(q["body"], q["vote_count"], q["voted"]) for q in detail["questions"]] == [
        ("How long does a relapse usually last?", 1, True)
    ]


def test_signed_out_and_outsiders_cannot_vote_or_ask_and_nothing_changes(world, tenant_a):
    url = f"/api/v1/expert-questions/{world.question.pk}/vote/"
    assert host_client(HOST).put(url).status_code == 401
    response = signed_in(HOST, world.stranger).put(url)
    assert response.status_code == 403 and response.json()["code"] == "not_tenant_member"
    response = signed_in(HOST, world.stranger).post(
        f"/api/v1/expert-sessions/{world.session.pk}/questions/", {"body": "A question from outside"}, content_type=JSON
    )
    assert response.status_code == 403
    assert _count(tenant_a, world.question) == (0, 0)
    with tenant_context(tenant_a):
        assert ExpertQuestion.objects.count() == 1
    use_public_schema()


def test_question_validation_is_a_clear_400(world):
    response = signed_in(HOST, world.bob).post(
        f"/api/v1/expert-sessions/{world.session.pk}/questions/", {"body": "short"}, content_type=JSON
    )
    assert response.status_code == 400
    assert response.json()["code"] == "question_length" and "body" in response.json()["details"]


def test_questions_and_votes_of_one_tenant_are_unknown_on_another(world, tenant_b):
    other = signed_in(TENANT_B["domain"], world.alice)
    assert other.put(f"/api/v1/expert-questions/{world.question.pk}/vote/").status_code in (403, 404)
    assert other.get(f"/api/v1/expert-sessions/{world.session.pk}/").status_code == 404


def test_moderator_answer_is_highlighted_in_the_community_and_kept_as_transcript(world, tenant_a):
    moderator = signed_in(HOST, world.moderator)
    response = moderator.post(
        f"/api/v1/expert-questions/{world.question.pk}/answer/",
        {"answer": "Most relapses settle within **four to six weeks**."},
        content_type=JSON,
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == QuestionStatus.ANSWERED and "<strong>four to six weeks</strong>" in body["answer_html"]
    with tenant_context(tenant_a):
        topic = Topic.objects.get(pk=body["topic_id"])
        assert topic.community_id == world.community.pk
        assert topic.title == "How long does a relapse usually last?"
        answer = Post.objects.get(pk=topic.answer_id)
        assert "Dr Ada Expert" in answer.body_markdown and "four to six weeks" in answer.body_html
    use_public_schema()
    # The community shows the topic as answered; the session page keeps the transcript.
    topic_page = host_client(HOST).get(f"/t/{body['topic_id']}/")
    assert topic_page.status_code == 200 and "four to six weeks" in topic_page.content.decode()
    page = host_client(HOST).get(world.session_url)
    text = page.content.decode()
    assert page.status_code == 200
    assert "Transcript" in text and "four to six weeks" in text
    detail = host_client(HOST).get(f"/api/v1/expert-sessions/{world.session.pk}/").json()
    assert [q["body"] for q in detail["transcript"]] == ["How long does a relapse usually last?"]
    assert detail["questions"] == []


def test_a_member_cannot_post_the_experts_answer(world, tenant_a):
    response = signed_in(HOST, world.alice).post(
        f"/api/v1/expert-questions/{world.question.pk}/answer/", {"answer": "I think so"}, content_type=JSON
    )
    assert response.status_code == 403
    with tenant_context(tenant_a):
        world.question.refresh_from_db()
        assert world.question.status == QuestionStatus.OPEN and world.question.answer_markdown == ""
        assert not Topic.objects.filter(community=world.community).exists()
        with pytest.raises(NotAllowed):
            services.answer_question(acting_member=world.bob, tenant=tenant_a, question=world.question, answer="x")
    use_public_schema()


def test_web_page_ask_and_toggle_vote(world, tenant_a):
    bob = signed_in(HOST, world.bob)
    response = bob.post(f"/sessions/{world.session.pk}/questions/", {"body": "Does heat make symptoms worse?"})
    assert response.status_code == 302
    page = bob.get(world.session_url).content.decode()
    assert "Does heat make symptoms worse?" in page and "Upvote" in page
    bob.post(f"/sessions/questions/{world.question.pk}/vote/")
    assert _count(tenant_a, world.question) == (1, 1)
    assert "Remove my vote" in bob.get(world.session_url).content.decode()
    bob.post(f"/sessions/questions/{world.question.pk}/vote/")
    assert _count(tenant_a, world.question) == (0, 0)


def test_members_only_session_community_hides_the_session_from_outsiders(tenant_a):
    with tenant_context(tenant_a):
        world = community_world(tenant=tenant_a, visibility=Visibility.MEMBERS_ONLY)
        session = ExpertSessionPageFactory(community=world.community)
        with pytest.raises(NotFound):
            services.submit_question(
                member=world.carol, tenant=tenant_a, session=session, body="A question from outside the community"
            )
        services.submit_question(member=world.alice, tenant=tenant_a, session=session, body="A question from inside")
    use_public_schema()


def test_upcoming_sessions_show_on_the_home_page_with_their_time_zone(world):
    text = host_client(HOST).get("/pages/").content.decode()
    assert "Ask a neurologist" in text and "Europe/Berlin" in text
    listed = host_client(HOST).get("/api/v1/expert-sessions/").json()["results"]
    assert [s["title"] for s in listed] == ["Ask a neurologist"]
    assert listed[0]["local_starts_at"].endswith(("+01:00", "+02:00"))
