"""`make run` shows Django's debug pages only to the developer at the machine."""

from __future__ import annotations

import pytest

from demo.management.commands.run_platform import Command


@pytest.fixture
def no_debug_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KINDRED_DEBUG", raising=False)


@pytest.mark.usefixtures("no_debug_in_environment")
@pytest.mark.parametrize(
    ("bind", "debug"),
    [("127.0.0.1", "1"), ("::1", "1"), ("localhost", "1"), ("0.0.0.0", "0"), ("192.0.2.10", "0")],
)
def test_debug_is_on_only_when_the_server_listens_on_loopback(bind: str, debug: str) -> None:
    assert Command._child_env(bind=bind, port=8000)["KINDRED_DEBUG"] == debug


def test_an_explicit_setting_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KINDRED_DEBUG", "0")
    assert Command._child_env(bind="127.0.0.1", port=8000)["KINDRED_DEBUG"] == "0"
