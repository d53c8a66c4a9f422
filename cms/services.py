"""Writes for the partner's pages (tenant schema): the home page provisioning creates, members' questions
and votes for expert sessions, the expert's answers, and member invitations by email or CSV.

Call inside the tenant's context; refusals are domain errors (core.errors) and change nothing.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from wagtail.models import Page, Site

from cms import selectors
from cms.models import (
    CommunityHomePage,
    ExpertQuestion,
    ExpertQuestionVote,
    ExpertSessionPage,
    QuestionStatus,
    ResourceIndexPage,
)
from communities import services as community_services
from communities.markdown import render_markdown
from communities.models import Community, Topic
from communities.permissions import can_moderate, can_read_community
from core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from core.text import check_visible_text
from members.models import Member, MembershipRole, TenantInvitation, TenantMembership
from members.selectors import can_administer_tenant
from members.services import invite_to_tenant
from tenants.models import Tenant

QUESTION_MIN, QUESTION_MAX = 10, 1000
ANSWER_MAX = 20_000
INVITE_CSV_MAX_BYTES = 256 * 1024
INVITE_CSV_MAX_ROWS = 500


# --- the home page ----------------------------------------------------------------------------


def ensure_home_page(*, tenant: Tenant) -> CommunityHomePage:
    """Give this tenant a community home page with a resource library, as its site's root (idempotent).

    Replaces Wagtail's placeholder welcome page (kept nowhere: it holds nothing); pages a partner already
    made under the old root move under the new home.
    """
    site = Site.objects.filter(is_default_site=True).select_related("root_page").first()
    if site is not None and isinstance(site.root_page.specific, CommunityHomePage):
        home = site.root_page.specific
        _ensure_library(home=home)
        return home
    root = Page.get_first_root_node()
    if root is None:
        raise Conflict("This schema has no Wagtail page tree.", code="no_page_tree")
    with transaction.atomic():
        old = site.root_page if site is not None else None
        slug = "community-home"
        while Page.objects.filter(depth=2, slug=slug).exists():
            slug += "-1"
        home = CommunityHomePage(
            title=tenant.name,
            slug=slug,
            hero_title=f"Welcome to {tenant.name}",
            hero_text=tenant.tagline or "Conversations, trusted resources and expert sessions, in one place.",
        )
        root.add_child(instance=home)
        home.save_revision().publish()
        # The site points at the new home before the old root goes (deleting a site's root deletes the site).
        if site is None:
            Site.objects.create(hostname="localhost", root_page=home, is_default_site=True, site_name=tenant.name)
        else:
            Site.objects.filter(pk=site.pk).update(root_page=home, site_name=tenant.name)
        if old is not None and old.depth > 1:
            for child in old.get_children():
                child.move(home, pos="last-child")
            if old.specific_class in (None, Page):
                # Wagtail's placeholder welcome page: it holds nothing a partner wrote.
                Page.objects.get(pk=old.pk).delete()
        _ensure_library(home=home)
    return home


def _ensure_library(*, home: CommunityHomePage) -> ResourceIndexPage:
    library = ResourceIndexPage.objects.child_of(home).first()
    if library is not None:
        return library
    library = ResourceIndexPage(
        title="Resources", slug="resources", intro="<p>Guides, videos and services our team has checked.</p>"
    )
    home.add_child(instance=library)
    library.save_revision().publish()
    return library


def setup_tenant_pages(*, tenant: Tenant) -> None:
    """Provisioning step (tenants/registry.py): runs inside the new tenant's schema."""
    ensure_home_page(tenant=tenant)


# --- expert questions -------------------------------------------------------------------------


def _require_member_of_tenant(member: Member, tenant: Tenant) -> None:
    if not member.is_authenticated or not member.is_active:
        raise NotAllowed("Sign in first.", code="not_signed_in")
    if not TenantMembership.objects.filter(member_id=member.pk, tenant_id=tenant.pk).exists():
        raise NotAllowed(f"Join {tenant.name} to take part.", code="not_tenant_member")


