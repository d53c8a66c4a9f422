"""Writes for trials (public schema): imports, saved trials, alerts and notices.

Notices: trials are public and members are public, so what a member is told about trials is a public
``TrialNotice`` row (not a tenant's ``communities.Notification``): it shows on the member's trials page
on every host and is emailed once by a Celery task. The unique (member, trial, kind, key) constraint
makes creating them idempotent: an import or sync that runs twice tells nobody twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from conditions.selectors import descendant_ids
from core.errors import DomainError, InvalidInput, NotAllowed
from members.models import Member
from trials import emails
from trials.geo import Place, haversine_miles, resolve_place
from trials.importer import (
    BATCH_SIZE,
    ImportReport,
    expand_paths,
    iter_path_records,
    iter_payload_records,
    load_studies,
)
from trials.models import (
    OPEN_STATUSES,
    NoticeKind,
    OverallStatus,
    SavedTrial,
    Trial,
    TrialAlert,
    TrialCondition,
    TrialNotice,
    TrialSite,
)
from trials.selectors import DATA_VERSION_KEY, trials_data_version

MAX_ALERT_MILES = 3000


class TrialNotFound(DomainError):
    code = "not_found"
    http_status = 404


def _require_signed_in(member: Any) -> None:
    if not getattr(member, "is_authenticated", False) or not member.is_active:
        raise NotAllowed("Sign in first.", code="not_signed_in")


# ---------------------------------------------------------------------------------------------
# Import
# ---------------------------------------------------------------------------------------------


def import_paths(*, paths: Iterable[Path], batch_size: int = BATCH_SIZE) -> ImportReport:
    """Import study files, page files and directories of them; then tell members what changed."""
    files = expand_paths(paths)
    records = (record for path in files for record in iter_path_records(path))
    report = load_studies(records, batch_size=batch_size)
    record_trial_changes(report=report)
    return report


def import_payload(*, payload: Any, source: str) -> ImportReport:
    report = load_studies(iter_payload_records(payload, source=source))
    record_trial_changes(report=report)
    return report


def record_trial_changes(*, report: ImportReport) -> int:
    """Notices for savers of trials whose status changed and for alerts matching newly open trials;
    cached trial blocks are retired when anything was written."""
    if report.created or report.updated:
        # Now and again after commit: a page rendered in between must not keep the old rows cached.
        _retire_cached_trials()
        transaction.on_commit(_retire_cached_trials)
    created = notify_status_changes(changes=report.status_changes)
    created += notify_new_open_trials(trial_ids=report.newly_open)
    if created:
        # cycle: trials.services -> trials.tasks -> trials.services
        from trials.tasks import deliver_trial_notices_task  # noqa: PLC0415

        transaction.on_commit(deliver_trial_notices_task.delay)
    return created


def _retire_cached_trials() -> None:
    try:
        cache.incr(DATA_VERSION_KEY)
    except ValueError:  # not set yet (or evicted): any new value retires the old keys
        cache.set(DATA_VERSION_KEY, trials_data_version() + 1, timeout=None)


def notify_status_changes(*, changes: Iterable[tuple[int, str, str]]) -> int:
    changes = list(changes)
    if not changes:
        return 0
    by_trial = {trial_id: (old, new) for trial_id, old, new in changes}
    trials = Trial.objects.in_bulk(list(by_trial))
    notices = []
    for saved in SavedTrial.objects.filter(trial_id__in=list(by_trial)).select_related("member"):
        old, new = by_trial[saved.trial_id]
        trial = trials[saved.trial_id]
        labels = {s.value: s.label for s in OverallStatus}
        notices.append(
            TrialNotice(
                member_id=saved.member_id,
                trial_id=trial.pk,
                kind=NoticeKind.STATUS_CHANGED,
                key=f"{old}>{new}@{trial.last_update_posted.isoformat()}"[:120],
                message=f"{trial.nct_id} is now {labels.get(new, new).lower()} (was {labels.get(old, old).lower()}): "
                f"{trial.brief_title}"[:400],
            )
        )
    made = TrialNotice.objects.bulk_create(notices, ignore_conflicts=True)
    return len(made)


def notify_new_open_trials(*, trial_ids: Iterable[int]) -> int:
    """Alerts: a new recruiting trial for the member's conditions with a site within their distance."""
    trial_ids = list(trial_ids)
    alerts = list(TrialAlert.objects.filter(active=True).select_related("member"))
    if not trial_ids or not alerts:
        return 0
    links: dict[int, set[int]] = {}
    for trial_id, condition_id in TrialCondition.objects.filter(trial_id__in=trial_ids).values_list(
        "trial_id", "condition_id"
    ):
        links.setdefault(trial_id, set()).add(condition_id)
    if not links:
        return 0
    sites: dict[int, list[tuple[float, float]]] = {}
    for trial_id, lat, lon in TrialSite.objects.filter(trial_id__in=list(links), lat__isnull=False).values_list(
        "trial_id", "lat", "lon"
    ):
        if lat is not None and lon is not None:
            sites.setdefault(trial_id, []).append((lat, lon))
    trials = Trial.objects.in_bulk(list(links))
    notices = []
    for alert in alerts:
        member = alert.member
        if not member.is_active:
            continue
        wanted = descendant_ids(condition_ids=member.conditions.values_list("pk", flat=True))
        for trial_id, condition_ids in links.items():
            trial = trials[trial_id]
            if not (condition_ids & wanted) or trial.overall_status not in OPEN_STATUSES:
                continue
            distances = [haversine_miles(alert.lat, alert.lon, lat, lon) for lat, lon in sites.get(trial_id, [])]
            if not distances or min(distances) > alert.distance_miles:
                continue
            notices.append(
                TrialNotice(
                    member_id=member.pk,
                    trial_id=trial_id,
                    kind=NoticeKind.NEW_TRIAL,
                    key="",
                    message=f"New trial {min(distances):.0f} miles from {alert.place}: {trial.nct_id} "
                    f"{trial.brief_title}"[:400],
                )
            )
    return len(TrialNotice.objects.bulk_create(notices, ignore_conflicts=True))


