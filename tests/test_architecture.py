"""The import contract: every arrow between our apps is one DESIGN.md draws ("Dependencies run one way").

Each app module's imports are read with ``ast``: top-level, inside functions and under
``TYPE_CHECKING`` alike, since an import hidden in a function is still an arrow. Two checks:

- the "never" rules of DESIGN.md (tenants knows no feature, members no tenant feature, communities
  never imports cms, trials never imports communities, consent knows nothing of research, conditions
  depends on nothing, public apps never import tenant apps, core imports no app of ours): a
  violation names the rule;
- every other arrow must be on the map below: DESIGN.md's arrows (and what follows from them), plus
  the few extra ones that exist for a stated reason. A new arrow is a decision: add it here with
  its reason, or reach the higher app through a registry the lower one defines (as
  privacy/registry.py, tenants/registry.py and trials/registry.py do).

Migrations are left out: they name other apps by label, and Django generates them.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent

# Our top-level packages. A new app must be added here (a test below fails until it is).
OUR_APPS = frozenset(
    {
        "config", "core", "tenants", "members", "access", "conditions", "directory", "trials", "consent",
        "research", "partnerships", "themes", "privacy", "apitokens", "communities", "cms", "demo",
    }
)  # fmt: skip

# The composition layer: project settings, URLs and the Celery app (DESIGN.md: "config ─▶ everything"),
# and the demo loader, which seeds every app's data the way a person would. Nothing imports them,
# except config's shared helpers below.
TOP = frozenset({"config", "demo"})

# DESIGN.md, "Dependencies run one way", arrow for arrow.
DESIGN_ARROWS: dict[str, frozenset[str]] = {
    "cms": frozenset({"communities", "themes"}),
    "research": frozenset({"consent", "partnerships", "communities"}),
    "communities": frozenset({"members", "conditions", "trials"}),
    "trials": frozenset({"conditions"}),
    "consent": frozenset({"members"}),
    "members": frozenset({"tenants", "conditions"}),
    "partnerships": frozenset({"tenants"}),
    "themes": frozenset({"tenants"}),
}

# Real arrows DESIGN.md's diagram does not draw, each with the reason it is legitimate. None of them
# breaks a "never" rule (checked separately). Apps the diagram leaves out (access, directory,
# privacy, apitokens) are all here.
EXTRA_ARROWS: dict[str, dict[str, str]] = {
    "access": {
        "tenants": "registers the role-groups step in provisioning's registry (tenants/registry.py)",
    },
    "members": {
        "access": "one service keeps TenantMembership and the tenant's groups in step (DESIGN: identity)",
    },
    "directory": {
        "conditions": "the directory is searched by the shared condition taxonomy",
        "tenants": "entries belong to a tenant and link to its host",
    },
    "trials": {
        "members": "saved trials, alerts and notices are a member's",
        "privacy": "registers its personal data (privacy/registry.py)",
        "tenants": "the sync asks every tenant what it covers through for_each_tenant, the audited loop",
    },
    "consent": {
        "privacy": "registers its personal data (privacy/registry.py)",
        "tenants": "a decision records the partner site it was made on",
    },
    "partnerships": {
        "members": "partners' representatives and first admins are members",
        "conditions": "an agreement's scope names conditions",
        "consent": "research scope names consent purposes; study invitations pass the consent gate",
        "privacy": "registers its personal data (privacy/registry.py)",
    },
    "research": {
        "privacy": "registers its personal data and the releases disclosure (privacy/registry.py)",
    },
    "themes": {
        "members": "only a tenant's admins may change its theme",
    },
    "privacy": {
        "members": "every export and erasure is a member's",
        "tenants": "tenant providers run schema by schema through for_each_tenant",
        "access": "the platform providers cover access's per-schema group rows",
    },
    "apitokens": {
        "members": "a token is a member's, scoped by the member's role in its tenant",
        "tenants": "a token is bound to one tenant host",
        "privacy": "registers its personal data (privacy/registry.py)",
    },
    "communities": {
        "directory": "the communities service keeps the public directory in step with what partners list",
        "themes": "notification emails carry the tenant's brand",
        "partnerships": "registers archive statistics and asks which studies are labelled (registries)",
        "privacy": "registers its personal data (privacy/registry.py)",
    },
    "cms": {
        "privacy": "registers its personal data (privacy/registry.py)",
    },
}

# Every app may use core (errors, the form helper, the read-only admin base): it imports no app of ours.
BASE = frozenset({"core"})

# Importing ``config`` builds the Celery app (config/__init__.py), so what apps share lives in core; the
# one config module an app may name is the pooling check that tenants registers at start-up.
CONFIG_HELPERS = frozenset({"config.pooling"})

# The one public -> tenant arrow DESIGN.md draws: research reads posts of many tenants, through the gate.
PUBLIC_TO_TENANT_BY_DESIGN = frozenset({("research", "communities")})


def _public_and_tenant_apps() -> tuple[frozenset[str], frozenset[str]]:
    shared = {app.split(".")[0] for app in settings.SHARED_APPS} & OUR_APPS
    tenant = ({app.split(".")[0] for app in settings.TENANT_APPS} & OUR_APPS) - shared
    return frozenset(shared - TOP), frozenset(tenant)


PUBLIC_APPS, TENANT_APPS = _public_and_tenant_apps()


def _closure(arrows: dict[str, frozenset[str]]) -> dict[str, frozenset[str]]:
    """A ─▶ B ─▶ C lets A use C too: A depends on C either way."""
    reach: dict[str, set[str]] = {app: set(targets) for app, targets in arrows.items()}
    changed = True
    while changed:
        changed = False
        for targets in reach.values():
            more = set().union(*(reach.get(t, set()) for t in targets)) - targets
            if more:
                targets |= more
                changed = True
    return {app: frozenset(targets) for app, targets in reach.items()}


ALLOWED: dict[str, frozenset[str]] = {
    app: _closure(DESIGN_ARROWS).get(app, frozenset()) | frozenset(EXTRA_ARROWS.get(app, {})) | (BASE - {app})
    for app in OUR_APPS - TOP
}


@dataclass(frozen=True)
class Arrow:
    source: str  # the importing module, e.g. "tenants.services"
    target: str  # the imported module, e.g. "themes.services"
    line: int

    @property
    def source_app(self) -> str:
        return self.source.split(".")[0]

    @property
    def target_app(self) -> str:
        return self.target.split(".")[0]

    def __str__(self) -> str:
        return f"{self.source}:{self.line} imports {self.target}"


def imports_of(source: str, *, module: str, is_package: bool = False) -> Iterator[Arrow]:
    """Every import in ``source`` (wherever it sits) as an arrow from ``module``; relative ones resolved."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Arrow(module, alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = parts[: len(parts) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            # "from pkg import module" names modules too: keep the most precise target.
            for alias in node.names:
                yield Arrow(module, f"{target}.{alias.name}" if target in OUR_APPS else target, node.lineno)


