"""API tokens through the API (tenant hosts): personal tokens, and service tokens for admins."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apitokens import selectors, services
from apitokens.models import ApiToken, Scope, TokenKind
from core.errors import NotAllowed
from members.requests import request_member
from members.selectors import can_administer_tenant
from tenants.requests import request_tenant


def _acting_token(request: Request) -> ApiToken | None:
    return request.auth if isinstance(request.auth, ApiToken) else None


class ApiTokenSerializer(serializers.ModelSerializer[ApiToken]):
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=Scope.choices), read_only=True)
    is_active = serializers.BooleanField(read_only=True)

    class Meta:
        model = ApiToken
        fields = ["id", "kind", "name", "prefix", "scopes", "created_at", "expires_at", "last_used_at",
                  "revoked_at", "is_active"]  # fmt: skip
        read_only_fields = fields


class IssuedTokenSerializer(ApiTokenSerializer):
    token = serializers.CharField(read_only=True, help_text="The token itself: shown this once, never again.")

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "token"]
        read_only_fields = fields


class TokenCreateSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=80, help_text="What the token is for.")
    scopes = serializers.MultipleChoiceField(choices=Scope.choices)
    expires_in_days = serializers.IntegerField(min_value=1, help_text="Days until the token stops working.")


def _issued(issued: services.IssuedToken) -> dict[str, Any]:
    data = dict(ApiTokenSerializer(issued.token).data)
    data["token"] = issued.secret
    return data


def _created(data: dict[str, Any]) -> Response:
    response = Response(data, status=status.HTTP_201_CREATED)
    response["Cache-Control"] = "no-store"
    return response


class TokenListView(APIView):
    @extend_schema(responses=ApiTokenSerializer(many=True), summary="My personal access tokens for this site")
    def get(self, request: Request) -> Response:
        tokens = selectors.personal_tokens(member=request_member(request), tenant=request_tenant(request))
        return Response(ApiTokenSerializer(tokens, many=True).data)

    @extend_schema(
        request=TokenCreateSerializer,
        responses={201: IssuedTokenSerializer},
        summary="Make a personal access token (the response is the only time it is shown)",
    )
    def post(self, request: Request) -> Response:
        serializer = TokenCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        issued = services.create_personal_token(
            member=request_member(request),
            tenant=request_tenant(request),
            name=serializer.validated_data["name"],
            scopes=serializer.validated_data["scopes"],
            expires_in_days=serializer.validated_data["expires_in_days"],
            acting_token=_acting_token(request),
            via="api",
        )
        return _created(_issued(issued))


class TokenDetailView(APIView):
    @extend_schema(request=None, responses={204: None}, summary="Revoke one of my tokens")
    def delete(self, request: Request, token_id: int) -> Response:
        token = selectors.token_for_revocation(
            member=request_member(request), tenant=request_tenant(request), token_id=token_id
        )
        if token is None or token.kind != TokenKind.PERSONAL:
            raise Http404
        services.revoke_token(
            acting_member=request_member(request), tenant=request_tenant(request), token=token, via="api"
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


def _require_admin(request: Request) -> None:
    if not can_administer_tenant(member=request_member(request), tenant=request_tenant(request)):
        raise NotAllowed("Only this community's administrators can manage service tokens.")


class ServiceTokenListView(APIView):
    @extend_schema(responses=ApiTokenSerializer(many=True), summary="This site's service tokens (administrators)")
    def get(self, request: Request) -> Response:
        _require_admin(request)
        return Response(ApiTokenSerializer(selectors.service_tokens(tenant=request_tenant(request)), many=True).data)

    @extend_schema(
        request=TokenCreateSerializer,
        responses={201: IssuedTokenSerializer},
        summary="Make a service token for the partner's own systems (administrators; shown once)",
    )
    def post(self, request: Request) -> Response:
        serializer = TokenCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        issued = services.create_service_token(
            acting_member=request_member(request),
            tenant=request_tenant(request),
            name=serializer.validated_data["name"],
            scopes=serializer.validated_data["scopes"],
            expires_in_days=serializer.validated_data["expires_in_days"],
            acting_token=_acting_token(request),
            via="api",
        )
        return _created(_issued(issued))


class ServiceTokenDetailView(APIView):
    @extend_schema(request=None, responses={204: None}, summary="Revoke a service token (administrators)")
    def delete(self, request: Request, token_id: int) -> Response:
        _require_admin(request)
        token = selectors.token_for_revocation(
            member=request_member(request), tenant=request_tenant(request), token_id=token_id
        )
        if token is None or token.kind != TokenKind.SERVICE:
            raise Http404
        services.revoke_token(
            acting_member=request_member(request), tenant=request_tenant(request), token=token, via="api"
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
