"""The sign-up page and the sign-up API are two doors to one service: the same rules, the same effects."""

from __future__ import annotations

from typing import Any

import pytest

from members import services
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_the_web_form_and_the_api_both_sign_up_through_members_services(root_client, monkeypatch) -> None:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(services, "sign_up", lambda **kwargs: calls.append(kwargs))

    page = root_client.post("/accounts/signup/", {"email": "web@example.test", "password": PASSWORD})
    api = root_client.post(
        "/api/v1/auth/signup/", {"email": "api@example.test", "password": PASSWORD}, content_type="application/json"
    )

    assert page.status_code == 200 and api.status_code == 202
    assert [(call["email"], call["channel"]) for call in calls] == [
        ("web@example.test", "signup"),
        ("api@example.test", "api"),
    ]
