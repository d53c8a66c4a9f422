"""Providers for the platform's own public data (members, access, sessions, the admin log, privacy)
and, generically, for third-party models (Django admin, Wagtail) that reference Member.

Higher apps register their own providers (communities in ``communities/personal_data.py``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.db import models
from django.db.models import Q

from access.models import MemberGroup, MemberPermission
from members.models import HandoffNonce, Member, PlatformSuspension, RoleChange, TenantInvitation, TenantMembership
from privacy.models import DataExport, ErasureRequest, StaffAccess
from privacy.registry import member_referencing_fields, register_personal_data

FORMER_MEMBER = "A former member"


# --- members ----------------------------------------------------------------------------------


def export_member(member: Member) -> dict[str, Any]:
    memberships = TenantMembership.objects.filter(member_id=member.pk).select_related("tenant").order_by("joined_at")
    role_changes = RoleChange.objects.filter(membership_member_id=member.pk).select_related("tenant")
    return {
        "profile": {
            "public_id": str(member.public_id),
            "email": member.email,
            "display_name": member.display_name,
            "role": member.role,
            "conditions": sorted(member.conditions.values_list("name", flat=True)),
            "birth_year": member.birth_year,
            "country": str(member.country or ""),
            "region": member.region,
            "date_joined": member.date_joined,
            "email_verified_at": member.email_verified_at,
            "last_login": member.last_login,
        },
        "privacy_settings": {
            "show_conditions": member.show_conditions,
            "show_location": member.show_location,
            "show_role": member.show_role,
            "listed_in_member_lists": member.listed_in_member_lists,
            "email_notifications": member.email_notifications,
        },
        "memberships": [
            {
                "tenant": m.tenant.slug,
                "tenant_name": m.tenant.name,
                "role": m.role,
                "display_name_here": m.display_name,
                "joined_at": m.joined_at,
            }
            for m in memberships
        ],
        "role_changes": [
            {
                "tenant": change.tenant.slug,
                "old_role": change.old_role,
                "new_role": change.new_role,
                "changed_by_self": change.changed_by_id == member.pk,
                "reason": change.reason,
                "changed_at": change.changed_at,
            }
            for change in role_changes
        ],
        "platform_suspensions": [
            {"reason": s.reason, "starts_at": s.starts_at, "ends_at": s.ends_at, "lifted_at": s.lifted_at}
            for s in PlatformSuspension.objects.filter(member_id=member.pk).order_by("starts_at")
        ],
        "sign_in_handoffs": HandoffNonce.objects.filter(member_id=member.pk).count(),
        "tenant_invitations": list(
            TenantInvitation.objects.filter(Q(email__iexact=member.email) | Q(accepted_by_id=member.pk)).values(
                "tenant__name", "role", "created_at", "accepted_at"
            )
        ),
    }


def _sessions_of(member: Member) -> list[str]:
    keys = []
    for session in Session.objects.all().iterator():
        if str(session.get_decoded().get("_auth_user_id", "")) == str(member.pk):
            keys.append(session.session_key)
    return keys


def erase_member_rows(member: Member, keep_posts: bool) -> None:
    """Identity and profile: memberships, role history, hand-offs, sessions, conditions.

    The Member row is deleted by the erasure service after every provider has run."""
    Session.objects.filter(session_key__in=_sessions_of(member)).delete()
    HandoffNonce.objects.filter(member_id=member.pk).delete()
    # Invitations sent to the address or used by the account go; those the member sent stay, unsigned.
    TenantInvitation.objects.filter(Q(email__iexact=member.email) | Q(accepted_by_id=member.pk)).delete()
    TenantInvitation.objects.filter(invited_by_id=member.pk).update(invited_by=None)
    RoleChange.objects.filter(membership_member_id=member.pk).delete()
    RoleChange.objects.filter(changed_by_id=member.pk).update(changed_by=None)
    PlatformSuspension.objects.filter(member_id=member.pk).delete()
    PlatformSuspension.objects.filter(created_by_id=member.pk).update(created_by=None)
    PlatformSuspension.objects.filter(lifted_by_id=member.pk).update(lifted_by=None)
    TenantMembership.objects.filter(member_id=member.pk).delete()
    member.conditions.clear()


# --- privacy's own rows -----------------------------------------------------------------------


def export_privacy(member: Member) -> dict[str, Any]:
    return {
        "staff_access": [
            {"staff": a.staff_name, "reason": a.reason, "what": a.what, "accessed_at": a.accessed_at}
            for a in StaffAccess.objects.filter(member_id=member.pk)
        ],
        "exports": [
            {"id": str(e.public_id), "status": e.status, "created_at": e.created_at, "expires_at": e.expires_at}
            for e in DataExport.objects.filter(member_id=member.pk)
        ],
    }


def erase_privacy(member: Member, keep_posts: bool) -> None:
    for export in DataExport.objects.filter(member_id=member.pk):
        if export.file_path:
            Path(export.file_path).unlink(missing_ok=True)
    DataExport.objects.filter(member_id=member.pk).delete()
    StaffAccess.objects.filter(member_id=member.pk).delete()
    StaffAccess.objects.filter(staff_id=member.pk).update(staff=None, staff_name="A former staff member")
    # The request itself is detached by the erasure service, last, once the Member row is deleted.
    ErasureRequest.objects.filter(requested_by_id=member.pk).exclude(member_id=member.pk).update(requested_by=None)


# --- the Django admin log (public) ------------------------------------------------------------


def _admin_log_model() -> type[models.Model] | None:
    try:
        return apps.get_model("admin", "LogEntry")
    except LookupError:
        return None


def export_admin_log(member: Member) -> list[dict[str, Any]]:
    LogEntry = _admin_log_model()
    if LogEntry is None:
        return []
    return [
        {"action_time": e.action_time, "object": e.object_repr, "action_flag": e.action_flag}  # type: ignore[attr-defined]
        for e in LogEntry._default_manager.filter(user_id=member.pk)
    ]


def erase_admin_log(member: Member, keep_posts: bool) -> None:
    """The member's own admin actions, and every admin log line about the member's account."""
    LogEntry = _admin_log_model()
    if LogEntry is None:
        return

    LogEntry._default_manager.filter(user_id=member.pk).delete()
    LogEntry._default_manager.filter(
        content_type=ContentType.objects.get_for_model(Member), object_id=str(member.pk)
    ).delete()


# --- access (groups/permissions per schema) and third-party models --------------------------


def _is_third_party(model: type[models.Model]) -> bool:
    # Installed packages (Django, Wagtail...) live under the interpreter's prefix, which may itself
    # be inside the project folder (make's .venv): that is checked first.
    app_path = Path(model._meta.app_config.path).resolve()
    for prefix in {sys.prefix, sys.base_prefix}:
        if app_path.is_relative_to(Path(prefix).resolve()):
            return True
    return not app_path.is_relative_to(Path(settings.BASE_DIR).resolve())


def _schema_of(model: type[models.Model]) -> str:
    app_config = model._meta.app_config
    assert app_config is not None
    shared = any(entry == app_config.name or entry.endswith("." + app_config.label) for entry in settings.SHARED_APPS)
    return "public" if shared else "tenant"


def library_models(*, schema: str) -> list[type[models.Model]]:
    """Third-party models in ``schema`` that reference Member (Wagtail's, Django admin's...)."""
    found = []
    for model in apps.get_models():
        if model._meta.proxy or not _is_third_party(model) or not member_referencing_fields(model):
            continue
        if _schema_of(model) == schema:
            found.append(model)
    return found


def generic_export(model_list: list[type[models.Model]]) -> Any:
    def export(member: Member) -> list[dict[str, Any]]:
        rows = []
        for model in model_list:
            for field in member_referencing_fields(model):
                ids = list(model._default_manager.filter(**{field.name: member.pk}).values_list("pk", flat=True))
                if ids:
                    rows.append({"model": model._meta.label, "field": field.name, "row_ids": ids})
        return rows

    return export


def _delete_log_lines_about(model: type[models.Model], member: Member) -> None:
    """Audit logs of libraries (Wagtail's ModelLogEntry...) name their subject in a label: lines whose
    subject is the member's account go. Content types are matched by name: ids differ per schema."""
    names = {field.name for field in model._meta.concrete_fields}
    if {"content_type", "object_id"} <= names:
        model._default_manager.filter(
            content_type__app_label=Member._meta.app_label,
            content_type__model=Member._meta.model_name,
            object_id=str(member.pk),
        ).delete()


def generic_erase(model_list: list[type[models.Model]]) -> Any:
    """Nullable references are cleared; rows that cannot exist without the member are deleted."""

    def erase(member: Member, keep_posts: bool) -> None:
        for model in model_list:
            _delete_log_lines_about(model, member)
            for field in member_referencing_fields(model):
                rows = model._default_manager.filter(**{field.name: member.pk})
                if field.null:
                    rows.update(**{field.name: None})
                else:
                    rows.delete()

    return erase


def register_platform_providers() -> None:
    register_personal_data(
        name="privacy",
        models=[DataExport, StaffAccess, ErasureRequest],
        export=export_privacy,
        erase=erase_privacy,
        schema="public",
        order=80,
    )
    access_models: list[type[models.Model]] = [MemberGroup, MemberPermission]
    for schema in ("public", "tenant"):
        register_personal_data(
            name="access",
            models=access_models,
            export=generic_export(access_models),
            erase=generic_erase(access_models),
            schema=schema,
            order=90,
        )
    log_model = _admin_log_model()
    register_personal_data(
        name="admin-log",
        models=[log_model] if log_model else [],
        export=export_admin_log,
        erase=erase_admin_log,
        schema="public",
        order=90,
    )
    for schema in ("public", "tenant"):
        third_party = [m for m in library_models(schema=schema) if m is not log_model]
        if third_party:
            register_personal_data(
                name="third-party",
                models=third_party,
                export=generic_export(third_party),
                erase=generic_erase(third_party),
                schema=schema,  # type: ignore[arg-type]
                order=95,
            )
    register_personal_data(
        name="account",
        models=[Member, TenantMembership, RoleChange, HandoffNonce, TenantInvitation, Session, PlatformSuspension],
        export=export_member,
        erase=erase_member_rows,
        schema="public",
        order=1000,
    )