# ---------------------------------------------------------------------------------------------
# A member's trials
# ---------------------------------------------------------------------------------------------


def _trial(nct_id: str) -> Trial:
    trial = Trial.objects.filter(nct_id=(nct_id or "").strip().upper()).first()
    if trial is None:
        raise TrialNotFound("No such trial.")
    return trial


def save_trial(*, member: Member, nct_id: str) -> SavedTrial:
    _require_signed_in(member)
    trial = _trial(nct_id)
    saved, _ = SavedTrial.objects.get_or_create(member=member, trial=trial)
    return saved


def unsave_trial(*, member: Member, nct_id: str) -> bool:
    _require_signed_in(member)
    trial = _trial(nct_id)
    deleted, _ = SavedTrial.objects.filter(member=member, trial=trial).delete()
    return bool(deleted)


def set_trial_alert(*, member: Member, place: str, distance_miles: int, active: bool = True) -> TrialAlert:
    _require_signed_in(member)
    errors: dict[str, list[str]] = {}
    resolved: Place | None = resolve_place(place)
    if resolved is None:
        errors["place"] = ["We could not find that place: try a city, a postcode or 'latitude, longitude'."]
    if not isinstance(distance_miles, int) or not 1 <= distance_miles <= MAX_ALERT_MILES:
        errors["distance_miles"] = [f"Between 1 and {MAX_ALERT_MILES} miles."]
    if errors or resolved is None:
        raise InvalidInput("Please correct the highlighted fields.", details=errors)
    alert, _ = TrialAlert.objects.update_or_create(
        member=member,
        defaults={
            "place": resolved.label,
            "lat": resolved.lat,
            "lon": resolved.lon,
            "distance_miles": distance_miles,
            "active": active,
        },
    )
    return alert


def delete_trial_alert(*, member: Member) -> bool:
    _require_signed_in(member)
    deleted, _ = TrialAlert.objects.filter(member=member).delete()
    return bool(deleted)


def mark_notices_read(*, member: Member) -> int:
    _require_signed_in(member)
    return TrialNotice.objects.filter(member=member, read_at__isnull=True).update(read_at=timezone.now())


def deliver_trial_notices(*, limit: int = 500) -> int:
    """Email each not-yet-emailed notice once (rows locked and skipped by concurrent workers)."""
    sent = 0
    with transaction.atomic():
        notices = list(
            TrialNotice.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(emailed_at__isnull=True, member__is_active=True)
            .select_related("member", "trial")
            .order_by("id")[:limit]
        )
        for notice in notices:
            if notice.member.email_notifications != "off":
                emails.send_trial_notice(notice=notice)
                sent += 1
        TrialNotice.objects.filter(pk__in=[n.pk for n in notices]).update(emailed_at=timezone.now())
    return sent
