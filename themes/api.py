"""The theme API on a tenant host: read it (any signed-in member), change it (the tenant's admins)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import InvalidInput
from members.requests import request_member
from tenants.requests import request_tenant
from tenants.selectors import tenant_path
from themes import services
from themes.contrast import format_ratio, theme_checks
from themes.models import FONT_STACKS, Theme
from themes.selectors import theme_for

HEX_REGEX = r"^#[0-9a-fA-F]{6}$"


class ContrastCheckSerializer(serializers.Serializer[Any]):
    pair = serializers.CharField(help_text="Which colours, shown where")
    colour_field = serializers.CharField(help_text="The theme field a fix would change")
    ratio = serializers.CharField(help_text='Measured contrast, e.g. "4.54:1"')
    passes = serializers.BooleanField(help_text="At least 4.5:1 (WCAG 2.2 AA, text)")
    suggestion = serializers.CharField(help_text="The nearest shade of the field's colour that passes")


class ThemeSerializer(serializers.Serializer[Any]):
    primary_colour = serializers.RegexField(HEX_REGEX, required=False)
    secondary_colour = serializers.RegexField(HEX_REGEX, required=False)
    accent_colour = serializers.RegexField(HEX_REGEX, required=False)
    background_colour = serializers.RegexField(HEX_REGEX, required=False)
    font_family = serializers.ChoiceField(choices=list(FONT_STACKS), required=False)
    logo_text = serializers.CharField(max_length=60, required=False, allow_blank=True)
    welcome_text = serializers.CharField(max_length=500, required=False, allow_blank=True)
    logo_url = serializers.CharField(read_only=True, allow_null=True)
    favicon_url = serializers.CharField(read_only=True, allow_null=True)
    contrast = ContrastCheckSerializer(many=True, read_only=True)


class ImageUploadSerializer(serializers.Serializer[Any]):
    file = serializers.FileField(help_text="PNG, JPEG, GIF or WebP, up to 1 MB (re-encoded as PNG)")


def _represent(theme: Theme) -> dict[str, Any]:
    return {
        "primary_colour": theme.primary_colour,
        "secondary_colour": theme.secondary_colour,
        "accent_colour": theme.accent_colour,
        "background_colour": theme.background_colour,
        "font_family": theme.font_family,
        "logo_text": theme.logo_text,
        "welcome_text": theme.welcome_text,
        "logo_url": f"{tenant_path('theme-logo')}?v={theme.version}" if theme.logo else None,
        "favicon_url": f"{tenant_path('theme-favicon')}?v={theme.version}" if theme.favicon else None,
        "contrast": [
            {
                "pair": check.label,
                "colour_field": check.field,
                "ratio": format_ratio(check.ratio),
                "passes": check.passes,
                "suggestion": check.suggestion,
            }
            for check in theme_checks(
                primary=theme.primary_colour,
                secondary=theme.secondary_colour,
                accent=theme.accent_colour,
                background=theme.background_colour,
            )
        ],
    }


class ThemeView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=ThemeSerializer, summary="This site's theme, with the contrast of each colour pair")
    def get(self, request: Request) -> Response:
        return Response(_represent(theme_for(tenant=request_tenant(request))))

    @extend_schema(
        request=ThemeSerializer,
        responses=ThemeSerializer,
        summary="Change the theme (tenant admins)",
        description=(
            "Colour pairs below WCAG 2.2 AA (4.5:1) are refused with code `theme_contrast`; each detail names "
            "the measured ratio and the nearest shade that passes. The change shows on the next page load."
        ),
    )
    def patch(self, request: Request) -> Response:
        serializer = ThemeSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        theme = services.update_theme(
            acting_member=request_member(request),
            tenant=request_tenant(request),
            changes=dict(serializer.validated_data),
        )
        return Response(_represent(theme))


class _ThemeImageView(APIView):
    permission_classes = [permissions.IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser]
    field = ""

    def _upload(self, request: Request) -> Response:
        upload = request.FILES.get("file")
        if upload is None:
            raise InvalidInput("Attach the image as `file`.", details={"file": ["This field is required."]})
        logo, favicon = (upload, None) if self.field == "logo" else (None, upload)
        theme = services.update_theme(
            acting_member=request_member(request),
            tenant=request_tenant(request),
            changes={},
            logo=logo,
            favicon=favicon,
        )
        return Response(_represent(theme))

    def _remove(self, request: Request) -> Response:
        theme = services.update_theme(
            acting_member=request_member(request),
            tenant=request_tenant(request),
            changes={},
            remove_logo=self.field == "logo",
            remove_favicon=self.field == "favicon",
        )
        return Response(_represent(theme))


class ThemeLogoView(_ThemeImageView):
    field = "logo"

    @extend_schema(
        request={"multipart/form-data": ImageUploadSerializer},
        responses=ThemeSerializer,
        summary="Upload the logo (tenant admins)",
    )
    def put(self, request: Request) -> Response:
        return self._upload(request)

    @extend_schema(request=None, responses=ThemeSerializer, summary="Remove the logo (tenant admins)")
    def delete(self, request: Request) -> Response:
        return self._remove(request)


class ThemeFaviconView(_ThemeImageView):
    field = "favicon"

    @extend_schema(
        request={"multipart/form-data": ImageUploadSerializer},
        responses=ThemeSerializer,
        summary="Upload the favicon (tenant admins)",
    )
    def put(self, request: Request) -> Response:
        return self._upload(request)

    @extend_schema(request=None, responses=ThemeSerializer, summary="Remove the favicon (tenant admins)")
    def delete(self, request: Request) -> Response:
        return self._remove(request)
