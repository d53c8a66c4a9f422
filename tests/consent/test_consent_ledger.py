"""The append-only ledger: decisions, derived state, the database's refusal to edit, and erasure."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.utils import timezone

from consent import selectors, services
from consent.models import ConsentPolicy, ConsentRecord, ConsentSubject, LedgerIsAppendOnly
from core.errors import Conflict, InvalidInput, NotAllowed
from tests.conftest import TENANT_A
from tests.consent.conftest import CONTACT, NEWSLETTERS, RESEARCH, publish_next
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


def states(member) -> dict[str, str]:
    return {code: s.state for code, s in selectors.consent_state_for(member=member).items()}


def test_state_is_derived_from_the_last_decision_per_purpose(policy_v1, tenant_a):
    member = MemberFactory()
    assert states(member) == {RESEARCH: "not_asked", CONTACT: "not_asked", NEWSLETTERS: "not_asked"}
    services.record_consent(member=member, purpose=RESEARCH, granted=True, channel="web", tenant=tenant_a)
    services.record_consent(member=member, purpose=CONTACT, granted=True, channel="api")
    services.record_consent(member=member, purpose=CONTACT, granted=False, channel="web")
    assert states(member) == {RESEARCH: "granted", CONTACT: "withdrawn", NEWSLETTERS: "not_asked"}
    rows = list(ConsentRecord.objects.filter(subject__member=member).order_by("id"))
    assert [(r.purpose.code, r.decision, r.policy.version, r.tenant_schema, r.channel) for r in rows] == [
        (RESEARCH, "granted", 1, tenant_a.schema_name, "web"),
        (CONTACT, "granted", 1, "", "api"),
        (CONTACT, "withdrawn", 1, "", "web"),
    ]
    assert len({r.subject_id for r in rows}) == 1
    assert TENANT_A["slug"] in tenant_a.schema_name.replace("_", "-")


def test_history_lists_every_decision_oldest_first(policy_v1):
    member = MemberFactory()
    first = services.record_consent(member=member, purpose=RESEARCH, granted=True, channel="signup")
    second = services.record_consent(member=member, purpose=RESEARCH, granted=False, channel="web")
    history = selectors.consent_history_for(member=member)
    assert history == [
        {
            "id": str(first.public_id),
            "purpose": RESEARCH,
            "purpose_name": "Share de-identified data with research partners",
            "decision": "granted",
            "policy_version": 1,
            "recorded_at": first.recorded_at.isoformat(),
            "tenant": "",
            "channel": "signup",
            "on_behalf": False,
            "reason": "",
        },
        {
            "id": str(second.public_id),
            "purpose": RESEARCH,
            "purpose_name": "Share de-identified data with research partners",
            "decision": "withdrawn",
            "policy_version": 1,
            "recorded_at": second.recorded_at.isoformat(),
            "tenant": "",
            "channel": "web",
            "on_behalf": False,
            "reason": "",
        },
    ]
    assert selectors.consent_history_for(member=MemberFactory()) == []


def test_no_decision_before_a_policy_exists(purposes):
    member = MemberFactory()
    with pytest.raises(Conflict) as exc:
        services.record_consent(member=member, purpose=RESEARCH, granted=True, channel="web")
    assert exc.value.code == "no_policy"
    assert ConsentRecord.objects.count() == 0


def test_unknown_purpose_and_bad_channel_are_refused_and_write_nothing(policy_v1):
    member = MemberFactory()
    with pytest.raises(InvalidInput) as exc:
        services.record_consent(member=member, purpose="sell-my-data", granted=True, channel="web")
    assert exc.value.details == {"purpose": ["Unknown purpose: sell-my-data."]}
    with pytest.raises(InvalidInput):
        services.record_consent(member=member, purpose=RESEARCH, granted=True, channel="fax")
    # A batch with one bad purpose writes none of them.
    with pytest.raises(InvalidInput):
        services.record_consents(member=member, decisions={RESEARCH: True, "nope": True}, channel="signup")
    assert ConsentRecord.objects.filter(subject__member=member).count() == 0


def test_on_behalf_needs_staff_and_a_reason(policy_v1):
    member = MemberFactory()
    staff = MemberFactory(is_staff=True)
    other = MemberFactory()
    with pytest.raises(NotAllowed):
        services.record_consent(member=member, purpose=RESEARCH, granted=True, channel="admin", actor=other, reason="x")
    with pytest.raises(InvalidInput) as exc:
        services.record_consent(member=member, purpose=RESEARCH, granted=True, channel="admin", actor=staff, reason=" ")
    assert exc.value.details == {"reason": ["A reason is required."]}
    with pytest.raises(NotAllowed):  # another member cannot decide for them on any channel
        services.record_consent(member=member, purpose=RESEARCH, granted=True, channel="web", actor=other)
    for identifying in (f"{member.display_name} phoned", f"mail from {member.email.upper()}"):
        with pytest.raises(InvalidInput) as exc:
            services.record_consent(
                member=member, purpose=RESEARCH, granted=True, channel="admin", actor=staff, reason=identifying
            )
        assert exc.value.details == {"reason": ["Do not name the member."]}
    assert ConsentRecord.objects.filter(subject__member=member).count() == 0
    record = services.record_consent(
        member=member, purpose=RESEARCH, granted=True, channel="admin", actor=staff, reason="Asked us by phone"
    )
    assert record.actor_pseudonym == ConsentSubject.objects.get(member=staff).pseudonym
    assert record.reason == "Asked us by phone"
    assert selectors.consent_history_for(member=member)[0]["on_behalf"] is True


def test_the_database_refuses_on_behalf_rows_without_actor_or_reason(policy_v1):
    subject = services.ensure_subject(member=MemberFactory())
    with pytest.raises(DatabaseError), transaction.atomic():
        ConsentRecord(
            subject=subject, purpose=policy_v1.purposes.first(), decision="granted", policy=policy_v1, channel="admin"
        ).save()
    assert ConsentRecord.objects.count() == 0


def test_orm_refuses_to_change_or_delete_a_record(policy_v1):
    record = services.record_consent(member=MemberFactory(), purpose=RESEARCH, granted=True, channel="web")
    record.decision = "withdrawn"
    with pytest.raises(LedgerIsAppendOnly):
        record.save()
    with pytest.raises(LedgerIsAppendOnly):
        record.delete()
    with pytest.raises(LedgerIsAppendOnly):
        ConsentRecord.objects.filter(pk=record.pk).update(decision="withdrawn")
    with pytest.raises(LedgerIsAppendOnly):
        ConsentRecord.objects.filter(pk=record.pk).delete()
    assert ConsentRecord.objects.get(pk=record.pk).decision == "granted"


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE public.consent_consentrecord SET decision = 'withdrawn'",
        "UPDATE public.consent_consentrecord SET recorded_at = now() - interval '1 year'",
        "DELETE FROM public.consent_consentrecord",
        "TRUNCATE public.consent_consentrecord",
        "TRUNCATE public.consent_consentrecord CASCADE",
    ],
)
def test_the_database_refuses_to_change_or_remove_records(policy_v1, statement):
    record = services.record_consent(member=MemberFactory(), purpose=RESEARCH, granted=True, channel="web")
    with connection.cursor() as cursor:  # settle the deferred foreign-key checks, or TRUNCATE waits for them
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    with pytest.raises(DatabaseError) as exc, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert "consent_consentrecord is append-only" in str(exc.value)
    row = ConsentRecord.objects.get(pk=record.pk)
    assert (row.decision, row.recorded_at) == ("granted", record.recorded_at)
    assert ConsentRecord.objects.count() == 1


def test_detach_member_keeps_pseudonym_decisions_and_dates(policy_v1):
    member = MemberFactory()
    record = services.record_consent(member=member, purpose=RESEARCH, granted=True, channel="web")
    subject = ConsentSubject.objects.get(member=member)
    assert list(selectors.members_consenting_to(RESEARCH)) == [member]
    detached = services.detach_member(member=member)
    assert detached is not None and detached.pk == subject.pk and detached.member is None
    kept = ConsentSubject.objects.get(pk=subject.pk)
    assert (kept.member_id, kept.pseudonym) == (None, subject.pseudonym)
    row = ConsentRecord.objects.get(pk=record.pk)
    assert (row.subject_id, row.decision, row.recorded_at) == (subject.pk, "granted", record.recorded_at)
    assert list(selectors.members_consenting_to(RESEARCH)) == []
    assert selectors.consent_history_for(member=member) == []
    assert services.detach_member(member=member) is None  # safe to run twice
    # Nothing in the ledger points at the member any more: erasure can delete the row.
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("DELETE FROM public.members_member WHERE id = %s", [member.pk])
    assert ConsentRecord.objects.filter(pk=record.pk).exists()


def test_publishing_versions_only_moves_forward(policy_v1, purposes):
    with pytest.raises(InvalidInput) as exc:
        publish_next(purposes, effective_at=policy_v1.effective_at - datetime.timedelta(seconds=1))
    assert list(exc.value.details) == ["effective_at"]
    with pytest.raises(InvalidInput) as exc:
        services.publish_policy(
            text_markdown="x",
            effective_at=timezone.now(),
            change_summary="",
            purposes=[purposes[RESEARCH]],
            material_changes=[purposes[CONTACT]],
        )
    assert exc.value.details == {"material_changes": ["A materially changed purpose must be one the policy covers."]}
    with pytest.raises(InvalidInput) as exc:
        services.publish_policy(
            text_markdown=" ", effective_at=timezone.now(), change_summary="", purposes=[purposes[RESEARCH]], version=7
        )
    assert exc.value.details == {
        "text_markdown": ["The policy text is required."],
        "version": ["The next version is 2."],
    }
    assert list(ConsentPolicy.objects.values_list("version", flat=True)) == [1]
    v2 = publish_next(purposes, material=[RESEARCH])
    assert v2.version == 2
    assert {(pp.purpose.code, pp.material_change) for pp in v2.policy_purposes.all()} == {
        (RESEARCH, True),
        (CONTACT, False),
        (NEWSLETTERS, False),
    }


def test_policy_text_is_sanitized_once(purposes):
    policy = services.publish_policy(
        text_markdown="**Bold** <script>alert(1)</script> [x](javascript:alert(1))",
        effective_at=timezone.now(),
        change_summary="",
        purposes=[purposes[RESEARCH]],
    )
    assert policy.text_html == '<p><strong>Bold</strong>  <a rel="noopener noreferrer">x</a></p>'


def test_a_material_change_asks_again_and_counts_as_no_until_answered(policy_v1, purposes):
    member = MemberFactory()
    services.record_consent(member=member, purpose=RESEARCH, granted=True, channel="web")
    services.record_consent(member=member, purpose=CONTACT, granted=True, channel="web")
    services.record_consent(member=member, purpose=NEWSLETTERS, granted=False, channel="web")
    publish_next(purposes, material=[RESEARCH, NEWSLETTERS])
    assert states(member) == {RESEARCH: "needs_reconsent", CONTACT: "granted", NEWSLETTERS: "withdrawn"}
    assert selectors.pending_reconsent(member=member) == [purposes[RESEARCH]]
    assert list(selectors.members_consenting_to(RESEARCH)) == []
    assert list(selectors.members_consenting_to(CONTACT)) == [member]
    record = services.record_consent(member=member, purpose=RESEARCH, granted=True, channel="web")
    assert record.policy.version == 2
    assert selectors.pending_reconsent(member=member) == []
    assert list(selectors.members_consenting_to(RESEARCH)) == [member]


def test_a_future_version_changes_nothing_until_it_takes_effect(policy_v1, purposes):
    member = MemberFactory()
    services.record_consent(member=member, purpose=RESEARCH, granted=True, channel="web")
    effective = timezone.now() + datetime.timedelta(days=7)
    publish_next(purposes, material=[RESEARCH], effective_at=effective)
    assert selectors.current_policy().version == 1
    assert list(selectors.members_consenting_to(RESEARCH)) == [member]
    assert list(selectors.members_consenting_to(RESEARCH, at=effective)) == []
    assert selectors.pending_reconsent(member=member) == []


def test_the_gate_ignores_inactive_members_and_inactive_purposes(policy_v1, purposes):
    active, inactive = MemberFactory(), MemberFactory(is_active=False)
    for member in (active, inactive):
        services.record_consent(member=member, purpose=RESEARCH, granted=True, channel="web")
    assert list(selectors.members_consenting_to(RESEARCH)) == [active]
    purposes[RESEARCH].active = False
    purposes[RESEARCH].save()
    assert list(selectors.members_consenting_to(RESEARCH)) == []
    with pytest.raises(InvalidInput):
        selectors.members_consenting_to("no-such-purpose")


def test_demo_seeding_publishes_version_one_once(purposes):
    from demo.services import _ensure_consent_policy

    staff = MemberFactory(is_staff=True)
    _ensure_consent_policy(staff=staff)
    _ensure_consent_policy(staff=staff)
    policy = ConsentPolicy.objects.get()
    assert (policy.version, policy.published_by) == (1, staff)
    assert sorted(policy.purposes.values_list("code", flat=True)) == sorted([RESEARCH, CONTACT, NEWSLETTERS])