def forbidden(arrow: Arrow) -> str | None:
    """The DESIGN.md rule an arrow between two of our apps breaks, if any."""
    source, target = arrow.source_app, arrow.target_app
    if source == target or target not in OUR_APPS or source not in OUR_APPS:
        return None
    if source == "core":
        return "core imports no app of ours"
    if source == "conditions":
        return "conditions depends on nothing"
    if target in TOP and source not in TOP:
        if target == "config" and any(arrow.target == h or arrow.target.startswith(h + ".") for h in CONFIG_HELPERS):
            return None
        return f"nothing imports {target} (the composition layer), except config's shared helpers"
    if source == "tenants" and target != "core":
        return "tenants knows no feature (reach it through tenants/registry.py)"
    if source == "members" and target in TENANT_APPS:
        return "members knows no tenant feature"
    if source == "communities" and target == "cms":
        return "communities never imports cms"
    if source == "trials" and target == "communities":
        return "trials never imports communities (communities link to trials)"
    if source == "consent" and target == "research":
        return "consent knows nothing of research (research passes the gate)"
    if source in PUBLIC_APPS and target in TENANT_APPS and (source, target) not in PUBLIC_TO_TENANT_BY_DESIGN:
        return f"public {source} never imports tenant app {target} (use a registry {source} defines)"
    return None


