"""A research agreement's named data recipients: staff name them (service, Django admin, API), every
change is audited, and bad names are refused with nothing changed. (Who may download: tests/research.)"""

from __future__ import annotations

import pytest

from core.errors import InvalidInput
from partnerships import services
from partnerships.models import AgreementEvent, AgreementKind
from privacy.services import collect_member_data, erase_member
from tests.conftest import signed_in
from tests.factories import MemberFactory
from tests.partnerships.helpers import make_agreement, make_partner

pytestmark = pytest.mark.django_db
ROOT_HOST = "localhost"


def research_agreement():
    return make_agreement(partner=make_partner(kind="research"), kind=AgreementKind.RESEARCH)


def recipient_ids(agreement) -> list[int]:
    return sorted(agreement.recipients.values_list("pk", flat=True))


def test_staff_name_recipients_and_every_change_is_audited():
    staff = MemberFactory(is_staff=True)
    agreement = research_agreement()
    ann, ben = MemberFactory(), MemberFactory()
    services.set_agreement_recipients(actor=staff, agreement=agreement, member_ids=[ann.pk, ben.pk], reason="DUA")
    assert recipient_ids(agreement) == sorted([ann.pk, ben.pk])
    services.set_agreement_recipients(actor=staff, agreement=agreement, member_ids=[ben.pk])
    services.set_agreement_recipients(actor=staff, agreement=agreement, member_ids=[ben.pk])  # no change: no row
    events = list(AgreementEvent.objects.filter(agreement=agreement, action="recipients_changed").order_by("pk"))
    assert [(e.actor_id, e.changes, e.reason) for e in events] == [
        (staff.pk, {"from": [], "to": sorted([ann.pk, ben.pk])}, "DUA"),
        (staff.pk, {"from": sorted([ann.pk, ben.pk]), "to": [ben.pk]}, ""),
    ]
    # The log names accounts by id only (it cannot be erased): never an address.
    assert ann.email not in str(events[0].changes)


def test_bad_recipients_are_refused_and_nothing_changes():
    agreement = research_agreement()
    keeper = MemberFactory()
    services.set_agreement_recipients(actor=None, agreement=agreement, member_ids=[keeper.pk])
    inactive = MemberFactory(is_active=False)
    with pytest.raises(InvalidInput) as refused:
        services.set_agreement_recipients(actor=None, agreement=agreement, member_ids=[keeper.pk, inactive.pk, 999_999])
    assert refused.value.details == {
        "recipients": [f"No active account with id {inactive.pk}.", "No active account with id 999999."]
    }
    with pytest.raises(InvalidInput, match="Only research agreements"):
        services.set_agreement_recipients(actor=None, agreement=make_agreement(), member_ids=[keeper.pk])
    assert recipient_ids(agreement) == [keeper.pk]
    assert AgreementEvent.objects.filter(action="recipients_changed").count() == 1


def test_the_api_sets_recipients_for_staff_only_with_clear_400s():
    agreement = research_agreement()
    ann = MemberFactory(email="ann@uni.test")
    url = f"/api/v1/partnerships/agreements/{agreement.public_id}/recipients/"
    body = {"recipients": ["Ann@Uni.test"], "reason": "Signed DUA"}
    partner_rep = MemberFactory()
    agreement.partner.representatives.add(partner_rep)
    assert signed_in(ROOT_HOST, partner_rep).put(url, body, content_type="application/json").status_code == 403
    staff = signed_in(ROOT_HOST, MemberFactory(is_staff=True))
    unknown = staff.put(url, {"recipients": ["ann@uni.test", "nobody@uni.test"]}, content_type="application/json")
    assert unknown.status_code == 400
    assert unknown.json()["details"] == {"recipients": ["No active account with the email nobody@uni.test."]}
    malformed = staff.put(url, {"recipients": "ann@uni.test"}, content_type="application/json")
    assert malformed.status_code == 400
    assert recipient_ids(agreement) == []

    done = staff.put(url, body, content_type="application/json")
    assert done.status_code == 200, done.content
    assert done.json()["recipients"] == ["ann@uni.test"]
    assert recipient_ids(agreement) == [ann.pk]
    event = AgreementEvent.objects.get(agreement=agreement, action="recipients_changed")
    assert event.reason == "Signed DUA"
    hosted = make_agreement()
    refused = staff.put(
        f"/api/v1/partnerships/agreements/{hosted.public_id}/recipients/", body, content_type="application/json"
    )
    assert refused.status_code == 400 and "Only research agreements" in refused.json()["message"]
    # Staff see the list on the agreement; a partner admin's view of agreements never carries it.
    shown = staff.get(f"/api/v1/partnerships/agreements/{agreement.public_id}/").json()
    assert shown["recipients"] == ["ann@uni.test"]


def test_staff_name_recipients_in_the_django_admin():
    agreement = research_agreement()
    ann = MemberFactory()
    admin = signed_in(ROOT_HOST, MemberFactory(is_staff=True, is_superuser=True))
    url = f"/admin/partnerships/partnershipagreement/{agreement.pk}/change/"
    page = admin.get(url)
    assert page.status_code == 200 and 'name="recipients"' in page.content.decode()
    form = {
        "beneficiary": "",
        "kind": agreement.kind,
        "starts_on": agreement.starts_on.isoformat(),
        "ends_on": "",
        "fee_cents": agreement.fee_cents,
        "currency": agreement.currency,
        "interval": agreement.interval,
        "recipients": [ann.pk],
        "reason": "Named in the DUA",
        "notes": "",
        "invoices-TOTAL_FORMS": "0",
        "invoices-INITIAL_FORMS": "0",
        "events-TOTAL_FORMS": "0",
        "events-INITIAL_FORMS": "0",
    }
    saved = admin.post(url, form)
    assert saved.status_code == 302, saved.content.decode()[:2000]
    assert recipient_ids(agreement) == [ann.pk]
    event = AgreementEvent.objects.get(agreement=agreement, action="recipients_changed")
    assert event.reason == "Named in the DUA"


def test_a_recipients_data_download_lists_it_and_erasure_removes_the_name():
    agreement = research_agreement()
    ann = MemberFactory()
    services.set_agreement_recipients(actor=None, agreement=agreement, member_ids=[ann.pk])
    data = collect_member_data(member_id=ann.pk)["public"]["partnerships"]
    assert data["research_data_recipient_of"] == [
        {"agreement": str(agreement.public_id), "partner": agreement.partner.name}
    ]
    done = erase_member(member=ann, keep_posts=True, requested_by=ann)
    assert done.status == "done"
    assert recipient_ids(agreement) == []
