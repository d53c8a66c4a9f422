"""Members' questions and votes for expert sessions: in their data export, erased with them."""

from __future__ import annotations

from typing import Any

from cms.models import ExpertQuestion, ExpertQuestionVote
from cms.selectors import member_question_rows
from members.models import Member
from privacy.registry import register_personal_data


def export_member_data(member: Member) -> Any:
    return member_question_rows(member=member)


def erase_member_data(member: Member, keep_posts: bool) -> None:
    """Votes go; questions stay (without an author) when the member keeps their posts, else go too.
    Answers the member posted as a moderator stay, without their name."""
    ExpertQuestionVote.objects.filter(member_id=member.pk).delete()
    ExpertQuestion.objects.filter(answered_by_id=member.pk).update(answered_by=None)
    own = ExpertQuestion.objects.filter(author_id=member.pk)
    if keep_posts:
        own.update(author=None)
    else:
        own.delete()


def register() -> None:
    register_personal_data(
        name="cms",
        models=[ExpertQuestion, ExpertQuestionVote],
        export=export_member_data,
        erase=erase_member_data,
        schema="tenant",
    )