def unmapped(arrow: Arrow) -> bool:
    """An arrow no DESIGN.md arrow and no listed reason allows."""
    source, target = arrow.source_app, arrow.target_app
    if source == target or source in TOP or target not in OUR_APPS or source not in OUR_APPS:
        return False
    if target == "config":
        return False  # forbidden() has already judged it
    return target not in ALLOWED.get(source, frozenset())


def check(arrows: Iterable[Arrow]) -> list[str]:
    problems = []
    for arrow in arrows:
        rule = forbidden(arrow)
        if rule:
            problems.append(f"{arrow}: {rule}")
        elif unmapped(arrow):
            problems.append(f"{arrow}: not on the map (add it to EXTRA_ARROWS with a reason, or use a registry)")
    return problems


def app_modules() -> Iterator[tuple[str, Path]]:
    for app in sorted(OUR_APPS):
        for path in sorted((ROOT / app).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if "migrations" in relative.parts:
                continue
            yield ".".join(relative.with_suffix("").parts).removesuffix(".__init__"), path


def all_arrows() -> list[Arrow]:
    return [
        arrow
        for module, path in app_modules()
        for arrow in imports_of(path.read_text(), module=module, is_package=path.name == "__init__.py")
    ]


# --- the contract --------------------------------------------------------------------------------


def test_every_app_is_on_the_map():
    packages = {path.parent.name for path in ROOT.glob("*/apps.py")} | {"config", "core"}
    assert packages == OUR_APPS
    assert frozenset({"communities", "cms"}) == TENANT_APPS
    assert set(DESIGN_ARROWS) | set(EXTRA_ARROWS) <= OUR_APPS - TOP


def test_imports_run_one_way():
    assert check(all_arrows()) == []


# --- the checker catches what it should ----------------------------------------------------------


@pytest.mark.parametrize(
    ("module", "source", "rule"),
    [
        # The arrows this test was written against, hidden in functions as they were.
        ("tenants.services", "def f():\n    from themes.services import ensure_theme\n", "tenants knows no feature"),
        ("tenants.services", "def f():\n    from access.services import ensure_role_groups\n", "tenants knows"),
        ("directory.management.commands.x", "def f():\n    from communities.models import C\n", "public directory"),
        ("members.services", "from communities import selectors\n", "members knows no tenant feature"),
        ("communities.views", "import cms.models\n", "communities never imports cms"),
        ("trials.selectors", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import communities\n", "trials"),
        ("consent.services", "from research.models import ResearchExport\n", "consent knows nothing of research"),
        ("conditions.services", "from tenants.models import Tenant\n", "conditions depends on nothing"),
        ("core.errors", "from members.models import Member\n", "core imports no app of ours"),
        ("themes.services", "from config.settings import DEBUG\n", "nothing imports config"),
        ("privacy.services", "from demo.services import load_demo\n", "nothing imports demo"),
    ],
)
def test_the_checker_names_the_rule_a_forbidden_import_breaks(module, source, rule):
    problems = check(imports_of(source, module=module))
    assert len(problems) == 1
    assert rule in problems[0]


def test_the_checker_catches_arrows_that_are_not_on_the_map():
    # Not forbidden by a "never" rule, but not drawn either: themes has no business with trials.
    problems = check(imports_of("def f():\n    from trials.models import Trial\n", module="themes.services"))
    assert problems == ["themes.services:2 imports trials.models: not on the map (add it to EXTRA_ARROWS with "
                        "a reason, or use a registry)"]  # fmt: skip


def test_the_checker_resolves_relative_imports_and_allows_mapped_arrows():
    relative = list(
        imports_of("from .models import Theme\nfrom ..members import selectors\n", module="themes.services")
    )
    assert [arrow.target for arrow in relative] == ["themes.models", "members.selectors"]
    assert check(relative) == []  # themes -> members is on the map
    assert check(imports_of("from core.text import collapse_whitespace\n", module="tenants.services")) == []
    assert check(imports_of("from communities import selectors\n", module="research.services")) == []
