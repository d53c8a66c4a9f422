"""The bearer scheme in the OpenAPI document."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "apitokens.authentication.BearerTokenAuthentication"
    name = "bearerToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "kdr_<prefix>_<secret>",
            "description": (
                "A personal access token or a partner's service token, made at /members/me/tokens/ on "
                "the partner's host (or POST /api/v1/tokens/). It works on that partner's host only. "
                "Reads need the 'read' scope, writes 'write', moderation endpoints 'moderate', role and "
                "administration endpoints 'admin'; the member's role there still applies."
            ),
        }
