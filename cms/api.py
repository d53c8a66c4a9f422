"""API v1 for the partner's pages (tenant hosts): the resource library, expert sessions with questions
and votes, the stale-review report, partner insights, member invitations and the embeddable feed.

Thin views over cms.selectors / cms.services. Public reads use AllowAny; writes need a signed-in
member; the admin endpoints check the tenant admin role (and are listed in members/mfa.py and
apitokens/scopes.py).
"""

from __future__ import annotations

import csv
from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import permissions, serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cms import selectors, services
from cms.models import ExpertSessionPage, ResourcePage, ResourceType
from core.api import query_int
from core.errors import InvalidInput, NotAllowed, NotFound
from members.models import Member
from members.requests import request_member
from members.selectors import can_administer_tenant
from tenants.models import Tenant
from tenants.requests import request_tenant


def _results(name: str, serializer: serializers.Serializer[Any]) -> Any:
    """The schema of a {"results": [...]} answer."""
    return inline_serializer(name, {"results": serializer})


def _require_admin(request: Request) -> tuple[Member, Tenant]:
    member, tenant = request_member(request), request_tenant(request)
    if not member.is_authenticated or not can_administer_tenant(member=member, tenant=tenant):
        raise NotAllowed("Only this site's administrators can do that.", code="not_admin")
    return member, tenant


# --- resources --------------------------------------------------------------------------------


class ResourceSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(source="pk")
    title = serializers.CharField()
    url = serializers.CharField()
    summary = serializers.CharField()
    resource_type = serializers.ChoiceField(choices=ResourceType.choices)
    external_url = serializers.CharField()
    source = serializers.CharField()  # type: ignore[assignment]  # the resource's source, not DRF's Field.source
    source_url = serializers.CharField()
    reviewed_at = serializers.DateField(allow_null=True)
    reviewed_by = serializers.CharField()
    review_is_stale = serializers.BooleanField()
    conditions = serializers.SerializerMethodField()
    topics = serializers.SerializerMethodField()

    def get_conditions(self, page: ResourcePage) -> list[str]:
        return [condition.slug for condition in page.conditions.all()]

    def get_topics(self, page: ResourcePage) -> list[str]:
        return [item.tag.slug for item in page.tagged_items.all()]


class ResourceDetailSerializer(ResourceSerializer):
    body = serializers.SerializerMethodField(help_text="The body as rendered HTML")

    def get_body(self, page: ResourcePage) -> str:
        return str(page.body.render_as_block()) if page.body else ""


LIBRARY_PARAMETERS = [
    OpenApiParameter("condition", str, required=False, description="Condition slug"),
    OpenApiParameter("topic", str, required=False, description="Topic tag slug"),
    OpenApiParameter("type", str, enum=ResourceType.values, required=False),
    OpenApiParameter("q", str, required=False, description="Words in the title or summary"),
]


class ResourceListView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        operation_id="resources_list",
        parameters=LIBRARY_PARAMETERS,
        responses=_results("ResourceList", ResourceSerializer(many=True)),
        summary="The resource library",
    )
    def get(self, request: Request) -> Response:
        resource_type = request.query_params.get("type")
        if resource_type and resource_type not in ResourceType.values:
            raise InvalidInput("The request is not valid.", details={"type": ["Unknown resource type."]})
        filters = selectors.library_filters(request.query_params)
        resources = selectors.library_resources(filters=filters)[:200]
        return Response({"results": ResourceSerializer(resources, many=True).data})


class LibraryFiltersView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        responses=inline_serializer(
            "LibraryFilters",
            {
                "conditions": serializers.ListField(child=serializers.ListField(child=serializers.CharField())),
                "topics": serializers.ListField(child=serializers.ListField(child=serializers.CharField())),
                "types": serializers.ListField(child=serializers.ListField(child=serializers.CharField())),
            },
        ),
        summary="The library's filter values: [slug, name] pairs of conditions, topics and resource types",
    )
    def get(self, request: Request) -> Response:
        facets = selectors.library_facets()
        return Response({key: [list(pair) for pair in pairs] for key, pairs in facets.items()})


class ResourceDetailView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(responses=ResourceDetailSerializer, summary="One live resource")
    def get(self, request: Request, page_id: int) -> Response:
        page = selectors.live_resources().filter(pk=page_id).first()
        if page is None:
            raise NotFound("No such resource.")
        return Response(ResourceDetailSerializer(page).data)


class StaleResourcesView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        responses=_results("StaleResourceList", ResourceSerializer(many=True)),
        summary="Resources not reviewed in 12 months (admins)",
    )
    def get(self, request: Request) -> Response:
        _require_admin(request)
        resources = selectors.stale_resources().prefetch_related("conditions", "tagged_items__tag")
        return Response({"results": ResourceSerializer(resources, many=True).data})


# --- expert sessions --------------------------------------------------------------------------


class QuestionSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(source="pk")
    body = serializers.CharField()
    status = serializers.CharField()
    vote_count = serializers.IntegerField()
    voted = serializers.BooleanField(default=False, help_text="Whether you upvoted it")
    answer_html = serializers.CharField()
    answered_at = serializers.DateTimeField(allow_null=True)
    topic_id = serializers.IntegerField(source="topic_id_ref", allow_null=True, help_text="Where it was answered")


class SessionSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(source="pk")
    title = serializers.CharField()
    url = serializers.CharField()
    summary = serializers.CharField()
    expert_name = serializers.CharField()
    expert_credentials = serializers.CharField()
    expert_bio = serializers.CharField()
    starts_at = serializers.DateTimeField()
    time_zone = serializers.CharField()
    local_starts_at = serializers.SerializerMethodField(help_text="The start in the session's own time zone (ISO 8601)")
    duration_minutes = serializers.IntegerField()
    community = serializers.CharField(
        source="community.slug", allow_null=True, default=None, help_text="Community slug"
    )
    questions_open = serializers.BooleanField()

    def get_local_starts_at(self, session: ExpertSessionPage) -> str:
        return str(session.local_starts_at.isoformat())


class SessionDetailSerializer(SessionSerializer):
    questions = QuestionSerializer(many=True)
    transcript = QuestionSerializer(many=True)


class SessionListView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        operation_id="expert_sessions_list",
        responses=_results("SessionList", SessionSerializer(many=True)),
        summary="Upcoming expert Q&A sessions you may read (members-only communities' sessions: their readers)",
    )
    def get(self, request: Request) -> Response:
        sessions = selectors.upcoming_sessions(member=request_member(request), tenant=request_tenant(request), limit=50)
        return Response({"results": SessionSerializer(sessions, many=True).data})


def _session_detail(request: Request, session: ExpertSessionPage) -> dict[str, Any]:
    context = selectors.session_context(session=session, member=request_member(request), tenant=request_tenant(request))
    data = dict(SessionSerializer(session).data)
    data["questions"] = QuestionSerializer(context["questions"], many=True).data
    data["transcript"] = QuestionSerializer(context["transcript"], many=True).data
    return data


class SessionDetailView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(responses=SessionDetailSerializer, summary="An expert session: open questions and transcript")
    def get(self, request: Request, session_id: int) -> Response:
        session = selectors.access_session(
            member=request_member(request), tenant=request_tenant(request), session_id=session_id
        )
        return Response(_session_detail(request, session))


class QuestionInputSerializer(serializers.Serializer[Any]):
    body = serializers.CharField(max_length=services.QUESTION_MAX * 2)


class SessionQuestionsView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=QuestionInputSerializer, responses={201: QuestionSerializer}, summary="Ask the expert")
    def post(self, request: Request, session_id: int) -> Response:
        session = selectors.access_session(
            member=request_member(request), tenant=request_tenant(request), session_id=session_id
        )
        data = QuestionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        question = services.submit_question(
            member=request_member(request),
            tenant=request_tenant(request),
            session=session,
            body=data.validated_data["body"],
        )
        return Response(QuestionSerializer(question).data, status=status.HTTP_201_CREATED)


class QuestionVoteView(APIView):
    """PUT: upvote; DELETE: take the vote back. Both are idempotent: one vote per member."""

    permission_classes = [permissions.IsAuthenticated]

    def _set(self, request: Request, question_id: int, voted: bool) -> Response:
        question = selectors.access_question(
            member=request_member(request), tenant=request_tenant(request), question_id=question_id
        )
        question = services.set_vote(
            member=request_member(request), tenant=request_tenant(request), question=question, voted=voted
        )
        question.voted = voted  # type: ignore[attr-defined]
        return Response(QuestionSerializer(question).data)

    @extend_schema(request=None, responses=QuestionSerializer, summary="Upvote a question (idempotent)")
    def put(self, request: Request, question_id: int) -> Response:
        return self._set(request, question_id, True)

    @extend_schema(request=None, responses=QuestionSerializer, summary="Take back your vote (idempotent)")
    def delete(self, request: Request, question_id: int) -> Response:
        return self._set(request, question_id, False)


class AnswerInputSerializer(serializers.Serializer[Any]):
    answer = serializers.CharField(max_length=services.ANSWER_MAX)


class QuestionAnswerView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        request=AnswerInputSerializer,
        responses=QuestionSerializer,
        summary=(
            "Post the expert's answer (the session's expert, moderators and admins): kept on the transcript, "
            "highlighted in the community"
        ),
    )
    def post(self, request: Request, question_id: int) -> Response:
        question = selectors.access_question(
            member=request_member(request), tenant=request_tenant(request), question_id=question_id
        )
        data = AnswerInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        question = services.answer_question(
            acting_member=request_member(request),
            tenant=request_tenant(request),
            question=question,
            answer=data.validated_data["answer"],
        )
        return Response(QuestionSerializer(question).data)