def _require_session_reader(member: Member, tenant: Tenant, session: ExpertSessionPage) -> None:
    """The one read rule of sessions (cms.selectors.visible_sessions): refused like a missing session."""
    if not selectors.can_read_session(member=member, tenant=tenant, session=session):
        raise NotFound("No such expert session.")


def submit_question(*, member: Member, tenant: Tenant, session: ExpertSessionPage, body: str) -> ExpertQuestion:
    """A member asks the expert a question before (or during) the session."""
    _require_member_of_tenant(member, tenant)
    _require_session_reader(member, tenant, session)
    if not session.questions_open:
        raise Conflict("Questions for this session are closed.", code="questions_closed")
    body = " ".join((body or "").split())
    check_visible_text(body, field="body")
    if not QUESTION_MIN <= len(body) <= QUESTION_MAX:
        raise InvalidInput(
            f"Write your question in {QUESTION_MIN} to {QUESTION_MAX} characters.",
            code="question_length",
            details={"body": [f"{QUESTION_MIN} to {QUESTION_MAX} characters."]},
        )
    return ExpertQuestion.objects.create(session=session, author=member, body=body)


def _open_question(*, question_id: int, session: ExpertSessionPage | None = None) -> ExpertQuestion:
    question = ExpertQuestion.objects.select_related("session").filter(pk=question_id).first()
    if question is None or question.status == QuestionStatus.HIDDEN:
        raise NotFound("No such question.")
    if session is not None and question.session_id != session.pk:
        raise NotFound("No such question.")
    return question


def set_vote(*, member: Member, tenant: Tenant, question: ExpertQuestion, voted: bool) -> ExpertQuestion:
    """Upvote (``voted=True``) or take the vote back: one vote per member per question, however often
    it is sent. Returns the question with its current count."""
    _require_member_of_tenant(member, tenant)
    session = question.session
    _require_session_reader(member, tenant, session)
    if question.status != QuestionStatus.OPEN or not session.questions_open:
        raise Conflict("Voting on this question is closed.", code="voting_closed")
    with transaction.atomic():
        if voted:
            try:
                with transaction.atomic():
                    ExpertQuestionVote.objects.create(question=question, member=member)
            except IntegrityError:
                pass  # already voted: nothing changes
            else:
                ExpertQuestion.objects.filter(pk=question.pk).update(vote_count=F("vote_count") + 1)
        else:
            deleted, _ = ExpertQuestionVote.objects.filter(question=question, member=member).delete()
            if deleted:
                ExpertQuestion.objects.filter(pk=question.pk, vote_count__gt=0).update(vote_count=F("vote_count") - 1)
    question.refresh_from_db(fields=["vote_count"])
    return question


def toggle_vote(*, member: Member, tenant: Tenant, question: ExpertQuestion) -> ExpertQuestion:
    """The web page's single button: vote if not yet voted, else take the vote back."""
    voted = ExpertQuestionVote.objects.filter(question=question, member_id=member.pk).exists()
    return set_vote(member=member, tenant=tenant, question=question, voted=not voted)


