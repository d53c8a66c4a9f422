"""What trials hold about a member (privacy registry): saved trials, the alert, the notices.
All of it is the member's own, so erasure deletes it; the trials themselves are public data."""

from __future__ import annotations

from typing import Any

from members.models import Member
from privacy.registry import register_personal_data
from trials.models import SavedTrial, TrialAlert, TrialNotice


def export_member_data(member: Member) -> dict[str, Any]:
    return {
        "saved_trials": [
            {"nct_id": nct_id, "saved_at": saved_at.isoformat()}
            for nct_id, saved_at in SavedTrial.objects.filter(member=member)
            .order_by("saved_at", "id")
            .values_list("trial__nct_id", "saved_at")
        ],
        "alert": [
            {
                "active": alert.active,
                "place": alert.place,
                "lat": alert.lat,
                "lon": alert.lon,
                "distance_miles": alert.distance_miles,
                "updated_at": alert.updated_at.isoformat(),
            }
            for alert in TrialAlert.objects.filter(member=member)
        ],
        "notices": [
            {
                "nct_id": notice.trial.nct_id,
                "kind": notice.kind,
                "message": notice.message,
                "created_at": notice.created_at.isoformat(),
                "read_at": notice.read_at.isoformat() if notice.read_at else None,
            }
            for notice in TrialNotice.objects.filter(member=member).select_related("trial").order_by("created_at")
        ],
    }


def erase_member_data(member: Member, keep_posts: bool) -> None:
    TrialNotice.objects.filter(member=member).delete()
    TrialAlert.objects.filter(member=member).delete()
    SavedTrial.objects.filter(member=member).delete()


def register() -> None:
    register_personal_data(
        name="trials",
        models=[SavedTrial, TrialAlert, TrialNotice],
        export=export_member_data,
        erase=erase_member_data,
        schema="public",
        order=60,
    )
