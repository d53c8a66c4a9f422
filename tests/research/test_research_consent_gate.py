"""Issue 5, item 4: every research export of member data goes through the consent gate.

Statically: every ``export_*`` function in ``research/`` and every registered research exporter calls
``consent.selectors.members_consenting_to``, and no research module reads members any other way.
Behaviourally: members who withdrew, were never asked, or owe a re-consent never appear, and the quick
pull judges consent at pull time (an earlier moment can only narrow it), like every release.
"""

from __future__ import annotations

import ast
import datetime
import inspect
import json
import textwrap
from collections import Counter
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
from core.errors import InvalidInput
from members.models import Member
from partnerships import services as partnership_services
from partnerships.models import AgreementKind
from research import kanon, vault
from research import services as research_services
from research.exporters import exporters
from research.models import ExportKind, ExportStatus, ReleaseInclusion, ResearchEvent, ResearchExport
from research.services import birth_year_band, export_deidentified_dataset
from tests.conftest import ROOT, TENANT_A, host_client, signed_in
from tests.consent.conftest import CONTACT, RESEARCH, publish_next
from tests.factories import MemberFactory, TenantMembershipFactory
from tests.partnerships.helpers import make_agreement, make_partner

GATE = "members_consenting_to"
SKIP_DIRS = {".venv", "tests", "migrations", "bench", ".kindred", "node_modules", "__pycache__", ".git"}


def _functions(tree: ast.AST) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    return {n.name: n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}


def _calls_gate(
    node: ast.AST,
    functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] | None = None,
    seen: set[str] | None = None,
) -> bool:
    """``node`` calls the gate, directly or through functions of the same module that do (``functions``)."""
    functions = functions or {}
    seen = set() if seen is None else seen
    for call in ast.walk(node):
        if isinstance(call, ast.Call):
            func = call.func
            if (isinstance(func, ast.Name) and func.id == GATE) or (
                isinstance(func, ast.Attribute) and func.attr == GATE
            ):
                return True
            if isinstance(func, ast.Name) and func.id in functions and func.id not in seen:
                seen.add(func.id)
                if _calls_gate(functions[func.id], functions, seen):
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
    functions = _functions(tree)
    checked, bypassing = [], []
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        registered = any(_is_exporter_decorator(d) for d in node.decorator_list)
        if registered or (in_research and node.name.startswith("export_")):
            checked.append(node.name)
            if not _calls_gate(node, functions, {node.name}):
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
    assert "research/services.py:export_consenting_members" in checked
    assert bypassing == [], f"research exports that skip consent.selectors.{GATE}: {bypassing}"