def answer_question(*, acting_member: Member, tenant: Tenant, question: ExpertQuestion, answer: str) -> ExpertQuestion:
    """The expert's answer, posted by a moderator (or admin) or by the session's own expert (its
    ``expert_member``, while a member of this tenant who may read the session): kept on the session's
    transcript and posted in the session's community as an answered question, highlighted as its
    accepted answer. Anyone else is refused and nothing changes."""
    session = question.session
    if not selectors.can_answer_session(member=acting_member, tenant=tenant, session=session):
        raise NotAllowed(
            "Only the session's expert and this site's moderators and admins post the expert's answers.",
            code="not_session_answerer",
        )
    is_moderator = can_moderate(member=acting_member, tenant=tenant)
    answer = (answer or "").strip()
    check_visible_text(answer, field="answer")
    if not answer or len(answer) > ANSWER_MAX:
        raise InvalidInput(
            f"Write the answer in 1 to {ANSWER_MAX} characters.", details={"answer": ["Required, at most 20000."]}
        )
    with transaction.atomic():
        question = ExpertQuestion.objects.select_for_update().select_related("session").get(pk=question.pk)
        if question.status == QuestionStatus.HIDDEN:
            raise NotFound("No such question.")
        topic_id = None
        if session.community is not None:
            existing = None
            if question.topic_id_ref:
                existing = Topic.objects.filter(pk=question.topic_id_ref, deleted_at__isnull=True).first()
            topic = community_services.post_highlighted_answer(
                acting_member=acting_member,
                tenant=tenant,
                community=session.community,
                question_title=question.body if len(question.body) <= 200 else question.body[:197] + "…",
                question_body=(
                    f"{question.body}\n\n*Asked by a member for the expert session “{session.title}” with "
                    f"{session.expert_name}.*"
                ),
                answer_body=f"**{session.expert_name}** answers:\n\n{answer}",
                topic=existing,
                # Checked above: the session names this member as its expert.
                invited_expert=not is_moderator,
            )
            topic_id = topic.pk
        ExpertQuestion.objects.filter(pk=question.pk).update(
            status=QuestionStatus.ANSWERED,
            answer_markdown=answer,
            answer_html=render_markdown(answer),
            answered_at=timezone.now(),
            answered_by=acting_member,
            topic_id_ref=topic_id,
        )
    question.refresh_from_db()
    return question


def hide_question(*, acting_member: Member, tenant: Tenant, question: ExpertQuestion) -> ExpertQuestion:
    if not acting_member.is_authenticated or not can_moderate(member=acting_member, tenant=tenant):
        raise NotAllowed("Only this site's moderators can hide questions.", code="not_moderator")
    ExpertQuestion.objects.filter(pk=question.pk).update(status=QuestionStatus.HIDDEN)
    question.refresh_from_db()
    return question


# --- the session's expert -------------------------------------------------------------------


def check_session_expert(*, tenant: Tenant, community: Community | None, expert: Member) -> None:
    """An expert's account must be an active member of this tenant who may read the session's community
    (a members-only one: join it first), else they could not see the questions they are to answer."""
    if not expert.is_active or not TenantMembership.objects.filter(member_id=expert.pk, tenant_id=tenant.pk).exists():
        raise InvalidInput(
            f"The expert's account must be a member of {tenant.name}: invite them first.",
            code="expert_not_tenant_member",
            details={"expert_member": ["Not a member of this site."]},
        )
    if community is not None and not can_read_community(member=expert, tenant=tenant, community=community):
        raise InvalidInput(
            f"The expert cannot read “{community.name}”: add them to that community first.",
            code="expert_cannot_read_community",
            details={"expert_member": ["Cannot read the session's community."]},
        )


def set_session_expert(
    *, acting_member: Member, tenant: Tenant, session: ExpertSessionPage, expert: Member | None
) -> ExpertSessionPage:
    """Name (or, with ``expert=None``, un-name) the member who is the session's expert, as a new revision
    of the page (published at once unless the page has unpublished changes, which stay a draft for an
    editor to publish). Administrators only; the Wagtail page form checks the same rule."""
    if not acting_member.is_authenticated or not can_administer_tenant(member=acting_member, tenant=tenant):
        raise NotAllowed("Only this site's administrators name a session's expert.", code="not_admin")
    if expert is not None:
        check_session_expert(tenant=tenant, community=session.community, expert=expert)
    with transaction.atomic():
        page = ExpertSessionPage.objects.select_for_update().get(pk=session.pk)
        publish = page.live and not page.has_unpublished_changes
        draft = page if publish else page.get_latest_revision_as_object()
        draft.expert_member = expert
        revision = draft.save_revision(user=acting_member, log_action=True)
        if publish:
            # Checked above: an administrator of this tenant (Wagtail's groups may lag the role).
            revision.publish(user=acting_member, skip_permission_checks=True)
    page.refresh_from_db()
    return page


