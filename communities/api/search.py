"""Communities API: search over every post (the web page's /search/ with the same parameters)."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from communities import selectors, services
from communities.api.serializers import TopicSerializer, _valid
from communities.models import (
    SearchSynonym,
    TopicKind,
)
from communities.search import SORTS, STATUSES, search_request_from
from core.errors import InvalidInput
from members.requests import request_member
from members.selectors import can_administer_tenant
from tenants.requests import request_tenant


class SearchPostSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(source="post.pk", read_only=True)
    is_opening = serializers.BooleanField(source="post.is_opening", read_only=True)
    author_name = serializers.CharField(source="post.author_name", read_only=True)
    author_id = serializers.SerializerMethodField(
        help_text="The author's member id on this site (what ?author= takes); null for a former member."
    )
    created_at = serializers.DateTimeField(source="post.created_at", read_only=True)
    url = serializers.SerializerMethodField()
    snippet_html = serializers.CharField(
        source="snippet",
        read_only=True,
        help_text="An escaped excerpt of the post; matching words are wrapped in <mark>. Safe to insert as HTML.",
    )
    rank = serializers.FloatField(read_only=True)

    def get_author_id(self, hit: selectors.PostHit) -> str | None:
        return getattr(hit.post, "author_local_id", "") or None

    def get_url(self, hit: selectors.PostHit) -> str:
        return reverse("topic-detail", kwargs={"topic_id": hit.post.topic_id}) + f"#post-{hit.post.pk}"


class SearchTopicSerializer(serializers.Serializer[Any]):
    topic = TopicSerializer(read_only=True)
    score = serializers.FloatField(read_only=True)
    match_count = serializers.IntegerField(
        read_only=True, help_text="Matching posts in this topic (among those ranked)."
    )
    posts = SearchPostSerializer(many=True, read_only=True, help_text="The best-matching posts, at most three.")


class SearchSynonymUsedSerializer(serializers.Serializer[Any]):
    term = serializers.CharField(read_only=True)
    also = serializers.ListField(child=serializers.CharField(), read_only=True)


class SearchRelaxationSerializer(serializers.Serializer[Any]):
    filter = serializers.CharField(
        read_only=True, help_text="community, kind, status, after, before, author or kind:slug of a tag"
    )
    topics = serializers.IntegerField(
        read_only=True,
        help_text="Topics found without it among the first 300 matching posts, counted up to 100 (100 or more).",
    )


class SearchResultSerializer(serializers.Serializer[Any]):
    query = serializers.CharField(read_only=True)
    sort = serializers.CharField(read_only=True)
    page = serializers.IntegerField(read_only=True)
    has_next = serializers.BooleanField(read_only=True)
    total_topics = serializers.IntegerField(read_only=True)
    capped = serializers.BooleanField(
        read_only=True,
        help_text="True when older matching posts were left out: only the most recent (at most 200) are ranked.",
    )
    suggestion = serializers.CharField(read_only=True, help_text="“Did you mean”: a corrected query, or empty.")
    message = serializers.CharField(read_only=True, help_text="Why nothing was searched, or empty.")
    synonyms = SearchSynonymUsedSerializer(many=True, read_only=True)
    relaxations = SearchRelaxationSerializer(
        many=True, read_only=True, help_text="On zero results: filters whose removal would find something."
    )
    results = SearchTopicSerializer(many=True, read_only=True)


_SEARCH_PARAMETERS = [
    OpenApiParameter("q", str, required=True, description='Words, "exact phrases", OR between words, -word to exclude'),
    OpenApiParameter("community", str, required=False, description="a community's slug"),
    OpenApiParameter("kind", str, enum=TopicKind.values, required=False),
    OpenApiParameter("status", str, enum=list(STATUSES), required=False, description="questions answered or not"),
    OpenApiParameter(
        "tag", str, required=False, many=True, description="slug of a topic tag (repeat: all must be on the topic)"
    ),
    OpenApiParameter("symptom", str, required=False, many=True, description="slug of a symptom tag"),
    OpenApiParameter("treatment", str, required=False, many=True, description="slug of a treatment tag"),
    OpenApiParameter("after", OpenApiTypes.DATE, required=False, description="posts written on or after"),
    OpenApiParameter("before", OpenApiTypes.DATE, required=False, description="posts written on or before"),
    OpenApiParameter(
        "author",
        str,
        required=False,
        description=(
            "a member's id on this site: the `id` of a post's `author` (or a search hit's `author_id`); "
            "any other id, such as one from another site, is refused with 400"
        ),
    ),
    OpenApiParameter("sort", str, enum=list(SORTS), required=False),
    OpenApiParameter("page", int, required=False, description="1 to 100, ten topics a page"),
]


class SearchView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        parameters=_SEARCH_PARAMETERS,
        responses=SearchResultSerializer,
        summary="Search every post I can read: topics with their best-matching posts and snippets",
    )
    def get(self, request: Request) -> Response:
        search_request = search_request_from(
            request.query_params, kinds=TopicKind.values, tenant=request_tenant(request)
        )
        if search_request.errors:
            raise InvalidInput(
                "Some search parameters are not valid.", code="search_invalid", details=search_request.errors
            )
        result = selectors.search_posts(
            member=request_member(request), tenant=request_tenant(request), request=search_request
        )
        data = {
            "query": search_request.query,
            "sort": search_request.sort,
            "page": search_request.page,
            "has_next": result.has_next,
            "total_topics": result.total_topics,
            "capped": result.capped,
            "suggestion": result.suggestion,
            "message": result.message,
            "synonyms": [{"term": term, "also": list(also)} for term, also in result.parsed.describe_synonyms()],
            "relaxations": [{"filter": name, "topics": count} for name, count in result.relaxations],
            "results": result.topics,
        }
        return Response(SearchResultSerializer(data).data)


class SearchSynonymSerializer(serializers.ModelSerializer[SearchSynonym]):
    terms = serializers.ListField(
        child=serializers.CharField(max_length=200, allow_blank=True),
        max_length=50,
        help_text="Two or more words or phrases that search treats as the same.",
    )

    class Meta:
        model = SearchSynonym
        fields = ["id", "terms", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]


def _admin_only(request: Request) -> None:
    if not can_administer_tenant(member=request_member(request), tenant=request_tenant(request)):
        raise Http404("Not found.")


class SearchSynonymListView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=SearchSynonymSerializer(many=True), summary="This site's search synonyms (admins)")
    def get(self, request: Request) -> Response:
        _admin_only(request)
        return Response(SearchSynonymSerializer(selectors.search_synonym_list(), many=True).data)

    @extend_schema(
        request=SearchSynonymSerializer,
        responses={201: SearchSynonymSerializer},
        summary="Add a synonym group (admins)",
    )
    def post(self, request: Request) -> Response:
        _admin_only(request)
        data = _valid(SearchSynonymSerializer, request)
        synonym = services.create_search_synonym(
            acting_member=request_member(request), tenant=request_tenant(request), terms=data["terms"]
        )
        return Response(SearchSynonymSerializer(synonym).data, status=status.HTTP_201_CREATED)


class SearchSynonymDetailView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    def _synonym(self, request: Request, synonym_id: int) -> SearchSynonym:
        _admin_only(request)
        return selectors.access_search_synonym(synonym_id=synonym_id)

    @extend_schema(
        request=SearchSynonymSerializer, responses=SearchSynonymSerializer, summary="Change a synonym group (admins)"
    )
    def put(self, request: Request, synonym_id: int) -> Response:
        synonym = self._synonym(request, synonym_id)
        data = _valid(SearchSynonymSerializer, request)
        synonym = services.update_search_synonym(
            acting_member=request_member(request), tenant=request_tenant(request), synonym=synonym, terms=data["terms"]
        )
        return Response(SearchSynonymSerializer(synonym).data)

    @extend_schema(responses={204: None}, summary="Delete a synonym group (admins)")
    def delete(self, request: Request, synonym_id: int) -> Response:
        synonym = self._synonym(request, synonym_id)
        services.delete_search_synonym(
            acting_member=request_member(request), tenant=request_tenant(request), synonym=synonym
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
