"""De-identified research exports. Every one passes the consent gate first (see research.exporters).

The gate's purpose is fixed here (``RESEARCH_PURPOSE``): no caller chooses which consent lets member
data out. Every definition, refusal, run, pull, link and download writes a ``ResearchEvent``.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import json
import logging
import uuid
from collections import Counter
from importlib import metadata
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django_tenants.utils import tenant_context

from communities import selectors as community_selectors
from conditions.models import Condition
from conditions.selectors import descendant_ids
from consent.selectors import current_policy, decision_versions, members_consenting_to
from core.errors import Conflict, DomainError, InvalidInput, NotAllowed, NotFound
from members.selectors import members_of
from partnerships.models import AgreementKind, AgreementStatus, PartnershipAgreement
from research import kanon, vault
from research.deidentify import PLACEHOLDERS, scrub_text
from research.exporters import Exporter, register_exporter
from research.models import (
    DEFAULT_K,
    MIN_K,
    AgreementKey,
    Dataset,
    ExportFile,
    ExportKind,
    ExportStatus,
    ReleaseInclusion,
    ResearchEvent,
    ResearchExport,
)
from research.selectors import can_run_exports, is_recipient
from tenants.models import Tenant

logger = logging.getLogger(__name__)

# THE consent purpose of every research dataset: fixed in code, never a parameter.
RESEARCH_PURPOSE = "research-data-sharing"
BIRTH_YEAR_BAND = 5
MAX_K = 1000
DOWNLOAD_SALT = "research-download"
FILE_NAMES = ("members.csv", "posts.csv", "data_dictionary.json", "data_dictionary.html", "manifest.json")


class LinkExpired(DomainError):
    code = "link_expired"
    http_status = 410


def birth_year_band(year: int | None) -> str:
    """1983 → "1980-1984"; unknown stays empty."""
    if year is None:
        return ""
    start = year - year % BIRTH_YEAR_BAND
    return f"{start}-{start + BIRTH_YEAR_BAND - 1}"


def audit(
    *,
    action: str,
    channel: str,
    actor: Any = None,
    agreement: PartnershipAgreement | None = None,
    export: ResearchExport | None = None,
    **details: Any,
) -> ResearchEvent:
    actor_id = actor.pk if actor is not None and getattr(actor, "is_authenticated", False) else None
    return ResearchEvent.objects.create(
        action=action,
        channel=channel,
        actor_id=actor_id,
        agreement=agreement or (export.agreement if export is not None else None),
        export=export,
        details=details,
    )


# --- the consent gate step of every release -----------------------------------------------------


def export_consenting_members(
    *, candidate_ids: set[int], moments: list[datetime.datetime]
) -> dict[int, dict[str, Any]]:
    """member id → attributes, for the candidates whose consent to de-identified data sharing is granted
    at EVERY one of ``moments`` (the gate's purpose is fixed: ``RESEARCH_PURPOSE``)."""
    gate = members_consenting_to(RESEARCH_PURPOSE, at=moments[0]).filter(pk__in=candidate_ids)
    for moment in moments[1:]:
        gate = gate.filter(pk__in=members_consenting_to(RESEARCH_PURPOSE, at=moment).values("pk"))
    fields = ("pk", "public_id", "birth_year", "sex", "country", "region", "role")
    return {row["pk"]: row for row in gate.values(*fields)}


# --- the quick dataset pull (named staff who are also the agreement's named recipients) -------------


@register_exporter("deidentified-members")
def export_deidentified_dataset(*, export: ResearchExport) -> list[dict[str, Any]]:
    """Build a pull through the release machinery and return its members.csv rows.

    The rows are the release's file as stored (encrypted, in the manifest): members consenting NOW (and at
    ``consent_also_at`` if asked), k-anonymous, under the agreement's pseudonyms; each included member gets a
    ``ReleaseInclusion`` (their privacy page lists the pull).
    """
    built = build_export(export_id=export.pk)
    if built.status != ExportStatus.READY:
        raise Conflict("The pull did not finish.", code="pull_failed")
    members_file = built.files.get(name="members.csv")
    text = vault.decrypt_file_bytes(Path(members_file.path).read_bytes()).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def _resolve_agreement(agreement_id: Any) -> PartnershipAgreement:
    if agreement_id in (None, ""):
        raise InvalidInput(
            "Name the research agreement the dataset is pulled under.",
            details={"agreement": ["Required: the agreement's id."]},
        )
    try:
        public_id = uuid.UUID(str(agreement_id))
    except ValueError:
        public_id = None
    agreement = (
        PartnershipAgreement.objects.filter(public_id=public_id).select_related("partner").first()
        if public_id is not None
        else None
    )
    if agreement is None:
        raise InvalidInput("No such research agreement.", details={"agreement": [f"Unknown id {agreement_id}."]})
    return agreement


def pull_dataset(
    *,
    actor: Any,
    channel: str,
    agreement_id: Any,
    exporter_fn: Exporter,
    at: datetime.datetime | None = None,
    k: int = DEFAULT_K,
) -> tuple[ResearchExport, list[dict[str, Any]]]:
    """The quick dataset: a member-attributes release under one agreement, built now, returned to its caller.

    Never weaker than a release: the caller must be named research staff AND one of the agreement's named
    recipients (the rows go to them); consent is judged at pull time (and also at ``at``, if given: a
    member must have consented then and now); the agreement's scope (tenants, conditions, term) bounds it;
    k-anonymity and per-agreement pseudonyms apply; who was included is recorded. Refusals are audited.
    """
    agreement: PartnershipAgreement | None = None
    try:
        if not can_run_exports(actor):
            raise NotAllowed("Only named research staff may pull research datasets.", code="not_research_staff")
        agreement = _resolve_agreement(agreement_id)
        now = timezone.now()
        _check_agreement(agreement, today=timezone.localdate(now))
        if not is_recipient(actor, agreement):
            raise NotAllowed(
                "Only the agreement's named recipients may pull its data (staff name them on the agreement).",
                code="not_recipient",
            )
        errors: dict[str, list[str]] = {}
        if at is not None and (at.tzinfo is None or at > now):
            errors["at"] = ["Give a past date-time with a time zone (consent is always judged now as well)."]
        if not isinstance(k, int) or isinstance(k, bool) or k < MIN_K or k > MAX_K:
            errors["k"] = [f"k must be a whole number from {MIN_K} to {MAX_K} (default {DEFAULT_K})."]
        tenant_ids = sorted(agreement.tenants.values_list("pk", flat=True))
        if not tenant_ids:
            errors["agreement"] = ["The agreement covers no tenants."]
        if errors:
            raise InvalidInput("Check the pull's parameters.", details=errors)
    except DomainError as error:
        raise _refuse(actor=actor, channel=channel, agreement=agreement, error=error, action="pull_refused") from None
    with transaction.atomic():
        export = ResearchExport.objects.create(
            agreement=agreement,
            created_by=actor,
            kind=ExportKind.PULL,
            title="Quick dataset pull",
            date_from=agreement.starts_on,
            date_to=agreement.ends_on,
            datasets=[Dataset.MEMBER_ATTRIBUTES.value],
            k=k,
            consent_also_at=at,
        )
        export.tenants.set(tenant_ids)
        export.conditions.set(agreement.conditions.values_list("pk", flat=True))
        audit(action="pull_defined", channel=channel, actor=actor, export=export, parameters=_parameters(export))
    rows = exporter_fn(export=export)
    export.refresh_from_db()
    audit(
        action="dataset_pulled",
        channel=channel,
        actor=actor,
        export=export,
        rows=len(rows),
        at=(at.isoformat() if at else ""),
    )
    return export, rows


# --- defining an export -------------------------------------------------------------------------


def _refuse(
    *,
    actor: Any,
    channel: str,
    agreement: PartnershipAgreement | None,
    error: DomainError,
    action: str = "export_refused",
) -> DomainError:
    audit(
        action=action,
        channel=channel,
        actor=actor,
        agreement=agreement,
        code=error.code,
        reason=error.message,
        details=error.details,
    )
    return error


def _check_agreement(agreement: PartnershipAgreement, *, today: datetime.date) -> None:
    if agreement.kind != AgreementKind.RESEARCH:
        raise InvalidInput(
            "Exports need a research agreement.", code="not_research_agreement", details={"agreement": [agreement.kind]}
        )
    if agreement.status != AgreementStatus.ACTIVE:
        raise Conflict(
            f"The agreement is not active (it is {agreement.get_status_display().lower()}).",
            code="agreement_inactive",
        )
    if agreement.starts_on > today or (agreement.ends_on is not None and agreement.ends_on < today):
        raise Conflict("The agreement's term does not cover today.", code="agreement_out_of_term")
    if not agreement.consent_purposes.filter(code=RESEARCH_PURPOSE).exists():
        raise InvalidInput(
            f"The agreement does not cover de-identified data sharing (its consent purposes lack {RESEARCH_PURPOSE}).",
            code="outside_scope",
            details={"consent_purposes": [RESEARCH_PURPOSE]},
        )


def _term(agreement: PartnershipAgreement) -> str:
    ends = agreement.ends_on.isoformat() if agreement.ends_on else "open-ended"
    return f"{agreement.starts_on.isoformat()} to {ends}"


def _check_dates_in_term(
    agreement: PartnershipAgreement, *, date_from: datetime.date | None, date_to: datetime.date | None
) -> None:
    """The post date range lies within the agreement's term (start..end), or it is refused with the reason."""
    starts, ends = agreement.starts_on, agreement.ends_on
    outside: dict[str, list[str]] = {}
    for name, value in (("date_from", date_from), ("date_to", date_to)):
        if value is None:
            continue
        if value < starts:
            outside[name] = [f"{value.isoformat()} is before the agreement's term starts ({starts.isoformat()})."]
        elif ends is not None and value > ends:
            outside[name] = [f"{value.isoformat()} is after the agreement's term ends ({ends.isoformat()})."]
    if outside:
        raise InvalidInput(
            f"The date range is outside the agreement's scope: its term is {_term(agreement)}.",
            code="outside_scope",
            details=outside,
        )


def define_export(
    *,
    actor: Any,
    agreement: PartnershipAgreement,
    tenant_ids: list[int],
    datasets: list[str],
    community_slugs: list[str] | None = None,
    condition_ids: list[int] | None = None,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
    k: int = DEFAULT_K,
    title: str = "",
    channel: str = "web",
) -> ResearchExport:
    """Validate a request against the agreement's scope and queue its run; a refusal says why (and is logged).

    The post date range must lie within the agreement's term; an open end takes the term's bound.
    """
    if not can_run_exports(actor):
        raise _refuse(
            actor=actor,
            channel=channel,
            agreement=agreement,
            error=NotAllowed("Only named research staff may define research exports.", code="not_research_staff"),
        )
    try:
        today = timezone.localdate()
        _check_agreement(agreement, today=today)
        _check_dates_in_term(agreement, date_from=date_from, date_to=date_to)
        date_from = date_from or agreement.starts_on
        date_to = date_to or agreement.ends_on
        errors: dict[str, list[str]] = {}
        scope_tenants = {t.pk: t for t in agreement.tenants.all()}
        if not tenant_ids:
            errors["tenants"] = ["Choose at least one tenant."]
        if outside := sorted(set(tenant_ids) - set(scope_tenants)):
            names = [str(n) for n in Tenant.objects.filter(pk__in=outside).values_list("slug", flat=True)] or [
                str(pk) for pk in outside
            ]
            raise InvalidInput(
                "These tenants are outside the agreement's scope: " + ", ".join(map(str, names)) + ".",
                code="outside_scope",
                details={"tenants": [str(name) for name in names]},
            )
        scope_conditions = set(agreement.conditions.values_list("pk", flat=True))
        chosen_conditions = sorted(set(condition_ids or []))
        if unknown := set(chosen_conditions) - set(
            Condition.objects.filter(pk__in=chosen_conditions).values_list("pk", flat=True)
        ):
            errors["conditions"] = [f"Unknown conditions: {sorted(unknown)}."]
        elif scope_conditions:
            allowed = descendant_ids(condition_ids=scope_conditions) | scope_conditions
            if outside_c := sorted(set(chosen_conditions) - allowed):
                names = list(Condition.objects.filter(pk__in=outside_c).values_list("name", flat=True))
                raise InvalidInput(
                    "These conditions are outside the agreement's scope: " + ", ".join(names) + ".",
                    code="outside_scope",
                    details={"conditions": names},
                )
            chosen_conditions = chosen_conditions or sorted(scope_conditions)
        slugs = sorted({slug.strip() for slug in community_slugs or [] if slug.strip()})
        if slugs and not errors.get("tenants"):
            found: set[str] = set()
            for tenant_id in tenant_ids:
                with tenant_context(scope_tenants[tenant_id]):
                    found |= community_selectors.existing_community_slugs(slugs=slugs)
            if missing := sorted(set(slugs) - found):
                errors["communities"] = [f"No such community in the chosen tenants: {', '.join(missing)}."]
        if date_from and date_to and date_from > date_to:
            errors["date_to"] = ["The range cannot end before it starts."]
        if date_from and date_from > today:
            errors["date_from"] = ["The range cannot start in the future."]
        if not datasets or set(datasets) - set(Dataset.values):
            errors["datasets"] = [f"Choose one or more of: {', '.join(Dataset.values)}."]
        if not isinstance(k, int) or k < MIN_K or k > MAX_K:
            errors["k"] = [f"k must be a whole number from {MIN_K} to {MAX_K} (default {DEFAULT_K})."]
        if errors:
            raise InvalidInput("Check the export's parameters.", details=errors)
    except DomainError as error:
        raise _refuse(actor=actor, channel=channel, agreement=agreement, error=error) from None
    with transaction.atomic():
        export = ResearchExport.objects.create(
            agreement=agreement,
            created_by=actor,
            title=title[:200],
            community_slugs=slugs,
            date_from=date_from,
            date_to=date_to,
            datasets=sorted(set(datasets)),
            k=k,
        )
        export.tenants.set(tenant_ids)
        export.conditions.set(chosen_conditions)
        audit(action="export_defined", channel=channel, actor=actor, export=export, parameters=_parameters(export))
        transaction.on_commit(lambda: _enqueue(export.pk))
    return export


def _enqueue(export_id: int) -> None:
    # cycle: research.services -> research.tasks -> research.services
    from research.tasks import run_export_task  # noqa: PLC0415

    run_export_task.delay(export_id)


def _parameters(export: ResearchExport) -> dict[str, Any]:
    return {
        "tenants": sorted(export.tenants.values_list("slug", flat=True)),
        "communities": list(export.community_slugs),
        "conditions": sorted(export.conditions.values_list("mesh_id", flat=True)),
        "date_from": export.date_from.isoformat() if export.date_from else None,
        "date_to": export.date_to.isoformat() if export.date_to else None,
        "datasets": list(export.datasets),
        "k": export.k,
    }


# --- pseudonyms ---------------------------------------------------------------------------------


def agreement_secret(agreement: PartnershipAgreement) -> bytes:
    key, _ = AgreementKey.objects.get_or_create(
        agreement=agreement, defaults={"encrypted_secret": vault.new_encrypted_secret()}
    )
    return vault.decrypt_secret(bytes(key.encrypted_secret))


# --- running an export --------------------------------------------------------------------------


def _progress(export_id: int, percent: int, note: str) -> None:
    ResearchExport.objects.filter(pk=export_id).update(progress=percent, progress_note=note[:200])


def _csv_bytes(header: list[str], rows: list[list[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["'" + v if isinstance(v, str) and v[:1] in ("=", "+", "-", "@") else v for v in row])
    return out.getvalue().encode("utf-8")


def _taxonomy() -> tuple[dict[int, Condition], dict[int, str], dict[int, str]]:
    """(conditions by id, id → top-level ancestor's MeSH id, id → category code)."""
    conditions = {c.pk: c for c in Condition.objects.all()}
    roots: dict[int, str] = {}
    for pk, condition in conditions.items():
        node, seen = condition, set()
        while node.parent_id and node.parent_id in conditions and node.pk not in seen:
            seen.add(node.pk)
            node = conditions[node.parent_id]
        roots[pk] = node.mesh_id
    categories = {pk: (c.category_code or roots[pk]) for pk, c in conditions.items()}
    return conditions, roots, categories


def _age(birth_year: int | None, at: datetime.datetime) -> int | None:
    return None if birth_year is None else at.year - birth_year


def build_export(*, export_id: int) -> ResearchExport:
    """Run one export (safe to run twice: a ready export is left alone; a half-done run starts over and,
    since consent is judged at the moment fixed on its first start, produces the same files)."""
    with transaction.atomic():
        export = ResearchExport.objects.select_for_update().select_related("agreement__partner").get(pk=export_id)
        if export.status == ExportStatus.READY:
            return export
        if export.consent_at is None:
            export.consent_at = timezone.now()
        export.status = ExportStatus.RUNNING
        export.save(update_fields=["consent_at", "status"])
    audit(action="export_started", channel="worker", export=export)
    try:
        result = _produce(export)
    except Exception as exc:
        logger.exception("research export %s failed", export.public_id)
        ResearchExport.objects.filter(pk=export.pk).update(status=ExportStatus.FAILED, error=str(exc)[:300])
        audit(action="export_failed", channel="worker", export=export, error=str(exc)[:300])
        raise
    export.refresh_from_db()
    audit(action="export_ready", channel="worker", export=export, counts=result["counts"])
    return export


def _produce(export: ResearchExport) -> dict[str, Any]:
    assert export.consent_at is not None
    at = export.consent_at
    agreement = export.agreement
    secret = agreement_secret(agreement)
    tenants = list(export.tenants.order_by("slug"))
    datasets = set(export.datasets)
    _progress(export.pk, 5, "Passing the consent gate")

    # Candidates: every member of the chosen tenants; the gate keeps those consenting at ``at`` (the run's
    # fixed moment) and still consenting now (a re-run after a withdrawal leaves the member out).
    candidates: set[int] = set()
    for tenant in tenants:
        candidates |= set(members_of(tenant=tenant).values_list("member_id", flat=True))
    now = timezone.now()
    moments = [at, now] if now > at else [at]
    consenting = export_consenting_members(candidate_ids=candidates, moments=moments)
    excluded: Counter[str] = Counter()
    excluded["no_current_consent"] = len(candidates) - len(consenting)
    if export.consent_also_at is not None:
        # A pull that also asked for an earlier moment: consenting now AND then.
        also = export_consenting_members(candidate_ids=set(consenting), moments=[export.consent_also_at])
        excluded["no_consent_at_requested_moment"] = len(consenting) - len(also)
        consenting = {pk: consenting[pk] for pk in also}

    in_scope = set(consenting)
    if export.community_slugs:
        active: set[int] = set()
        for tenant in tenants:
            with tenant_context(tenant):
                active |= community_selectors.active_community_member_ids(
                    member_ids=sorted(in_scope), community_slugs=export.community_slugs
                )
        excluded["outside_communities"] = len(in_scope - active)
        in_scope &= active

    conditions, roots, categories = _taxonomy()
    chosen_conditions = set(export.conditions.values_list("pk", flat=True))
    allowed_conditions = (
        (descendant_ids(condition_ids=chosen_conditions) | chosen_conditions) if chosen_conditions else None
    )
    member_conditions: dict[int, set[int]] = {}
    gate = members_consenting_to(RESEARCH_PURPOSE, at=at).filter(pk__in=in_scope)
    for member_id, condition_id in gate.values_list("pk", "conditions"):
        if condition_id is not None:
            member_conditions.setdefault(member_id, set()).add(condition_id)
    if allowed_conditions is not None:
        with_condition = {m for m in in_scope if member_conditions.get(m, set()) & allowed_conditions}
        excluded["outside_conditions"] = len(in_scope - with_condition)
        in_scope = with_condition
        member_conditions = {m: ids & allowed_conditions for m, ids in member_conditions.items()}
    _progress(export.pk, 20, "Generalizing quasi-identifiers")

    people = []
    for member_id in sorted(in_scope):
        attributes = consenting[member_id]
        ids = sorted(member_conditions.get(member_id, set()))
        people.append(
            kanon.Person(
                member_id=member_id,
                age=_age(attributes["birth_year"], at),
                sex=attributes["sex"] or "",
                country=str(attributes["country"] or ""),
                region=attributes["region"] or "",
                role=attributes["role"] or "",
                conditions=tuple(conditions[i].mesh_id for i in ids),
                roots=tuple(sorted({roots[i] for i in ids})),
                categories=tuple(sorted({categories[i] for i in ids})),
            )
        )
    result = kanon.anonymize(people, k=export.k)
    excluded["k_anonymity_suppressed"] = len(result.suppressed)
    released = result.released

    # Posts of released members only (a suppressed member's posts are dropped with them).
    since = (
        datetime.datetime.combine(export.date_from, datetime.time.min, tzinfo=datetime.UTC)
        if export.date_from
        else None
    )
    until = (
        datetime.datetime.combine(export.date_to + datetime.timedelta(days=1), datetime.time.min, tzinfo=datetime.UTC)
        if export.date_to
        else None
    )
    member_pseudonym = {m: vault.pseudonym(secret, "member", str(consenting[m]["public_id"])) for m in released}
    post_rows: list[list[Any]] = []
    post_counts: Counter[int] = Counter()
    reactions_received: Counter[int] = Counter()
    dropped_posts = 0
    wants_posts = bool(datasets & {Dataset.POST_TEXTS, Dataset.ACTIVITY_COUNTS, Dataset.TAGS})
    for index, tenant in enumerate(tenants):
        _progress(export.pk, 30 + 50 * index // max(1, len(tenants)), f"Reading and scrubbing posts of {tenant.slug}")
        with tenant_context(tenant):
            posts = community_selectors.research_posts(
                author_ids=sorted(in_scope),
                community_slugs=export.community_slugs,
                since=since,
                until=until,
            )
        for post in posts:
            if post.author_id not in released:
                dropped_posts += 1
                continue
            post_counts[post.author_id] += 1
            reactions = post.helpful_count + post.same_here_count + post.support_count
            reactions_received[post.author_id] += reactions
            if not wants_posts:
                continue
            row: list[Any] = [
                vault.pseudonym(secret, "post", f"{tenant.schema_name}:{post.post_id}"),
                member_pseudonym[post.author_id],
                tenant.slug,
                post.community_slug,
                vault.pseudonym(secret, "topic", f"{tenant.schema_name}:{post.topic_id}"),
                "1" if post.is_opening else "0",
                f"{post.created_at:%Y-%m}",
            ]
            if Dataset.POST_TEXTS in datasets:
                row += [scrub_text(post.title), scrub_text(post.body_markdown)]
            if Dataset.ACTIVITY_COUNTS in datasets:
                row += [post.helpful_count, post.same_here_count, post.support_count]
            if Dataset.TAGS in datasets:
                row += [";".join(post.tags)]
            post_rows.append(row)
    _progress(export.pk, 85, "Writing encrypted files")

    member_header = ["member_id"]
    if Dataset.MEMBER_ATTRIBUTES in datasets:
        member_header += list(kanon.QUASI_IDENTIFIERS)
    if Dataset.ACTIVITY_COUNTS in datasets:
        member_header += ["post_count", "reactions_received"]
    member_rows = []
    for member_id in sorted(released, key=lambda m: member_pseudonym[m]):
        member_row: list[Any] = [member_pseudonym[member_id]]
        if Dataset.MEMBER_ATTRIBUTES in datasets:
            member_row += [released[member_id][name] for name in kanon.QUASI_IDENTIFIERS]
        if Dataset.ACTIVITY_COUNTS in datasets:
            member_row += [post_counts[member_id], reactions_received[member_id]]
        member_rows.append(member_row)
    post_header = ["post_id", "member_id", "tenant", "community", "topic_id", "is_opening", "created_month"]
    if Dataset.POST_TEXTS in datasets:
        post_header += ["title", "text"]
    if Dataset.ACTIVITY_COUNTS in datasets:
        post_header += ["helpful", "same_here", "support"]
    if Dataset.TAGS in datasets:
        post_header += ["tags"]
    post_rows.sort(key=lambda r: (r[6], r[0]))

    dictionary = _data_dictionary(member_header=member_header, post_header=post_header, level=result)
    contents: dict[str, bytes] = {
        "members.csv": _csv_bytes(member_header, member_rows),
        "posts.csv": _csv_bytes(post_header, post_rows),
        "data_dictionary.json": json.dumps(dictionary, indent=2, sort_keys=True).encode(),
        "data_dictionary.html": render_to_string(
            "research/data_dictionary.html", {"dictionary": dictionary, "export": export}
        ).encode(),
    }
    policy = current_policy(at)
    versions = Counter(decision_versions(purpose=RESEARCH_PURPOSE, member_ids=sorted(released), at=at).values())
    counts = {
        "members": {
            "candidates": len(candidates),
            "included": len(released),
            "excluded": dict(sorted(excluded.items())),
        },
        "posts": {"included": len(post_rows), "excluded_suppressed_members": dropped_posts},
    }
    manifest = {
        "export": str(export.public_id),
        "title": export.title,
        "agreement": {
            "id": str(agreement.public_id),
            "partner": agreement.partner.name,
            "kind": agreement.kind,
            "starts_on": agreement.starts_on.isoformat(),
            "ends_on": agreement.ends_on.isoformat() if agreement.ends_on else None,
        },
        "kind": export.kind,
        "parameters": _parameters(export),
        "consent": {
            "purpose": RESEARCH_PURPOSE,
            "judged_at": at.isoformat(),
            "also_granted_at": export.consent_also_at.isoformat() if export.consent_also_at else None,
            "withdrawals_before_a_rerun": "honoured (the gate is passed again at every run)",
            "policy_version_in_effect": policy.version if policy else None,
            "granted_under_versions": {str(v): n for v, n in sorted(versions.items())},
        },
        "counts": counts,
        "k": export.k,
        "k_anonymity": {
            "quasi_identifiers": list(kanon.QUASI_IDENTIFIERS),
            "generalization_level": result.level,
            "generalization": result.description,
            "suppressed_members": len(result.suppressed),
            "suppressed_members_posts": "dropped",
        },
        "pseudonyms": "HMAC-SHA256 under a secret of this agreement (stable across its exports only)",
        "free_text": "research.deidentify.scrub_text (typed placeholders)",
        "dates": "posts: month only",
        "software": {"name": "kindred", "version": _software_version()},
        "files": {
            name: {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)} for name, data in contents.items()
        },
    }
    contents["manifest.json"] = json.dumps(manifest, indent=2, sort_keys=True).encode()

    folder = Path(settings.KINDRED_RESEARCH_DIR) / str(export.public_id)
    folder.mkdir(parents=True, exist_ok=True)
    written: list[ExportFile] = []
    for name, data in contents.items():
        path = folder / f"{name}.enc"
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(vault.encrypt_file_bytes(data))
        tmp.chmod(0o600)
        tmp.replace(path)
        written.append(
            ExportFile(
                export=export, name=name, path=str(path), size=len(data), sha256=hashlib.sha256(data).hexdigest()
            )
        )
    with transaction.atomic():
        ExportFile.objects.filter(export=export).delete()
        ExportFile.objects.bulk_create(written)
        ReleaseInclusion.objects.filter(export=export).delete()
        ReleaseInclusion.objects.bulk_create(
            [ReleaseInclusion(export=export, member_id=m, posts=post_counts[m]) for m in sorted(released)]
        )
        ResearchExport.objects.filter(pk=export.pk).update(
            status=ExportStatus.READY,
            progress=100,
            progress_note="Ready",
            manifest=manifest,
            error="",
            finished_at=timezone.now(),
        )
    return {"counts": counts}


def _software_version() -> str:
    try:
        return metadata.version("kindred")
    except metadata.PackageNotFoundError:
        return "unknown"


COLUMN_DOCS: dict[str, tuple[str, str]] = {
    "member_id": ("string", "Pseudonymous member id: HMAC-SHA256 under this agreement's secret (20 hex)."),
    "age_band": ("string", "Age at the consent moment, as a 10- or 20-year band ('90+', 'unknown', '*' suppressed)."),
    "sex": ("string", "female, male, unknown, or * (suppressed by generalization)."),
    "region": ("string", "Country (ISO 3166-1) and, at level 0, region; 'unknown'; '*' suppressed."),
    "conditions": ("string", "Semicolon-separated MeSH ids, top-level ancestors or categories (by level); 'none'."),
    "role": ("string", "patient, caregiver, other, unknown, or * (suppressed)."),
    "post_count": ("integer", "Posts by this member in this release."),
    "reactions_received": ("integer", "Reactions received on those posts."),
    "post_id": ("string", "Pseudonymous post id (HMAC under this agreement's secret)."),
    "tenant": ("string", "Partner site (tenant slug)."),
    "community": ("string", "Community slug within the tenant."),
    "topic_id": ("string", "Pseudonymous topic id (posts of one topic share it)."),
    "is_opening": ("0/1", "1 for the post that opened its topic."),
    "created_month": ("YYYY-MM", "Month the post was written (days and times are not released)."),
    "title": ("string", "Topic title (opening posts only), scrubbed: identifiers become [NAME], [EMAIL], ..."),
    "text": ("string", "Post text (Markdown), scrubbed: identifiers become typed placeholders."),
    "helpful": ("integer", "'Helpful' reactions."),
    "same_here": ("integer", "'Same here' reactions."),
    "support": ("integer", "'Support' reactions."),
    "tags": ("string", "Semicolon-separated curated tags of the topic."),
}


def _data_dictionary(*, member_header: list[str], post_header: list[str], level: kanon.Result) -> dict[str, Any]:
    def columns(header: list[str]) -> list[dict[str, str]]:
        return [{"name": n, "type": COLUMN_DOCS[n][0], "description": COLUMN_DOCS[n][1]} for n in header]

    return {
        "files": {
            "members.csv": {"description": "One row per included member.", "columns": columns(member_header)},
            "posts.csv": {"description": "One row per included post.", "columns": columns(post_header)},
        },
        "placeholders": [f"[{kind}]" for kind in PLACEHOLDERS],
        "generalization_levels": [description for description, _ in kanon.LEVELS],
        "generalization_used": level.description,
        "csv": "UTF-8, comma-separated, header row; a cell starting with = + - @ is prefixed with ' (spreadsheets).",
    }


# --- downloads ----------------------------------------------------------------------------------


def issue_download_link(*, member: Any, export: ResearchExport, name: str, channel: str = "web") -> str:
    """A signed, expiring token for one file, for one of the agreement's recipients only."""
    if not is_recipient(member, export.agreement):
        audit(action="link_refused", channel=channel, actor=member, export=export, file=name)
        raise NotFound("No such release.", code="not_found")
    file = export.files.filter(name=name).first()
    if export.status != ExportStatus.READY or file is None:
        raise NotFound("This file is not ready.", code="not_ready")
    audit(action="link_issued", channel=channel, actor=member, export=export, file=name)
    return signing.dumps({"f": file.pk, "m": member.pk}, salt=DOWNLOAD_SALT)


def open_download(*, member: Any, token: str) -> tuple[ExportFile, bytes]:
    """The decrypted file a link names, for the recipient it was issued to, before it expires. Logged."""
    try:
        data = signing.loads(token, salt=DOWNLOAD_SALT, max_age=settings.KINDRED_RESEARCH_LINK_TTL)
    except signing.SignatureExpired as exc:
        audit(action="download_refused", channel="web", actor=member, reason="expired")
        raise LinkExpired("This download link has expired. Ask for a new one.") from exc
    except signing.BadSignature as exc:
        audit(action="download_refused", channel="web", actor=member, reason="invalid")
        raise NotFound("This download link is not valid.", code="link_invalid") from exc
    file = ExportFile.objects.select_related("export__agreement").filter(pk=data.get("f")).first()
    export = file.export if file is not None else None
    if (
        file is None
        or export is None
        or data.get("m") != getattr(member, "pk", None)
        or not is_recipient(member, export.agreement)
    ):
        audit(action="download_refused", channel="web", actor=member, export=export, reason="not a recipient")
        raise NotFound("This download link is not valid.", code="link_invalid")
    content = vault.decrypt_file_bytes(Path(file.path).read_bytes())
    audit(action="downloaded", channel="web", actor=member, export=export, file=file.name, sha256=file.sha256)
    return file, content


# --- members ------------------------------------------------------------------------------------


def forget_member(*, member: Any) -> None:
    """Erasure: the member's inclusion rows go (the releases' counts stay in their manifests)."""
    ReleaseInclusion.objects.filter(member_id=member.pk).delete()
