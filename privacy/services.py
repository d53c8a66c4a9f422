"""Writes for privacy: data exports, account erasure across every schema, the staff-access log."""

from __future__ import annotations

import datetime
import json
import logging
import uuid
import zipfile
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import connection, models, transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils import timezone

from core.errors import DomainError, InvalidInput, NotAllowed
from members.models import Member
from members.services import sign_out_everywhere
from privacy.models import DataExport, ErasureRequest, ErasureStatus, ExportStatus, StaffAccess
from privacy.registry import PersonalDataProvider, providers
from privacy.rendering import render_data
from privacy.selectors import remaining_member_references
from tenants.models import Tenant, TenantKind
from tenants.services import for_each_tenant

logger = logging.getLogger(__name__)

DOWNLOAD_SALT = "kindred.privacy.export-download"
ERASURE_STATUS_SALT = "kindred.privacy.erasure-status"


class Gone(DomainError):
    code = "gone"
    http_status = 410


class NotFound(DomainError):
    code = "not_found"
    http_status = 404


class MemberStillReferenced(DomainError):
    """A schema still holds rows naming the member after every provider ran (tenant schemas have no
    foreign-key constraint into public to stop that): the schema's erasure rolls back and fails."""

    code = "member_still_referenced"
    http_status = 500


def _check_nothing_left(member_id: int) -> None:
    left = remaining_member_references(member_id=member_id)
    if left:
        raise MemberStillReferenced(f"rows still name the member in {', '.join(left)}")


# --- helpers -----------------------------------------------------------------------------------


def exports_dir() -> Path:
    path = Path(settings.KINDRED_EXPORTS_DIR)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def jsonable(value: Any) -> Any:
    """Turn what a provider returned into plain JSON data (model rows become dicts of their columns)."""
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, QuerySet):
        return [jsonable(item) for item in value]
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(item) for item in value]
    if isinstance(value, models.Model):
        return {field.attname: jsonable(getattr(value, field.attname)) for field in value._meta.concrete_fields}
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _is_empty(value: Any) -> bool:
    if isinstance(value, dict):
        return all(_is_empty(item) for item in value.values())
    if isinstance(value, list):
        return not value
    return value in (None, "", 0)


def _tenants() -> list[Tenant]:
    return list(Tenant.objects.filter(kind=TenantKind.PARTNER).order_by("schema_name"))


# --- export ------------------------------------------------------------------------------------


def request_export(*, member: Member) -> DataExport:
    """Start a new export (one at a time: an export still being prepared is returned instead)."""
    if not member.is_authenticated or not member.is_active:
        raise NotAllowed("Sign in to download your data.")
    open_export = DataExport.objects.filter(
        member_id=member.pk, status__in=[ExportStatus.PENDING, ExportStatus.RUNNING]
    ).first()
    if open_export is not None:
        return open_export
    export = DataExport.objects.create(
        member=member, expires_at=timezone.now() + datetime.timedelta(seconds=settings.KINDRED_EXPORT_TTL)
    )
    # cycle: privacy.services -> privacy.tasks -> privacy.services
    from privacy.tasks import build_export_task  # noqa: PLC0415

    transaction.on_commit(lambda: build_export_task.delay(export.pk))
    return export


