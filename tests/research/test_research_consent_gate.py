"""Issue 5, item 4: every research export of member data goes through the consent gate.

Statically: every ``export_*`` function in ``research/`` and every registered research exporter calls
``consent.selectors.members_consenting_to``, and no research module reads members any other way.
Behaviourally: members who withdrew, were never asked, or owe a re-consent never appear.
"""

from __future__ import annotations

import ast
import datetime
import inspect
import json
import textwrap
from pathlib import Path
from typing import Any, cast

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from conditions.models import Condition
from consent import services
from members.models import Member
from research.exporters import exporters
from research.models import ResearchEvent
from research.services import birth_year_band, export_deidentified_dataset
from tests.conftest import ROOT, TENANT_A, host_client, signed_in
from tests.consent.conftest import CONTACT, RESEARCH, publish_next
from tests.factories import MemberFactory

GATE = "members_consenting_to"
SKIP_DIRS = {".venv", "tests", "migrations", "bench", ".kindred", "node_modules", "__pycache__", ".git"}


def _calls_gate(node: ast.AST) -> bool:
    for call in ast.walk(node):
        if isinstance(call, ast.Call):
            func = call.func
            if (isinstance(func, ast.Name) and func.id == GATE) or (
                isinstance(func, ast.Attribute) and func.attr == GATE
            ):
                return True
    return False


def _is_exporter_decorator(decorator: ast.expr) -> bool:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    return (isinstance(target, ast.Name) and target.id == "register_exporter") or (
        isinstance(target, ast.Attribute) and target.attr == "register_exporter"
    )


def exporters_bypassing_the_gate(source: str, *, in_research: bool) -> tuple[list[str], list[str]]:
    """(functions that must pass the gate, those of them that do not) in one module's source."""
    tree = ast.parse(source)
    checked, bypassing = [], []
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        registered = any(_is_exporter_decorator(d) for d in node.decorator_list)
        if registered or (in_research and node.name.startswith("export_")):
            checked.append(node.name)
            if not _calls_gate(node):
                bypassing.append(node.name)
    return checked, bypassing


def project_modules() -> list[Path]:
    return [
        path for path in sorted(ROOT.rglob("*.py")) if not SKIP_DIRS.intersection(path.relative_to(ROOT).parts[:-1])
    ]


def test_every_research_exporter_in_the_code_calls_the_gate():
    checked: list[str] = []
    bypassing: list[str] = []
    for path in project_modules():
        relative = path.relative_to(ROOT)
        found, bad = exporters_bypassing_the_gate(path.read_text(), in_research=relative.parts[0] == "research")
        checked += [f"{relative}:{name}" for name in found]
        bypassing += [f"{relative}:{name}" for name in bad]
    assert "research/services.py:export_deidentified_dataset" in checked
    assert bypassing == [], f"research exports that skip consent.selectors.{GATE}: {bypassing}"


def test_every_registered_exporter_calls_the_gate():
    registered = exporters()
    assert set(registered) == {"deidentified-members"}
    for name, fn in registered.items():
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
        assert _calls_gate(tree), f"exporter {name} ({fn.__module__}.{fn.__qualname__}) skips the consent gate"


def test_research_modules_read_members_only_through_the_gate():
    """No research module touches Member rows (or raw SQL) except via what the gate returns."""
    offenders = []
    for path in (ROOT / "research").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "members.models":
                offenders.append(f"{path.name}: imports members.models")
            if isinstance(node, ast.Attribute) and node.attr in {"raw", "cursor", "extra"}:
                offenders.append(f"{path.name}: .{node.attr}")
    assert offenders == []


def test_the_checker_catches_a_bypass():
    """The static proof can fail: a new export_* in research/ that skips the gate is reported."""
    source = textwrap.dedent(
        """
        from members.models import Member
        from research.exporters import register_exporter

        def export_everyone():
            return list(Member.objects.values("email"))

        @register_exporter("sneaky")
        def sneaky(**kwargs):
            return []

        def export_fine(*, purpose_code, at=None):
            return list(members_consenting_to(purpose_code, at=at))

        def helper():
            return []
        """
    )
    assert exporters_bypassing_the_gate(source, in_research=True) == (
        ["export_everyone", "sneaky", "export_fine"],
        ["export_everyone", "sneaky"],
    )
    # Outside research/ only registered exporters are research exports (a member's own data export is not).
    assert exporters_bypassing_the_gate(source, in_research=False) == (["sneaky"], ["sneaky"])


@pytest.fixture
def population(policy_v1, purposes):
    """One member in each consent situation; only ``granted`` may ever appear in an export."""
    lupus = Condition.objects.order_by("mesh_id").first()
    people = {
        "granted": MemberFactory(birth_year=1983, country="NZ", region="Otago"),
        "withdrawn": MemberFactory(birth_year=1990),
        "never_asked": MemberFactory(birth_year=1970),
        "other_purpose_only": MemberFactory(birth_year=1971),
        "reconsent_pending": MemberFactory(birth_year=1960),
        "inactive": MemberFactory(birth_year=1961, is_active=False),
        "erased": MemberFactory(birth_year=1962),
    }
    if lupus is not None:
        people["granted"].conditions.set([lupus])
    past = timezone.now() - datetime.timedelta(days=5)
    for key in ("granted", "withdrawn", "reconsent_pending", "inactive", "erased"):
        services.record_consent(member=people[key], purpose=RESEARCH, granted=True, channel="web", now=past)
    services.record_consent(member=people["withdrawn"], purpose=RESEARCH, granted=False, channel="web")
    services.record_consent(member=people["other_purpose_only"], purpose=CONTACT, granted=True, channel="web")
    publish_next(purposes, material=[RESEARCH], effective_at=past + datetime.timedelta(days=1))
    for key in ("granted", "inactive", "erased"):
        services.record_consent(member=people[key], purpose=RESEARCH, granted=True, channel="web")
    services.detach_member(member=people["erased"])
    return people, lupus


