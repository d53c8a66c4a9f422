"""Who answers an expert session's questions: the session's own expert (the member its page names) as
well as this site's moderators and admins; nobody else, and a refusal changes nothing."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django_tenants.utils import tenant_context

from access.services import sync_member_role_groups
from cms import services
from cms.models import ExpertQuestion, ExpertSessionPage, QuestionStatus
from communities.models import Post, Topic, Visibility
from core.errors import InvalidInput, NotAllowed
from members.models import MembershipRole
from tenants.db import use_public_schema
from tests.conftest import TENANT_A, host_client, signed_in
from tests.factories import (
    CommunityMembershipFactory,
    ExpertSessionPageFactory,
    MemberFactory,
    TenantMembershipFactory,
    community_world,
)

pytestmark = pytest.mark.django_db

HOST = TENANT_A["domain"]
JSON = "application/json"
ANSWER = "Most relapses settle within four to six weeks."


@pytest.fixture
def world(tenant_a: Any, tenant_b: Any) -> SimpleNamespace:
    with tenant_context(tenant_a):
        world = community_world(tenant=tenant_a, visibility=Visibility.MEMBERS_ONLY)
        world.expert = MemberFactory(display_name="Dr Ada")
        TenantMembershipFactory(member=world.expert, tenant=tenant_a)
        CommunityMembershipFactory(community=world.community, member=world.expert)
        world.other_expert = MemberFactory(display_name="Dr Other")
        TenantMembershipFactory(member=world.other_expert, tenant=tenant_a)
        CommunityMembershipFactory(community=world.community, member=world.other_expert)
        world.session = ExpertSessionPageFactory(community=world.community, title="Ask Dr Ada")
        world.other_session = ExpertSessionPageFactory(community=world.community, title="Ask Dr Other")
        services.set_session_expert(
            acting_member=world.admin, tenant=tenant_a, session=world.session, expert=world.expert
        )
        services.set_session_expert(
            acting_member=world.admin, tenant=tenant_a, session=world.other_session, expert=world.other_expert
        )
        world.session_url = world.session.url
        world.question = services.submit_question(
            member=world.alice, tenant=tenant_a, session=world.session, body="How long does a relapse last?"
        )
    use_public_schema()
    return world


def _answer(client: Any, question: ExpertQuestion) -> Any:
    return client.post(f"/api/v1/expert-questions/{question.pk}/answer/", {"answer": ANSWER}, content_type=JSON)


def _unchanged(tenant: Any, world: SimpleNamespace) -> None:
    with tenant_context(tenant):
        question = ExpertQuestion.objects.get(pk=world.question.pk)
        assert (question.status, question.answer_markdown, question.answered_by_id) == (QuestionStatus.OPEN, "", None)
        assert not Topic.objects.filter(community=world.community).exists()
    use_public_schema()


def test_the_sessions_expert_answers_and_the_answer_is_theirs(world: SimpleNamespace, tenant_a: Any) -> None:
    expert = signed_in(HOST, world.expert)
    page = expert.get(world.session_url).content.decode()
    assert "Post the answer" in page
    response = _answer(expert, world.question)
    assert response.status_code == 200, response.content
    assert response.json()["status"] == QuestionStatus.ANSWERED
    with tenant_context(tenant_a):
        question = ExpertQuestion.objects.get(pk=world.question.pk)
        assert question.answered_by_id == world.expert.pk
        assert question.topic_id_ref is not None
        topic = Topic.objects.get(pk=question.topic_id_ref)
        assert topic.community_id == world.community.pk and topic.answer_id is not None
        reply = Post.objects.get(pk=topic.answer_id)
        assert reply.author_id == world.expert.pk and ANSWER in reply.body_markdown
    use_public_schema()
    assert ANSWER in signed_in(HOST, world.bob).get(world.session_url).content.decode()


@pytest.mark.parametrize("who", ["alice", "bob", "carol", "stranger", "other_expert"])
def test_nobody_else_answers_and_nothing_changes(world: SimpleNamespace, tenant_a: Any, who: str) -> None:
    client = signed_in(HOST, getattr(world, who))
    if who in ("alice", "bob", "other_expert"):  # they may read the session: the answer form is not theirs
        assert "Post the answer" not in client.get(world.session_url).content.decode()
    response = _answer(client, world.question)
    # Readers of the session are refused (403); others don't know it exists (404).
    assert response.status_code == (403 if who in ("alice", "bob", "other_expert") else 404), response.content
    _unchanged(tenant_a, world)
    with tenant_context(tenant_a), pytest.raises(NotAllowed):
        services.answer_question(
            acting_member=getattr(world, who), tenant=tenant_a, question=world.question, answer=ANSWER
        )
    use_public_schema()
    _unchanged(tenant_a, world)


def test_signed_out_cannot_answer(world: SimpleNamespace, tenant_a: Any) -> None:
    assert _answer(host_client(HOST), world.question).status_code in (401, 403)
    _unchanged(tenant_a, world)


def test_an_expert_who_left_the_community_can_no_longer_answer(world: SimpleNamespace, tenant_a: Any) -> None:
    with tenant_context(tenant_a):
        world.community.memberships.filter(member=world.expert).delete()
        with pytest.raises(NotAllowed):
            services.answer_question(acting_member=world.expert, tenant=tenant_a, question=world.question, answer="x")
    use_public_schema()
    assert _answer(signed_in(HOST, world.expert), world.question).status_code == 404
    _unchanged(tenant_a, world)


def test_moderators_still_answer(world: SimpleNamespace, tenant_a: Any) -> None:
    assert _answer(signed_in(HOST, world.moderator), world.question).status_code == 200


def test_only_admins_name_an_expert_who_can_read_the_community(world: SimpleNamespace, tenant_a: Any) -> None:
    with tenant_context(tenant_a):
        for who in ("moderator", "alice"):
            with pytest.raises(NotAllowed):
                services.set_session_expert(
                    acting_member=getattr(world, who), tenant=tenant_a, session=world.session, expert=world.alice
                )
        with pytest.raises(InvalidInput) as outside:
            services.set_session_expert(
                acting_member=world.admin, tenant=tenant_a, session=world.session, expert=world.stranger
            )
        assert outside.value.code == "expert_not_tenant_member"
        with pytest.raises(InvalidInput) as unread:
            services.set_session_expert(
                acting_member=world.admin, tenant=tenant_a, session=world.session, expert=world.carol
            )
        assert unread.value.code == "expert_cannot_read_community"
        assert ExpertSessionPage.objects.get(pk=world.session.pk).expert_member_id == world.expert.pk
        # Un-naming works, and the live page and its latest revision agree.
        page = services.set_session_expert(
            acting_member=world.admin, tenant=tenant_a, session=world.session, expert=None
        )
        assert page.expert_member_id is None
        assert page.get_latest_revision_as_object().expert_member_id is None
    use_public_schema()


def test_the_admin_form_offers_this_tenants_members_only(world: SimpleNamespace, tenant_a: Any, tenant_b: Any) -> None:
    with tenant_context(tenant_b):
        other_tenant_member: Any = MemberFactory(display_name="Beta only")
        TenantMembershipFactory(member=other_tenant_member, tenant=tenant_b, role=MembershipRole.MEMBER)
    with tenant_context(tenant_a):
        form_class = ExpertSessionPage.get_edit_handler().get_form_class()
        session = ExpertSessionPage.objects.get(pk=world.session.pk)
        form = form_class(instance=session, parent_page=session.get_parent(), for_user=world.admin)
        offered = set(form.fields["expert_member"].queryset.values_list("pk", flat=True))
        assert world.expert.pk in offered and world.carol.pk in offered
        assert world.stranger.pk not in offered and other_tenant_member.pk not in offered
        labels = {label for _, label in form.fields["expert_member"].choices}
        assert "Dr Ada" in labels and not any("@" in str(label) for label in labels)
    use_public_schema()


def test_the_wagtail_edit_page_offers_the_expert_picker(world: SimpleNamespace, tenant_a: Any) -> None:
    with tenant_context(tenant_a):
        sync_member_role_groups(member_id=world.admin.pk, role=MembershipRole.ADMIN)
    use_public_schema()
    response = signed_in(HOST, world.admin).get(f"/admin/pages/{world.session.pk}/edit/")
    assert response.status_code == 200
    text = response.content.decode()
    assert 'name="expert_member"' in text and "Dr Ada" in text
    assert world.stranger.email not in text and world.carol.email not in text