# --- invitations ------------------------------------------------------------------------------


@dataclass
class InviteRow:
    line: int
    email: str
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class InvitePreview:
    rows: list[InviteRow]

    @property
    def valid(self) -> list[InviteRow]:
        return [row for row in self.rows if row.ok]

    @property
    def invalid(self) -> list[InviteRow]:
        return [row for row in self.rows if not row.ok]


def _require_admin(member: Member, tenant: Tenant) -> None:
    if not member.is_authenticated or not can_administer_tenant(member=member, tenant=tenant):
        raise NotAllowed("Only this site's administrators invite members.", code="not_admin")


def preview_invitations(*, acting_member: Member, tenant: Tenant, emails: list[str]) -> InvitePreview:
    """Check addresses before anything is sent: each row says what is wrong with it (bad address,
    repeated, already a member, already invited)."""
    _require_admin(acting_member, tenant)
    members = set(TenantMembership.objects.filter(tenant=tenant).values_list("member__email", flat=True))
    members = {email.lower() for email in members}
    pending = {
        email.lower()
        for email in TenantInvitation.objects.filter(tenant=tenant, accepted_at__isnull=True).values_list(
            "email", flat=True
        )
    }
    seen: set[str] = set()
    rows: list[InviteRow] = []
    for line, raw in enumerate(emails, start=1):
        email = (raw or "").strip().lower()
        row = InviteRow(line=line, email=email)
        if not email:
            row.errors.append("No email address.")
        else:
            try:
                validate_email(email)
            except ValidationError:
                row.errors.append("Not a valid email address.")
        if row.ok and email in seen:
            row.errors.append("Listed twice.")
        if row.ok and email in members:
            row.errors.append("Already a member of this community.")
        if row.ok and email in pending:
            row.errors.append("Already invited (the invitation is still open).")
        seen.add(email)
        rows.append(row)
    return InvitePreview(rows=rows)


def parse_invitation_csv(*, data: bytes) -> list[str]:
    """Email addresses from an uploaded CSV: a column headed "email" if any, else the first column.
    One row per line, blank lines kept so the preview's line numbers match the file."""
    if len(data) > INVITE_CSV_MAX_BYTES:
        raise InvalidInput(
            "The file is too large (at most 256 KB).", code="csv_too_large", details={"file": ["Too large."]}
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput("Upload a UTF-8 CSV file.", code="csv_encoding", details={"file": ["Not UTF-8."]}) from exc
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise InvalidInput("The file is empty.", code="csv_empty", details={"file": ["Empty."]})
    header = [cell.strip().lower() for cell in rows[0]]
    column = header.index("email") if "email" in header else 0
    body = rows[1:] if "email" in header else rows
    if len(body) > INVITE_CSV_MAX_ROWS:
        raise InvalidInput(
            f"At most {INVITE_CSV_MAX_ROWS} rows per file.",
            code="csv_too_many_rows",
            details={"file": ["Too many rows."]},
        )
    return [row[column] if len(row) > column else "" for row in body]


def send_invitations(*, acting_member: Member, tenant: Tenant, emails: list[str]) -> InvitePreview:
    """Invite every valid address as a member (each gets its own single-use link by email); rows with
    errors are reported and skipped. Sending the same list twice invites nobody twice."""
    preview = preview_invitations(acting_member=acting_member, tenant=tenant, emails=emails)
    with transaction.atomic():
        for row in preview.valid:
            invite_to_tenant(tenant=tenant, email=row.email, role=MembershipRole.MEMBER, invited_by=acting_member)
    return preview