def collect_member_data(*, member_id: int, on_step: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Everything every provider holds for the member: {"public": {name: data}, "tenants": {slug: {...}}}."""
    public = providers(schema="public")
    tenant_providers = providers(schema="tenant")
    tenants = _tenants()
    total = len(public) + len(tenants) * len(tenant_providers) or 1
    done = 0

    def step() -> None:
        nonlocal done
        done += 1
        if on_step is not None:
            on_step(done, total)

    result: dict[str, Any] = {"public": {}, "tenants": {}}

    def per_tenant(tenant: Tenant) -> None:
        member = Member.objects.get(pk=member_id)  # re-fetched inside each tenant context
        sections: dict[str, Any] = {}
        for provider in tenant_providers:
            data = jsonable(provider.export(member))
            if not _is_empty(data):
                sections[provider.name] = data
            step()
        if sections:
            result["tenants"][tenant.slug] = {"name": tenant.name, "sections": sections}

    for_each_tenant(per_tenant)
    member = Member.objects.get(pk=member_id)
    for provider in public:
        result["public"][provider.name] = jsonable(provider.export(member))
        step()
    return result


def write_export_zip(*, data: dict[str, Any], path: Path, member_label: str) -> int:
    sections = [(name, render_data(value)) for name, value in data["public"].items()]
    tenant_sections = [
        (slug, tenant["name"], [(name, render_data(value)) for name, value in tenant["sections"].items()])
        for slug, tenant in data["tenants"].items()
    ]
    index = render_to_string(
        "privacy/export_index.html",
        {
            "member_label": member_label,
            "generated_at": timezone.now(),
            "sections": sections,
            "tenant_sections": tenant_sections,
        },
    )
    tmp = path.with_suffix(".part")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("index.html", index)
        for name, value in data["public"].items():
            archive.writestr(f"{name}.json", json.dumps(value, indent=2, ensure_ascii=False))
        for slug, tenant in data["tenants"].items():
            for name, value in tenant["sections"].items():
                archive.writestr(f"tenants/{slug}/{name}.json", json.dumps(value, indent=2, ensure_ascii=False))
    tmp.replace(path)
    path.chmod(0o600)
    return path.stat().st_size


def build_export(*, export_id: int) -> DataExport:
    """Build the ZIP (safe to run twice: a finished export is left alone)."""
    export = DataExport.objects.select_related("member").get(pk=export_id)
    if export.status in (ExportStatus.READY, ExportStatus.EXPIRED):
        return export
    DataExport.objects.filter(pk=export.pk).update(status=ExportStatus.RUNNING, progress=0)

    def on_step(done: int, total: int) -> None:
        DataExport.objects.filter(pk=export.pk).update(progress=min(99, done * 100 // total))

    try:
        data = collect_member_data(member_id=export.member_id, on_step=on_step)
        path = exports_dir() / f"{export.public_id}.zip"
        size = write_export_zip(data=data, path=path, member_label=export.member.email)
    except Exception as exc:
        logger.exception("export %s failed", export.public_id)
        DataExport.objects.filter(pk=export.pk).update(status=ExportStatus.FAILED, error=str(exc)[:300])
        raise
    DataExport.objects.filter(pk=export.pk).update(
        status=ExportStatus.READY, progress=100, file_path=str(path), file_size=size, finished_at=timezone.now()
    )
    export.refresh_from_db()
    return export


def make_download_token(*, export: DataExport) -> str:
    return signing.dumps({"x": str(export.public_id), "m": export.member_id}, salt=DOWNLOAD_SALT)


def open_download(*, member: Member, token: str) -> DataExport:
    """The export a signed link names, for the same signed-in member, if it has not expired."""
    try:
        data = signing.loads(token, salt=DOWNLOAD_SALT, max_age=settings.KINDRED_EXPORT_TTL)
    except signing.SignatureExpired as exc:
        raise Gone("This download link has expired. Prepare a new export.", code="export_expired") from exc
    except signing.BadSignature as exc:
        raise NotFound("This download link is not valid.", code="link_invalid") from exc
    if not member.is_authenticated or data.get("m") != member.pk:
        raise NotFound("This download link is not valid.", code="link_invalid")
    export = DataExport.objects.filter(public_id=data.get("x"), member_id=member.pk).first()
    if export is None:
        raise NotFound("This download link is not valid.", code="link_invalid")
    if export.status == ExportStatus.EXPIRED or export.expires_at <= timezone.now():
        expire_export(export=export)
        raise Gone("This download link has expired. Prepare a new export.", code="export_expired")
    if export.status != ExportStatus.READY or not Path(export.file_path).is_file():
        raise NotFound("This export is not ready yet.", code="export_not_ready")
    DataExport.objects.filter(pk=export.pk).update(downloaded_at=timezone.now())
    return export


def expire_export(*, export: DataExport) -> None:
    if export.file_path:
        Path(export.file_path).unlink(missing_ok=True)
    DataExport.objects.filter(pk=export.pk).update(status=ExportStatus.EXPIRED, file_path="", progress=0)


def purge_expired_exports(*, now: datetime.datetime | None = None) -> int:
    """Delete the files of expired exports (beat runs this hourly). Returns how many expired."""
    expired = DataExport.objects.filter(expires_at__lte=now or timezone.now()).exclude(status=ExportStatus.EXPIRED)
    count = 0
    for export in expired:
        expire_export(export=export)
        count += 1
    return count


# --- erasure -----------------------------------------------------------------------------------


def request_erasure(*, member: Member, password: str, keep_posts: bool) -> ErasureRequest:
    """The member confirms with their password; the account is closed now and erased by Celery."""
    if not member.is_authenticated or not member.is_active:
        raise NotAllowed("Sign in to delete your account.")
    if not member.check_password(password or ""):
        raise InvalidInput(
            "That password is not right.", code="wrong_password", details={"password": ["Enter your password."]}
        )

    with transaction.atomic():
        request = _open_request(member=member, keep_posts=keep_posts, requested_by=member)
        Member.objects.filter(pk=member.pk).update(is_active=False)
        sign_out_everywhere(member=member)
    # cycle: privacy.services -> privacy.tasks -> privacy.services
    from privacy.tasks import erase_member_task  # noqa: PLC0415

    transaction.on_commit(lambda: erase_member_task.delay(request.pk))
    return request


def request_erasure_for_member(*, staff: Member, member: Member, keep_posts: bool, reason: str) -> ErasureRequest:
    """Platform staff erase an account on the member's behalf (a request by letter or email): the
    account closes now, Celery erases it; who asked and why are kept on the erasure request."""
    if not staff.is_superuser:
        raise NotAllowed("Only platform superusers can erase someone else's account.")
    if staff.pk == member.pk:
        raise InvalidInput("Delete your own account from your privacy page.", code="own_account")
    reason = " ".join((reason or "").split())
    if len(reason) < 5:
        raise InvalidInput("Say why the account is erased.", details={"reason": ["Give a reason."]})
    identifying = [value.lower() for value in (member.email, member.display_name, str(member.public_id)) if value]
    if any(value in reason.lower() for value in identifying):
        # The reason outlives the account: it must not name the person it erases.
        raise InvalidInput(
            "Leave the member's name, email and id out of the reason.",
            details={"reason": ["The reason is kept after erasure: describe the request, not the person."]},
        )

    with transaction.atomic():
        request = _open_request(member=member, keep_posts=keep_posts, requested_by=staff)
        if not request.reason:
            ErasureRequest.objects.filter(pk=request.pk).update(reason=reason[:300])
            request.reason = reason[:300]
        Member.objects.filter(pk=member.pk).update(is_active=False)
        sign_out_everywhere(member=member)
    # cycle: privacy.services -> privacy.tasks -> privacy.services
    from privacy.tasks import erase_member_task  # noqa: PLC0415

    transaction.on_commit(lambda: erase_member_task.delay(request.pk))
    return request


def _open_request(*, member: Member, keep_posts: bool, requested_by: Member | None) -> ErasureRequest:
    existing = ErasureRequest.objects.filter(member_id=member.pk).exclude(status=ErasureStatus.DONE).first()
    if existing is not None:
        return existing
    return ErasureRequest.objects.create(
        member=member,
        keep_posts=keep_posts,
        requested_by=requested_by,
        requested_by_self=requested_by is not None and requested_by.pk == member.pk,
    )


def erase_member(*, member: Member, keep_posts: bool, requested_by: Member | None) -> ErasureRequest:
    """Erase the member everywhere now (staff tools, tests); resumes an unfinished request."""
    if requested_by is not None and requested_by.pk != member.pk and not requested_by.is_superuser:
        raise NotAllowed("Only the member or platform superusers can erase an account.")
    Member.objects.filter(pk=member.pk).update(is_active=False)
    request = _open_request(member=member, keep_posts=keep_posts, requested_by=requested_by)
    return run_erasure(request_id=request.pk)


def _set_schema_status(request_id: int, schema: str, value: str, progress: int) -> None:
    with transaction.atomic():
        request = ErasureRequest.objects.select_for_update().get(pk=request_id)
        request.schema_status = {**request.schema_status, schema: value}
        request.progress = progress
        request.save(update_fields=["schema_status", "progress"])


def _run_tenant(
    request: ErasureRequest, member_id: int, tenant_providers: list[PersonalDataProvider], total: int
) -> Any:
    def erase_here(tenant: Tenant) -> bool:
        if request.schema_status.get(tenant.schema_name) == "done":
            return True
        try:
            with transaction.atomic():
                member = Member.objects.get(pk=member_id)  # never reuse a Member across schemas
                for provider in tenant_providers:
                    provider.erase(member, request.keep_posts)
                _check_nothing_left(member_id)
        except Exception as exc:
            logger.exception("erasure %s failed in %s", request.pseudonym, tenant.schema_name)
            outcome, ok = f"failed: {type(exc).__name__}: {exc}"[:300], False
        else:
            outcome, ok = "done", True
        request.schema_status[tenant.schema_name] = outcome
        finished = sum(1 for value in request.schema_status.values() if value == "done")
        _set_schema_status(request.pk, tenant.schema_name, outcome, finished * 100 // total)
        return ok

    return erase_here


def run_erasure(*, request_id: int) -> ErasureRequest:
    """Erase in each tenant schema (each in its own transaction), then public, then the Member row.

    A schema that fails is recorded and the request stays FAILED: running again resumes, skipping
    the schemas already done. The Member row goes only once every schema has succeeded.
    """
    request = ErasureRequest.objects.get(pk=request_id)
    if request.status == ErasureStatus.DONE:
        return request
    member_id = request.member_id
    if member_id is None:  # the row is gone already (finished by an earlier run that crashed at the end)
        ErasureRequest.objects.filter(pk=request.pk).update(status=ErasureStatus.DONE, progress=100)
        request.refresh_from_db()
        return request
    ErasureRequest.objects.filter(pk=request.pk).update(status=ErasureStatus.RUNNING, attempts=request.attempts + 1)
    tenant_providers = providers(schema="tenant")
    total = len(_tenants()) + 1  # every tenant schema, then public
    outcomes = for_each_tenant(_run_tenant(request, member_id, tenant_providers, total))
    done = sum(1 for ok in outcomes.values() if ok)
    ErasureRequest.objects.filter(pk=request.pk).update(progress=done * 100 // total)
    if done < len(outcomes):
        ErasureRequest.objects.filter(pk=request.pk).update(status=ErasureStatus.FAILED)
        request.refresh_from_db()
        return request
    try:
        with transaction.atomic():
            member = Member.objects.get(pk=member_id)
            for provider in providers(schema="public"):
                provider.erase(member, request.keep_posts)
            ErasureRequest.objects.filter(member_id=member_id).update(member=None)
            ErasureRequest.objects.filter(requested_by_id=member_id).update(requested_by=None)
            _check_nothing_left(member_id)
            with connection.cursor() as cursor:
                # Check every foreign key now: a row anywhere still pointing at the member fails here.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                Member.objects.filter(pk=member_id)._raw_delete(using="default")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    except Exception as exc:
        logger.exception("erasure %s failed in public", request.pseudonym)
        _set_schema_status(request.pk, "public", f"failed: {type(exc).__name__}: {exc}"[:300], done * 100 // total)
        ErasureRequest.objects.filter(pk=request.pk).update(status=ErasureStatus.FAILED)
    else:
        request.refresh_from_db()
        request.schema_status = {**request.schema_status, "public": "done"}
        request.status = ErasureStatus.DONE
        request.progress = 100
        request.finished_at = timezone.now()
        request.save(update_fields=["schema_status", "status", "progress", "finished_at"])
    request.refresh_from_db()
    return request


def make_erasure_status_token(*, request: ErasureRequest) -> str:
    return signing.dumps({"p": str(request.pseudonym)}, salt=ERASURE_STATUS_SALT)


def erasure_for_status_token(*, token: str) -> ErasureRequest:
    try:
        data = signing.loads(token, salt=ERASURE_STATUS_SALT)
    except signing.BadSignature as exc:
        raise NotFound("This link is not valid.", code="link_invalid") from exc
    request = ErasureRequest.objects.filter(pseudonym=data.get("p")).first()
    if request is None:
        raise NotFound("This link is not valid.", code="link_invalid")
    return request


# --- staff access ------------------------------------------------------------------------------


def record_staff_access(*, staff: Member, member: Member, reason: str, what: str) -> StaffAccess:
    """Log (append-only) that ``staff`` read ``member``'s private data, and why."""
    reason = (reason or "").strip()
    if not staff.is_authenticated or not staff.is_active or not staff.is_staff:
        raise NotAllowed("Only platform staff can open a member's private data.")
    if len(reason) < 5:
        raise InvalidInput(
            "Say why you need to see this member's data.",
            code="reason_required",
            details={"reason": ["Give a reason of at least 5 characters."]},
        )
    return StaffAccess.objects.create(
        staff=staff,
        staff_name=(staff.display_name or staff.email)[:120],
        member=member,
        reason=reason[:300],
        what=what[:200],
    )