@pytest.mark.django_db
def test_only_members_who_consent_now_are_exported(population):
    people, lupus = population
    rows = export_deidentified_dataset()
    granted = people["granted"]
    assert rows == [
        {
            "pseudonym": str(granted.consent_subject.pseudonym),
            "birth_year_band": "1980-1984",
            "country": "NZ",
            "conditions": [lupus.mesh_id] if lupus is not None else [],
        }
    ]
    text = json.dumps(rows)
    for member in people.values():
        for identifying in (member.email, member.display_name, str(member.public_id), "Otago"):
            assert identifying not in text
    # The gate is the data-sharing purpose, fixed in code: a member who only agreed to be contacted about
    # studies is never in a dataset, and no caller can choose another purpose.
    other = str(people["other_purpose_only"].consent_subject.pseudonym)
    assert other not in text
    assert "purpose_code" not in inspect.signature(export_deidentified_dataset).parameters
    with pytest.raises(TypeError):
        export_deidentified_dataset(purpose_code=CONTACT)


@pytest.mark.django_db
def test_the_export_judges_consent_at_the_given_moment(population):
    people, _ = population
    before_change = timezone.now() - datetime.timedelta(days=4, hours=12)
    pseudonyms = {row["pseudonym"] for row in export_deidentified_dataset(at=before_change)}
    # Before v2 took effect: everyone who had granted then (the erased member is detached: never).
    assert pseudonyms == {
        str(people[key].consent_subject.pseudonym) for key in ("granted", "withdrawn", "reconsent_pending")
    }


def test_birth_year_bands():
    assert [birth_year_band(y) for y in (1980, 1984, 1985, 2001, None)] == [
        "1980-1984",
        "1980-1984",
        "1985-1989",
        "2000-2004",
        "",
    ]


def named_staff() -> Any:
    staff = cast(Member, MemberFactory(is_staff=True))
    staff.user_permissions.add(Permission.objects.get(codename="run_research_exports"))
    return Member.objects.get(pk=staff.pk)  # fresh: no cached permissions


@pytest.mark.django_db
def test_the_command_writes_the_gated_dataset(population, tmp_path):
    people, _ = population
    staff = named_staff()
    out = tmp_path / "dataset.json"
    call_command("export_research_dataset", "--staff", staff.email, "--output", str(out))
    rows = json.loads(out.read_text())
    assert [row["pseudonym"] for row in rows] == [str(people["granted"].consent_subject.pseudonym)]
    pulled = ResearchEvent.objects.get(action="dataset_pulled")
    assert (pulled.actor_id, pulled.channel, pulled.details["rows"]) == (staff.pk, "command", 1)
    plain_staff = MemberFactory(is_staff=True)
    with pytest.raises(CommandError, match="named research staff"):
        call_command("export_research_dataset", "--staff", plain_staff.email, "--output", str(out))
    assert ResearchEvent.objects.filter(action="pull_refused", actor=plain_staff, channel="command").count() == 1
    with pytest.raises(CommandError, match="time zone"):
        call_command("export_research_dataset", "--staff", staff.email, "--at", "2020-01-01", "--output", str(out))
    assert json.loads(out.read_text()) == rows  # a refused run leaves the last file as it was
    assert ResearchEvent.objects.filter(action="dataset_pulled").count() == 1


@pytest.mark.django_db
def test_the_api_is_for_named_staff_only_gated_and_audited(population, tenant_a):
    people, _ = population
    url = "/api/v1/research/dataset/"
    assert host_client(settings.ROOT_DOMAIN).get(url).status_code == 401
    assert signed_in(settings.ROOT_DOMAIN, people["granted"]).get(url).status_code == 403
    plain_staff = MemberFactory(is_staff=True)
    refused = signed_in(settings.ROOT_DOMAIN, plain_staff).get(url)
    assert refused.status_code == 403 and refused.json()["code"] == "not_research_staff"
    staff = named_staff()
    # A ``purpose`` parameter is ignored: the gate is always data sharing.
    response = signed_in(settings.ROOT_DOMAIN, staff).get(url, {"purpose": CONTACT})
    assert response.status_code == 200
    assert [row["pseudonym"] for row in response.json()] == [str(people["granted"].consent_subject.pseudonym)]
    bad = signed_in(settings.ROOT_DOMAIN, staff).get(url, {"export": "everything"})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid"
    assert list(ResearchEvent.objects.order_by("pk").values_list("action", "channel", "actor_id")) == [
        ("pull_refused", "api", people["granted"].pk),
        ("pull_refused", "api", plain_staff.pk),
        ("dataset_pulled", "api", staff.pk),
    ]
    # Not on partner hosts at all.
    assert signed_in(TENANT_A["domain"], staff).get(url).status_code == 404
