"""Property-based checks (hypothesis): the export page escapes anything, names resolve by one rule."""

from __future__ import annotations

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from members.models import TenantMembership
from members.selectors import FALLBACK_NAME, tenant_display_names
from privacy.rendering import render_data
from privacy.services import jsonable
from tests.factories import MemberFactory

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@given(json_values)
def test_the_readable_page_never_lets_markup_through(value):
    html = render_data(jsonable(value))
    # Every "<" in the output starts one of the renderer's own tags.
    allowed = ("<dl>", "</dl>", "<dt>", "</dt>", "<dd>", "</dd>", "<table>", "</table>", "<thead>", "</thead>",
               "<tbody>", "</tbody>", "<tr>", "</tr>", "<th>", "</th>", "<td>", "</td>", "<ul>", "</ul>", "<li>",
               "</li>", '<p class="muted">', "</p>")  # fmt: skip
    rest = html
    for tag in allowed:
        rest = rest.replace(tag, "")
    assert "<" not in rest
    assert ">" not in rest


@pytest.mark.django_db
# Examples share the test transaction: each makes its own members and checks only those.
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["", "Platform name"]), st.sampled_from([None, "", "here"])), max_size=5))
def test_a_name_here_wins_then_the_platform_name_then_a_member(tenant_a, people):
    with transaction.atomic():  # each example rolls back its own rows
        _check_names(tenant_a, people)
        transaction.set_rollback(True)


def _check_names(tenant_a, people):
    members = []
    for index, (platform_name, name_here) in enumerate(people):
        member = MemberFactory(display_name=f"{platform_name} {index}".strip() if platform_name else "")
        if name_here is not None:
            TenantMembership.objects.create(
                member=member, tenant=tenant_a, display_name=f"{name_here}_{index}" if name_here else ""
            )
        members.append((member, platform_name, name_here))
    names = tenant_display_names(tenant=tenant_a, member_ids=[m.pk for m, _, _ in members])
    for index, (member, platform_name, name_here) in enumerate(members):
        expected = (
            f"{name_here}_{index}" if name_here else (f"{platform_name} {index}" if platform_name else FALLBACK_NAME)
        )
        assert names[member.pk] == expected