# --- insights ---------------------------------------------------------------------------------


class InsightsView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "series",
                str,
                required=False,
                enum=[*selectors.INSIGHT_SERIES, "top_tags", "questions_without_replies"],
                description="The one chart to download as CSV (leave out for every chart as JSON)",
            ),
        ],
        responses={(200, "application/json"): OpenApiTypes.OBJECT, (200, "text/csv"): OpenApiTypes.STR},
        summary='Partner insights (admins): weekly counts, every count from 1 to 10 given as "<11"',
    )
    def get(self, request: Request) -> Response | HttpResponse:
        _, tenant = _require_admin(request)
        data = selectors.partner_insights(tenant=tenant)
        if "series" in request.query_params:
            series = request.query_params.get("series") or ""
            try:
                header, rows = selectors.insight_csv_rows(insights=data, series=series)
            except NotFound as exc:
                raise InvalidInput("Unknown series.", details={"series": ["Unknown series."]}) from exc
            response = HttpResponse(content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="{series}.csv"'
            writer = csv.writer(response)
            writer.writerow(header)
            writer.writerows(rows)
            return response
        return Response(data)


# --- invitations ------------------------------------------------------------------------------


class InviteRowSerializer(serializers.Serializer[Any]):
    line = serializers.IntegerField()
    email = serializers.CharField()
    ok = serializers.BooleanField()
    errors = serializers.ListField(child=serializers.CharField())  # type: ignore[assignment]  # an output field


class InviteInputSerializer(serializers.Serializer[Any]):
    emails = serializers.ListField(child=serializers.CharField(allow_blank=True), required=False, max_length=500)
    file = serializers.FileField(required=False, help_text="A CSV with an 'email' column (multipart)")


def _emails_from(request: Request) -> list[str]:
    data = InviteInputSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    upload = data.validated_data.get("file")
    if upload is not None:
        return services.parse_invitation_csv(data=upload.read(services.INVITE_CSV_MAX_BYTES + 1))
    emails = data.validated_data.get("emails")
    if not emails:
        raise InvalidInput("Give a list of emails or a CSV file.", details={"emails": ["Required."]})
    return list(emails)


def _rows(preview: services.InvitePreview) -> dict[str, Any]:
    return {
        "rows": InviteRowSerializer(preview.rows, many=True).data,
        "valid": len(preview.valid),
        "invalid": len(preview.invalid),
    }


INVITE_RESULT = inline_serializer(
    "InvitationResult",
    {
        "rows": InviteRowSerializer(many=True),
        "valid": serializers.IntegerField(),
        "invalid": serializers.IntegerField(),
    },
)


class InvitationPreviewView(APIView):
    permission_classes = [permissions.IsAuthenticated]
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(
        request=InviteInputSerializer, responses=INVITE_RESULT, summary="Check invitations (admins): per-row errors"
    )
    def post(self, request: Request) -> Response:
        member, tenant = _require_admin(request)
        preview = services.preview_invitations(acting_member=member, tenant=tenant, emails=_emails_from(request))
        return Response(_rows(preview))


class InvitationListView(APIView):
    permission_classes = [permissions.IsAuthenticated]
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(
        request=InviteInputSerializer,
        responses={201: INVITE_RESULT},
        summary="Invite members by email (admins): valid rows are sent, the others reported",
    )
    def post(self, request: Request) -> Response:
        member, tenant = _require_admin(request)
        result = services.send_invitations(acting_member=member, tenant=tenant, emails=_emails_from(request))
        return Response(_rows(result), status=status.HTTP_201_CREATED)


# --- the embeddable feed ----------------------------------------------------------------------


class EmbedFeedItemSerializer(serializers.Serializer[Any]):
    title = serializers.CharField()
    community = serializers.CharField()
    url = serializers.CharField()
    created_at = serializers.DateTimeField()
    replies = serializers.IntegerField()


class EmbedFeedView(APIView):
    """Anyone may read it (it is what a signed-out visitor sees of the open communities)."""

    permission_classes = [permissions.AllowAny]
    authentication_classes: list[Any] = []

    @extend_schema(
        parameters=[OpenApiParameter("limit", int, required=False, description="1 to 20 (default 10)")],
        responses=_results("EmbedFeed", EmbedFeedItemSerializer(many=True)),
        summary="Latest topics of the open communities, for the partner's own website",
    )
    def get(self, request: Request) -> Response:
        limit = query_int(request.query_params, "limit", default=10, minimum=1, maximum=selectors.EMBED_LIMIT_MAX)
        base = request.build_absolute_uri("/").rstrip("/")
        items = [
            {**EmbedFeedItemSerializer(item).data, "url": base + item.url} for item in selectors.embed_feed(limit=limit)
        ]
        response = Response({"results": items})
        response["Access-Control-Allow-Origin"] = "*"
        return response
