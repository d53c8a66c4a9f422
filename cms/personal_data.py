"""Members' questions and votes for expert sessions: in their data export, erased with them."""

from __future__ import annotations

from typing import Any

from wagtail.models import Revision

from cms.models import ExpertQuestion, ExpertQuestionVote, ExpertSessionPage
from cms.selectors import member_question_rows
from members.models import Member
from privacy.registry import register_personal_data


def export_member_data(member: Member) -> Any:
    return member_question_rows(member=member)


def erase_member_data(member: Member, keep_posts: bool) -> None:
    """Votes go; questions stay (without an author) when the member keeps their posts, else go too.
    Answers the member posted as a moderator or expert stay, without their name; sessions that named them
    as their expert keep the expert's public name and bio (the partner's text), not the account."""
    ExpertQuestionVote.objects.filter(member_id=member.pk).delete()
    ExpertSessionPage.objects.filter(expert_member_id=member.pk).update(expert_member=None)
    for revision_id, content in Revision.objects.filter(content__expert_member=member.pk).values_list("id", "content"):
        Revision.objects.filter(pk=revision_id).update(content={**content, "expert_member": None})
    ExpertQuestion.objects.filter(answered_by_id=member.pk).update(answered_by=None)
    own = ExpertQuestion.objects.filter(author_id=member.pk)
    if keep_posts:
        own.update(author=None)
    else:
        own.delete()


def register() -> None:
    register_personal_data(
        name="cms",
        models=[ExpertQuestion, ExpertQuestionVote, ExpertSessionPage],
        export=export_member_data,
        erase=erase_member_data,
        schema="tenant",
    )
