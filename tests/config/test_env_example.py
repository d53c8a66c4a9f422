""".env.example lists every variable the settings read, so an operator sees them all in one place."""

from __future__ import annotations

import re

from django.conf import settings

# Set by tools, not by an operator.
NOT_FOR_OPERATORS = {"PYTEST_VERSION", "DJANGO_SETTINGS_MODULE"}
READS = re.compile(r"""\b(?:env|env_bool|os\.environ\.get|os\.getenv)\(\s*["']([A-Z][A-Z0-9_]+)["']""")


def test_every_variable_the_settings_read_is_listed_in_env_example() -> None:
    config = settings.BASE_DIR / "config"
    read = set()
    for module in config.glob("*.py"):
        read |= set(READS.findall(module.read_text()))
    listed = set(re.findall(r"^#\s*([A-Z][A-Z0-9_]+)=", (settings.BASE_DIR / ".env.example").read_text(), re.M))
    assert read - NOT_FOR_OPERATORS - listed == set(), "add these to .env.example with a one-line explanation"
    assert "DATABASE_URL" in read  # the pattern still finds what the settings read
