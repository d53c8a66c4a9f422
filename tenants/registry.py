"""Provisioning steps that higher apps contribute, so that ``tenants`` knows no feature (DESIGN.md:
the lower app defines a small registry, the higher app registers itself in its ``AppConfig.ready()``)::

    register_tenant_setup(name="role groups", run=lambda *, tenant: ensure_role_groups(), order=10)
    register_tenant_setup(name="theme", run=ensure_theme, schema="public", order=10)

``run(tenant=..., **options)`` is called inside the provisioning transaction. Steps with
``schema="tenant"`` run inside the new tenant's schema (within the report's "configure tenant" step);
steps with ``schema="public"`` run afterwards, back in public. Each kind runs in ``order``, then by
name. ``provision_tenant(theme={...})`` hands those options to the step named "theme".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

Schema = Literal["public", "tenant"]
SetupFn = Callable[..., Any]


@dataclass(frozen=True)
class TenantSetupStep:
    name: str
    run: SetupFn
    schema: Schema
    order: int = 100


_steps: dict[str, TenantSetupStep] = {}


def register_tenant_setup(*, name: str, run: SetupFn, schema: Schema = "tenant", order: int = 100) -> TenantSetupStep:
    """Register (or replace, so a reloaded app does not register twice) one provisioning step."""
    if schema not in ("public", "tenant"):
        raise ValueError(f"schema must be 'public' or 'tenant', not {schema!r}")
    if not name:
        raise ValueError("A provisioning step needs a name.")
    step = TenantSetupStep(name=name, run=run, schema=schema, order=order)
    _steps[name] = step
    return step


def unregister_tenant_setup(*, name: str) -> None:
    _steps.pop(name, None)


def tenant_setup_steps(*, schema: Schema) -> list[TenantSetupStep]:
    return sorted((s for s in _steps.values() if s.schema == schema), key=lambda s: (s.order, s.name))


def step_names() -> set[str]:
    return set(_steps)
