"""Platform staff erase an account on the member's behalf from the admin: superusers only, with a
reason that must not name the member, confirmed by typing ERASE; the Member row is never deleted
row-first."""

from __future__ import annotations

import pytest

from members.models import Member
from privacy.models import ErasureRequest, ErasureStatus
from tests.conftest import signed_in
from tests.privacy.world import build_member_everywhere

pytestmark = pytest.mark.django_db
ROOT_HOST = "localhost"


@pytest.fixture
def world(tenant_a, tenant_b, settings, tmp_path):
    settings.KINDRED_POSTING_RATE = "1000/1m"
    settings.KINDRED_EXPORTS_DIR = str(tmp_path / "exports")
    return build_member_everywhere(tenant_a=tenant_a, tenant_b=tenant_b)


def _superuser_client(world):
    world.staff.is_superuser = True
    world.staff.save(update_fields=["is_superuser"])
    return signed_in(ROOT_HOST, world.staff)


def _erase_url(member) -> str:
    return f"/admin/members/member/{member.pk}/erase/"


def test_superuser_erases_an_account_everywhere_with_a_reason(world, django_capture_on_commit_callbacks):
    client = _superuser_client(world)
    zed_pk = world.zed.pk
    assert "Erase this account" in client.get(_erase_url(world.zed)).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            _erase_url(world.zed),
            {"reason": "Erasure request received by post, ticket 1234", "keep_posts": "1", "confirm": "ERASE"},
        )
    assert response.status_code == 302 and response["Location"] == "/admin/privacy/erasurerequest/"
    assert not Member.objects.filter(pk=zed_pk).exists()
    request = ErasureRequest.objects.get(requested_by=world.staff)
    assert (request.status, request.keep_posts, request.requested_by_self, request.reason) == (
        ErasureStatus.DONE,
        True,
        False,
        "Erasure request received by post, ticket 1234",
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"reason": "asked by {email}", "keep_posts": "0", "confirm": "ERASE"}, "describe the request, not the person"),
        ({"reason": "Ticket 99", "keep_posts": "0", "confirm": "erase"}, "Type ERASE (capitals) to confirm."),
        ({"reason": "", "keep_posts": "0", "confirm": "ERASE"}, "This field is required."),
    ],
)
def test_refused_erasures_change_nothing(world, data, message):
    client = _superuser_client(world)
    data = {**data, "reason": data["reason"].format(email=world.zed.email)}
    response = client.post(_erase_url(world.zed), data)
    assert response.status_code == 200 and message in response.content.decode()
    zed = Member.objects.get(pk=world.zed.pk)
    assert zed.is_active and not ErasureRequest.objects.filter(member=zed).exists()


def test_only_superusers_reach_the_page_and_nobody_deletes_a_member_row_first(world):
    staff_client = signed_in(ROOT_HOST, world.staff)  # staff, not a superuser
    assert staff_client.get(_erase_url(world.zed)).status_code == 404
    assert staff_client.post(_erase_url(world.zed), {"reason": "Ticket 1", "confirm": "ERASE"}).status_code == 404
    superuser = _superuser_client(world)
    assert superuser.get(f"/admin/members/member/{world.zed.pk}/delete/").status_code == 403
    assert Member.objects.get(pk=world.zed.pk).is_active