def test_every_registered_exporter_calls_the_gate():
    registered = exporters()
    assert set(registered) == {"deidentified-members"}
    for name, fn in registered.items():
        module = ast.parse(Path(inspect.getfile(fn)).read_text())
        functions = _functions(module)
        assert _calls_gate(functions[fn.__name__], functions, {fn.__name__}), (
            f"exporter {name} ({fn.__module__}.{fn.__qualname__}) skips the consent gate"
        )


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

        def export_through_helpers():
            return _gated_rows()

        def export_through_a_plain_helper():
            return helper()

        def _gated_rows():
            return _deeper()

        def _deeper():
            return list(members_consenting_to("research-data-sharing"))

        def helper():
            return []
        """
    )
    # Through functions of the same module counts (the quick pull reaches the gate through the release
    # machinery); a helper that never reaches it does not.
    assert exporters_bypassing_the_gate(source, in_research=True) == (
        ["export_everyone", "sneaky", "export_fine", "export_through_helpers", "export_through_a_plain_helper"],
        ["export_everyone", "sneaky", "export_through_a_plain_helper"],
    )
    # Outside research/ only registered exporters are research exports (a member's own data export is not).
    assert exporters_bypassing_the_gate(source, in_research=False) == (["sneaky"], ["sneaky"])


def named_staff() -> Any:
    staff = cast(Member, MemberFactory(is_staff=True))
    staff.user_permissions.add(Permission.objects.get(codename="run_research_exports"))
    return Member.objects.get(pk=staff.pk)  # fresh: no cached permissions


ALIKE = {"birth_year": 1983, "sex": "female", "country": "NZ", "region": "Otago", "role": "patient"}


@pytest.fixture
def population(policy_v1, purposes, tenant_a):
    """Members of tenant A in each consent situation, all with the same quasi-identifiers (so a leak would
    land in the released class): only ``granted`` (five) and ``late`` may ever appear in a pull."""
    lupus = Condition.objects.filter(parent__isnull=False).order_by("pk").first() or Condition.objects.first()
    people: dict[str, Any] = {f"granted{i}": MemberFactory(**ALIKE) for i in range(5)}
    for key in ("late", "withdrawn", "never_asked", "other_purpose_only", "reconsent_pending", "erased"):
        people[key] = MemberFactory(**ALIKE)
    people["inactive"] = MemberFactory(**ALIKE, is_active=False)
    for member in people.values():
        member.conditions.set([lupus])
        TenantMembershipFactory(member=member, tenant=tenant_a)
    granted = [key for key in people if key.startswith("granted")]
    past = timezone.now() - datetime.timedelta(days=5)
    for key in (*granted, "withdrawn", "reconsent_pending", "inactive", "erased"):
        services.record_consent(member=people[key], purpose=RESEARCH, granted=True, channel="web", now=past)
    services.record_consent(member=people["withdrawn"], purpose=RESEARCH, granted=False, channel="web")
    services.record_consent(member=people["other_purpose_only"], purpose=CONTACT, granted=True, channel="web")
    publish_next(purposes, material=[RESEARCH], effective_at=past + datetime.timedelta(days=1))
    for key in (*granted, "late", "inactive", "erased"):
        services.record_consent(member=people[key], purpose=RESEARCH, granted=True, channel="web")
    services.detach_member(member=people["erased"])

    staff = named_staff()
    partner = make_partner(kind="research")
    agreement = make_agreement(partner=partner, kind=AgreementKind.RESEARCH, starts_on=datetime.date(2026, 1, 1))
    partnership_services.set_agreement_scope(
        actor=None, agreement=agreement, tenant_ids=[tenant_a.pk], condition_ids=[lupus.pk], purpose_codes=[RESEARCH]
    )
    partnership_services.set_agreement_recipients(actor=None, agreement=agreement, member_ids=[staff.pk])
    agreement = partnership_services.activate_agreement(actor=None, agreement_id=agreement.pk)
    return {"people": people, "granted": granted, "staff": staff, "agreement": agreement, "lupus": lupus}


def pseudonym(world: dict[str, Any], key: str) -> str:
    secret = research_services.agreement_secret(world["agreement"])
    return vault.pseudonym(secret, "member", str(world["people"][key].public_id))


def pull(world: dict[str, Any], **kwargs: Any) -> tuple[ResearchExport, list[dict[str, Any]]]:
    params: dict[str, Any] = {
        "actor": world["staff"],
        "channel": "api",
        "agreement_id": world["agreement"].public_id,
        "exporter_fn": export_deidentified_dataset,
        "k": 5,
    }
    return research_services.pull_dataset(**{**params, **kwargs})


def pulled_ids(rows: list[dict[str, Any]]) -> set[str]:
    return {row["member_id"] for row in rows}


@pytest.mark.django_db
def test_only_members_who_consent_now_are_pulled(population):
    world = population
    export, rows = pull(world)
    expected = {pseudonym(world, key) for key in (*world["granted"], "late")}
    assert pulled_ids(rows) == expected
    # Not weaker than a release: k-anonymous quasi-identifiers, pseudonyms of this agreement only.
    assert [sorted(row) for row in rows] == [sorted(["member_id", *kanon.QUASI_IDENTIFIERS])] * 6
    classes = Counter(tuple(row[q] for q in kanon.QUASI_IDENTIFIERS) for row in rows)
    assert min(classes.values()) >= 5
    assert rows[0]["conditions"] == world["lupus"].mesh_id and rows[0]["age_band"] in {"40-49", "40-59"}
    text = json.dumps(rows)
    for member in world["people"].values():
        for identifying in (member.email, member.display_name, str(member.public_id)):
            assert identifying not in text
        if hasattr(member, "consent_subject"):
            assert str(member.consent_subject.pseudonym) not in text  # the platform-wide pseudonym never leaves
    # It is a release: kind pull, its manifest, its encrypted files, and who was included (members see it).
    assert (export.kind, export.status, export.k) == (ExportKind.PULL, ExportStatus.READY, 5)
    assert export.manifest["consent"]["purpose"] == RESEARCH
    assert export.manifest["counts"]["members"]["included"] == 6
    assert set(ReleaseInclusion.objects.filter(export=export).values_list("member_id", flat=True)) == {
        world["people"][key].pk for key in (*world["granted"], "late")
    }
    assert export.files.count() == len(research_services.FILE_NAMES)
    # The gate is the data-sharing purpose, fixed in code: no caller chooses another purpose.
    for fn in (export_deidentified_dataset, research_services.pull_dataset):
        assert "purpose_code" not in inspect.signature(fn).parameters
    with pytest.raises(TypeError):
        pull(world, purpose_code=CONTACT)


@pytest.mark.django_db
def test_the_pull_judges_consent_now_even_when_given_an_earlier_moment(population):
    """``at`` never brings back a member who has since withdrawn (or owes a re-consent): consent is judged
    at pull time, and ``at`` only narrows the pull to members who also consented then."""
    world = population
    before_change = timezone.now() - datetime.timedelta(days=4, hours=12)
    export, rows = pull(world, at=before_change)
    # Withdrawn and re-consent-pending members consented then, not now: out. "late" consents now, not then: out.
    assert pulled_ids(rows) == {pseudonym(world, key) for key in world["granted"]}
    for key in ("withdrawn", "reconsent_pending", "late", "erased", "inactive"):
        assert pseudonym(world, key) not in pulled_ids(rows)
    excluded = export.manifest["counts"]["members"]["excluded"]
    assert excluded["no_consent_at_requested_moment"] == 1
    assert export.manifest["consent"]["also_granted_at"] == before_change.isoformat()
    assert export.consent_also_at == before_change and export.consent_at > before_change
    future = timezone.now() + datetime.timedelta(days=1)
    with pytest.raises(InvalidInput) as refused:
        pull(world, at=future)
    assert set(refused.value.details) == {"at"}


@pytest.mark.django_db
def test_a_withdrawal_between_two_pulls_excludes_the_member_from_every_later_pull(population):
    world = population
    leaver = world["people"]["late"]
    first, first_rows = pull(world)
    assert pseudonym(world, "late") in pulled_ids(first_rows)
    between = timezone.now()
    services.record_consent(member=leaver, purpose=RESEARCH, granted=False, channel="web")
    second, second_rows = pull(world)
    assert pulled_ids(second_rows) == pulled_ids(first_rows) - {pseudonym(world, "late")}
    # Not even by asking for a moment before the withdrawal.
    third, third_rows = pull(world, at=between)
    assert pseudonym(world, "late") not in pulled_ids(third_rows)
    assert pulled_ids(third_rows) == pulled_ids(second_rows)
    # Each pull recorded who it included; the leaver's privacy page lists the first pull only.
    assert list(ReleaseInclusion.objects.filter(member=leaver).values_list("export_id", flat=True)) == [first.pk]
    for export in (second, third):
        assert ReleaseInclusion.objects.filter(export=export).count() == 5
    mine = signed_in(settings.ROOT_DOMAIN, leaver).get("/api/v1/research/releases/mine/").json()
    assert [(r["release"], r["title"]) for r in mine] == [(str(first.public_id), "Quick dataset pull")]
    page = signed_in(settings.ROOT_DOMAIN, leaver).get("/accounts/privacy/").content.decode()
    assert "Quick dataset pull" in page and world["agreement"].partner.name in page
    stayer = world["people"]["granted0"]
    theirs = signed_in(settings.ROOT_DOMAIN, stayer).get("/api/v1/research/releases/mine/").json()
    assert {r["release"] for r in theirs} == {str(e.public_id) for e in (first, second, third)}


def test_birth_year_bands():
    assert [birth_year_band(y) for y in (1980, 1984, 1985, 2001, None)] == [
        "1980-1984",
        "1980-1984",
        "1985-1989",
        "2000-2004",
        "",
    ]


@pytest.mark.django_db
def test_the_command_pulls_the_gated_dataset_for_a_named_recipient(population, tmp_path):
    world = population
    staff, agreement = world["staff"], world["agreement"]
    out = tmp_path / "dataset.json"
    call_command("export_research_dataset", "--staff", staff.email, "--agreement", str(agreement.public_id),
                 "--k", "5", "--output", str(out))  # fmt: skip
    result = json.loads(out.read_text())
    assert {row["member_id"] for row in result["rows"]} == {
        pseudonym(world, key) for key in (*world["granted"], "late")
    }
    assert result["release"] == str(ResearchExport.objects.get(kind=ExportKind.PULL).public_id)
    pulled = ResearchEvent.objects.get(action="dataset_pulled")
    assert (pulled.actor_id, pulled.channel, pulled.details["rows"]) == (staff.pk, "command", 6)

    plain_staff = MemberFactory(is_staff=True)
    with pytest.raises(CommandError, match="named research staff"):
        call_command("export_research_dataset", "--staff", plain_staff.email, "--agreement",
                     str(agreement.public_id), "--output", str(out))  # fmt: skip
    other_named = named_staff()  # named staff, but not one of this agreement's recipients
    with pytest.raises(CommandError, match="named recipients"):
        call_command("export_research_dataset", "--staff", other_named.email, "--agreement",
                     str(agreement.public_id), "--output", str(out))  # fmt: skip
    with pytest.raises(CommandError, match="agreement"):
        call_command("export_research_dataset", "--staff", staff.email, "--output", str(out))
    with pytest.raises(CommandError, match="No such research agreement"):
        call_command("export_research_dataset", "--staff", staff.email, "--agreement", "not-a-uuid",
                     "--output", str(out))  # fmt: skip
    with pytest.raises(CommandError, match="time zone"):
        call_command("export_research_dataset", "--staff", staff.email, "--agreement", str(agreement.public_id),
                     "--at", "2020-01-01", "--output", str(out))  # fmt: skip
    assert json.loads(out.read_text()) == result  # a refused run leaves the last file as it was
    assert ResearchEvent.objects.filter(action="dataset_pulled").count() == 1
    refused = ResearchEvent.objects.filter(action="pull_refused", channel="command").order_by("pk")
    assert list(refused.values_list("actor_id", "details__code")) == [
        (plain_staff.pk, "not_research_staff"),
        (other_named.pk, "not_recipient"),
        (staff.pk, "invalid"),
    ]
    assert ResearchExport.objects.count() == 1  # nothing was built for a refused pull


@pytest.mark.django_db
def test_the_api_is_for_named_staff_who_are_recipients_gated_and_audited(population, tenant_a):
    world = population
    people, staff, agreement = world["people"], world["staff"], world["agreement"]
    url = "/api/v1/research/dataset/"
    query = {"agreement": str(agreement.public_id), "k": 5}
    assert host_client(settings.ROOT_DOMAIN).get(url, query).status_code == 401
    assert signed_in(settings.ROOT_DOMAIN, people["granted0"]).get(url, query).status_code == 403
    plain_staff = MemberFactory(is_staff=True)
    refused = signed_in(settings.ROOT_DOMAIN, plain_staff).get(url, query)
    assert refused.status_code == 403 and refused.json()["code"] == "not_research_staff"
    other_named = named_staff()
    not_recipient = signed_in(settings.ROOT_DOMAIN, other_named).get(url, query)
    assert not_recipient.status_code == 403 and not_recipient.json()["code"] == "not_recipient"
    client = signed_in(settings.ROOT_DOMAIN, staff)
    missing = client.get(url)
    assert missing.status_code == 400 and set(missing.json()["details"]) == {"agreement"}
    for bad in ({"agreement": "nope"}, {**query, "at": "yesterday"}, {**query, "k": 3}, {**query, "export": "all"}):
        response = client.get(url, bad)
        assert response.status_code == 400 and response.json()["code"] == "invalid", bad
    unknown = client.get(url, {"agreement": "00000000-0000-0000-0000-000000000000"})
    assert unknown.status_code == 400 and unknown.json()["details"]["agreement"]
    future = client.get(url, {**query, "at": (timezone.now() + datetime.timedelta(hours=1)).isoformat()})
    assert future.status_code == 400 and set(future.json()["details"]) == {"at"}
    assert ResearchExport.objects.count() == 0
    # A ``purpose`` parameter is ignored: the gate is always data sharing.
    response = client.get(url, {**query, "purpose": CONTACT})
    assert response.status_code == 200, response.content
    body = response.json()
    assert {row["member_id"] for row in body["rows"]} == {pseudonym(world, key) for key in (*world["granted"], "late")}
    assert body["agreement"] == str(agreement.public_id) and body["k"] == 5
    assert body["counts"]["members"]["included"] == 6
    actions = list(ResearchEvent.objects.order_by("pk").values_list("action", "channel", "actor_id"))
    assert actions[:8] == [
        ("pull_refused", "api", people["granted0"].pk),
        ("pull_refused", "api", plain_staff.pk),
        ("pull_refused", "api", other_named.pk),
        ("pull_refused", "api", staff.pk),  # no agreement named
        ("pull_refused", "api", staff.pk),  # unknown agreement
        ("pull_refused", "api", staff.pk),  # ``at`` in the future
        ("pull_defined", "api", staff.pk),
        ("export_started", "worker", None),
    ]
    assert actions[8:] == [("export_ready", "worker", None), ("dataset_pulled", "api", staff.pk)]
    # A suspended agreement cannot be pulled under.
    partnership_services.suspend_agreement(actor=None, agreement_id=agreement.pk, reason="Unpaid")
    suspended = client.get(url, query)
    assert suspended.status_code == 409 and suspended.json()["code"] == "agreement_inactive"
    # Not on partner hosts at all.
    assert signed_in(TENANT_A["domain"], staff).get(url, query).status_code == 404
