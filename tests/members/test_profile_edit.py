"""A member edits what they say about themselves on the root domain; every field may stay empty."""

from __future__ import annotations

import pytest

from conditions.models import Condition
from members.models import Member
from tests.conftest import host_client, signed_in
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db
ROOT_HOST = "localhost"
URL = "/accounts/profile/edit/"


def test_signed_out_visitors_are_sent_to_sign_in():
    response = host_client(ROOT_HOST).get(URL)
    assert response.status_code == 302 and response["Location"].startswith("/auth/login/?next=")


def test_the_form_shows_the_profile_and_saves_every_field():
    lupus, nephritis = Condition.objects.order_by("pk")[:2]
    member = MemberFactory(display_name="Ana", birth_year=1980, region="Ohio")
    member.conditions.set([lupus])
    client = signed_in(ROOT_HOST, member)

    page = client.get(URL).content.decode()
    assert 'value="Ana"' in page and 'value="1980"' in page and 'value="Ohio"' in page
    assert f'value="{lupus.pk}" selected' in page

    response = client.post(
        URL,
        {
            "display_name": "Ana K.",
            "role": "caregiver",
            "condition_ids": [lupus.pk, nephritis.pk],
            "birth_year": "1979",
            "sex": "female",
            "country": "DE",
            "region": "Bavaria",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/accounts/profile/"
    member = Member.objects.get(pk=member.pk)
    assert (member.display_name, member.role, member.birth_year, member.sex, str(member.country), member.region) == (
        "Ana K.",
        "caregiver",
        1979,
        "female",
        "DE",
        "Bavaria",
    )
    assert set(member.conditions.values_list("pk", flat=True)) == {lupus.pk, nephritis.pk}

    # Emptying everything is allowed: nothing about oneself is required.
    client.post(URL, {"display_name": "", "role": "", "birth_year": "", "sex": "", "country": "", "region": ""})
    member = Member.objects.get(pk=member.pk)
    assert (member.display_name, member.role, member.birth_year, member.sex, member.region) == ("", "", None, "", "")
    assert member.conditions.count() == 0


def test_invalid_input_is_explained_and_changes_nothing():
    member = MemberFactory(display_name="Ben", birth_year=1990)
    client = signed_in(ROOT_HOST, member)
    response = client.post(URL, {"display_name": "Benjamin", "birth_year": "1800", "sex": "robot"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Ensure this value is greater than or equal to 1900" in page
    assert "Select a valid choice" in page
    member = Member.objects.get(pk=member.pk)
    assert (member.display_name, member.birth_year, member.sex) == ("Ben", 1990, "")
