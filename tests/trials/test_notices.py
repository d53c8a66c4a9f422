"""Saved-trial status changes and new-trial alerts: who is told, once, and by email."""

from __future__ import annotations

import json

import pytest
from django.core import mail

from conditions.models import Condition
from tests.factories import MemberFactory
from tests.trials.conftest import OWN_FIXTURES
from trials.models import NoticeKind, Trial, TrialNotice
from trials.services import deliver_trial_notices, import_paths, import_payload, save_trial, set_trial_alert

pytestmark = pytest.mark.django_db


def record(name="own-ms-recruiting.json", **status):
    data = json.loads((OWN_FIXTURES / name).read_text())
    module = data["protocolSection"]["statusModule"]
    if "overall" in status:
        module["overallStatus"] = status["overall"]
    if "date" in status:
        module["lastUpdatePostDateStruct"]["date"] = status["date"]
    if "nct" in status:
        data["protocolSection"]["identificationModule"]["nctId"] = status["nct"]
    return data


def test_savers_hear_of_a_status_change_once_by_email(settings):
    import_paths(paths=[OWN_FIXTURES])
    alice, bob, carol = MemberFactory(), MemberFactory(), MemberFactory(email_notifications="off")
    for member in (alice, bob, carol):
        save_trial(member=member, nct_id="NCT90000001")
    save_trial(member=bob, nct_id="NCT90000002")
    mail.outbox.clear()

    import_payload(payload=record(overall="COMPLETED", date="2025-06-01"), source="update")
    notices = TrialNotice.objects.order_by("member_id")
    assert [(n.member_id, n.kind, n.key) for n in notices] == [
        (m.pk, NoticeKind.STATUS_CHANGED, "RECRUITING>COMPLETED@2025-06-01") for m in (alice, bob, carol)
    ]
    assert notices[0].message == "NCT90000001 is now completed (was recruiting): Remyelination Drug in Relapsing MS"
    # What the Celery task enqueued on commit runs (the next test lets it run through on_commit).
    sent = deliver_trial_notices()
    assert sent == 2  # carol turned emails off: shown on her page, not emailed
    assert sorted(m.to[0] for m in mail.outbox) == sorted([alice.email, bob.email])
    assert "https://clinicaltrials.gov/study/NCT90000001" in mail.outbox[0].body
    assert deliver_trial_notices() == 0  # each notice once
    assert not TrialNotice.objects.filter(emailed_at__isnull=True).exists()

    # The same update again (a re-run sync, a re-import) tells nobody again.
    import_payload(payload=record(overall="COMPLETED", date="2025-06-01"), source="again")
    assert TrialNotice.objects.count() == 3
    # A newer version with the same status is not a status change either.
    import_payload(payload=record(overall="COMPLETED", date="2025-07-01"), source="newer")
    assert TrialNotice.objects.count() == 3
    # Reopening is.
    import_payload(payload=record(overall="RECRUITING", date="2025-08-01"), source="reopen")
    assert TrialNotice.objects.filter(key="COMPLETED>RECRUITING@2025-08-01").count() == 3


def test_new_recruiting_trials_within_the_chosen_distance(django_capture_on_commit_callbacks):
    ms = Condition.objects.get(mesh_id="D009103")
    near_boston, in_leeds, no_condition, paused = (MemberFactory() for _ in range(4))
    for member in (near_boston, in_leeds, paused):
        member.conditions.set([ms])
    set_trial_alert(member=near_boston, place="02115", distance_miles=10)
    set_trial_alert(member=in_leeds, place="Leeds", distance_miles=5)
    set_trial_alert(member=no_condition, place="Boston", distance_miles=3000)
    set_trial_alert(member=paused, place="Boston", distance_miles=100, active=False)
    import_paths(paths=[OWN_FIXTURES / "own-stopped.json"])
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        import_paths(paths=[OWN_FIXTURES / "own-ms-recruiting.json", OWN_FIXTURES / "own-nonascii-longelig.json"])
    notices = TrialNotice.objects.filter(kind=NoticeKind.NEW_TRIAL).order_by("member_id")
    # MGH is 2.0 miles from the 021 ZIP centroid; Leeds General Infirmary 0.2 miles from Leeds centre.
    title = "NCT90000001 Remyelination Drug in Relapsing MS"
    assert [(n.member_id, n.trial.nct_id, n.message) for n in notices] == [
        (near_boston.pk, "NCT90000001", f"New trial 2 miles from 021, Massachusetts, US: {title}"),
        (in_leeds.pk, "NCT90000001", f"New trial 0 miles from Leeds, England, GB: {title}"),
    ]
    # Delivered by the Celery task enqueued on commit (eager in tests).
    assert sorted(m.to[0] for m in mail.outbox) == sorted([near_boston.email, in_leeds.email])

    # A terminated trial that starts recruiting again near Helsinki reaches nobody here; re-import is silent.
    import_payload(payload=record("own-stopped.json", overall="RECRUITING", date="2026-01-01"), source="reopen")
    import_paths(paths=[OWN_FIXTURES])
    assert TrialNotice.objects.count() == 2
    assert Trial.objects.get(nct_id="NCT90000003").overall_status == "RECRUITING"
