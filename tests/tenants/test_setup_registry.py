"""Provisioning's step registry: higher apps join it at start-up, so tenants imports none of them."""

from __future__ import annotations

import pytest
from django.db import connection

from tenants.registry import register_tenant_setup, tenant_setup_steps, unregister_tenant_setup
from tenants.services import provision_tenant


def test_the_installed_apps_register_their_steps_in_provisioning_order():
    assert [step.name for step in tenant_setup_steps(schema="tenant")] == ["role groups", "pages"]
    assert [step.name for step in tenant_setup_steps(schema="public")] == ["theme"]


def test_registering_a_name_again_replaces_the_step():
    def first(*, tenant):
        return None

    def second(*, tenant):
        return None

    try:
        register_tenant_setup(name="probe", run=first, order=99)
        register_tenant_setup(name="probe", run=second, order=99)
        probes = [step for step in tenant_setup_steps(schema="tenant") if step.name == "probe"]
        assert [step.run for step in probes] == [second]
    finally:
        unregister_tenant_setup(name="probe")
    assert "probe" not in {step.name for step in tenant_setup_steps(schema="tenant")}


def test_a_step_runs_in_the_new_tenants_schema_with_its_options(db):
    seen: list[tuple[str, str, dict]] = []

    def probe(*, tenant, **options):
        seen.append((tenant.slug, connection.schema_name, options))

    register_tenant_setup(name="probe", run=probe, order=99)
    try:
        report = provision_tenant(name="Probe", slug="probe-steps", domain="probe-steps.localhost")
    finally:
        unregister_tenant_setup(name="probe")
    assert seen == [("probe-steps", "probe_steps", {})]
    assert [step.name for step in report.steps] == ["clear leftovers", "clone template schema", "configure tenant"]


def test_options_for_a_step_nobody_registered_are_refused(db):
    (theme,) = tenant_setup_steps(schema="public")
    unregister_tenant_setup(name="theme")
    try:
        with pytest.raises(ValueError, match="theme"):
            provision_tenant(name="Nothing", slug="no-theme-step", domain="no-theme-step.localhost")
    finally:
        register_tenant_setup(name=theme.name, run=theme.run, schema=theme.schema, order=theme.order)
