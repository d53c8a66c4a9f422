"""Property-based: for any sequence of grants, withdrawals and policy versions (with or without a
material change of the purpose), the gate says yes exactly when the member's last decision up to that
moment is a grant made under a version no later effective version materially changed for the purpose.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consent import selectors, services
from consent.models import ConsentPurpose
from tests.consent.conftest import CONTACT, RESEARCH
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

KINDS = ["grant", "withdraw", "publish", "publish_material", "publish_material_other"]
STEP = datetime.timedelta(minutes=5)


@dataclass
class Model:
    """The specification, written as plainly as possible."""

    version: int = 1
    floor: int = 0  # last version that materially changed the purpose
    last: dict[int, tuple[str, int]] = field(default_factory=dict)  # member → (decision, version)

    def apply(self, who: int, kind: str) -> None:
        if kind.startswith("publish"):
            self.version += 1
            if kind == "publish_material":
                self.floor = self.version
        else:
            self.last[who] = (kind, self.version)

    def consenting(self, who: int) -> bool:
        decision = self.last.get(who)
        return decision is not None and decision[0] == "grant" and decision[1] >= self.floor


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(st.integers(0, 1), st.sampled_from(KINDS)), min_size=1, max_size=12))
def test_the_gate_equals_the_last_decision_under_a_current_version(db, steps):
    with transaction.atomic():
        purposes = {p.code: p for p in ConsentPurpose.objects.filter(code__in=[RESEARCH, CONTACT])}
        start = timezone.now() - datetime.timedelta(days=10)
        services.publish_policy(
            text_markdown="v1", effective_at=start - STEP, change_summary="", purposes=list(purposes.values())
        )
        members = [MemberFactory(), MemberFactory()]
        model = Model()
        history: list[tuple[datetime.datetime, set[int]]] = []
        for index, (who, kind) in enumerate(steps):
            at = start + index * STEP
            if kind.startswith("publish"):
                material = {"publish_material": [RESEARCH], "publish_material_other": [CONTACT]}.get(kind, [])
                services.publish_policy(
                    text_markdown=f"v{model.version + 1}",
                    effective_at=at,
                    change_summary=kind,
                    purposes=list(purposes.values()),
                    material_changes=[purposes[code] for code in material],
                )
            else:
                services.record_consent(
                    member=members[who], purpose=RESEARCH, granted=kind == "grant", channel="web", now=at
                )
            model.apply(who, kind)
            expected = {i for i in (0, 1) if model.consenting(i)}
            history.append((at, expected))
            for probe in (at, at + STEP / 2):
                gate = set(selectors.members_consenting_to(RESEARCH, at=probe).values_list("pk", flat=True))
                assert gate == {members[i].pk for i in expected}, (steps[: index + 1], probe)
                for i, member in enumerate(members):
                    state = selectors.consent_state_for(member=member, at=probe)[RESEARCH].state
                    assert (state == "granted") == (i in expected)
        # Asking about the past later gives the same answers (the ledger is history, not a flag).
        for at, expected in history:
            gate = set(selectors.members_consenting_to(RESEARCH, at=at).values_list("pk", flat=True))
            assert gate == {members[i].pk for i in expected}
        transaction.set_rollback(True)
