"""What seeding reports: what was created, what was already there, what is missing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings


@dataclass(frozen=True)
class DemoPartner:
    name: str
    slug: str
    host: str
    created: bool

    def url(self, *, port: int | str, path: str = "/") -> str:
        return f"{settings.SITE_SCHEME}://{self.host}:{port}{path}"


@dataclass(frozen=True)
class DemoLogin:
    email: str
    description: str


@dataclass
class DemoSummary:
    password: str
    partners: list[DemoPartner] = field(default_factory=list)
    logins: list[DemoLogin] = field(default_factory=list)
    # How many rows of each kind this run created: all zero when the demo was already complete.
    created: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            ("tenants", "members", "memberships", "communities", "pages", "voices", "topics"), 0
        )
    )
    # MeSH ids the taxonomy did not have: their links were skipped, a later run adds them.
    missing_conditions: set[str] = field(default_factory=set)
    # Clinical trials loaded by this run (trials app): counts and the folder they came from.
    trials: dict[str, Any] = field(default_factory=dict)

    def as_lines(self, *, port: int | str) -> list[str]:
        """The summary a person reads in the terminal: where to go and how to sign in."""
        root = f"{settings.SITE_SCHEME}://{settings.ROOT_DOMAIN}:{port}"
        lines = [
            f"Platform        {root}/",
            f"Platform admin  {root}/admin/  (Django admin, platform staff)",
            "",
            "Partners (Wagtail admin at /admin/ on each host)",
        ]
        for partner in self.partners:
            lines.append(f"  {partner.name:<28} {partner.url(port=port)}")
            lines.append(f"  {'':<28} {partner.url(port=port, path='/admin/')}")
        lines += ["", f"Demo logins (password for all: {self.password})"]
        width = max((len(login.email) for login in self.logins), default=0)
        lines += [f"  {login.email:<{width}}  {login.description}" for login in self.logins]
        if self.trials:
            lines += ["", f"Clinical trials  {self.trials['summary']} from {self.trials['source']}"]
        if self.missing_conditions:
            lines += ["", f"Note: conditions not in the taxonomy yet, links skipped: {sorted(self.missing_conditions)}"]
        return lines
