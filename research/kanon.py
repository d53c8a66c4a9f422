"""k-anonymity over the quasi-identifiers (age band, sex, region, condition set, role) by global
generalization, then suppression.

Levels, tried in order; the first whose remaining small classes (< k rows) hold at most
``MAX_SUPPRESSION`` of the rows is used for everyone (if none does, the least-generalized level with
the fewest such rows), and the rows still in classes below k are suppressed (dropped, counted in the
manifest):

0. 10-year age band, sex, country/region, exact condition set (MeSH ids), role
1. 10-year age band, sex, country, exact condition set, role
2. 20-year age band, sex, country, top-level MeSH ancestors of the conditions, role
3. 20-year age band, sex, region suppressed, MeSH categories (e.g. C10), role
4. 20-year age band, sex suppressed, region suppressed, MeSH categories, role suppressed

Role is treated as a quasi-identifier too (stricter than the four the issue names).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

MAX_SUPPRESSION = 0.05
SUPPRESSED = "*"
QUASI_IDENTIFIERS = ("age_band", "sex", "region", "conditions", "role")


@dataclass(frozen=True)
class Person:
    member_id: int
    age: int | None
    sex: str
    country: str
    region: str
    role: str
    conditions: tuple[str, ...]  # MeSH ids
    roots: tuple[str, ...]  # top-level MeSH ancestors
    categories: tuple[str, ...]  # MeSH category codes


def age_band(age: int | None, width: int) -> str:
    if age is None or age < 0:
        return "unknown"
    if age >= 90:
        return "90+"
    if width == 20 and age >= 80:
        return "80+"
    start = age - age % width
    return f"{start}-{start + width - 1}"


def _conditions(values: tuple[str, ...]) -> str:
    return ";".join(sorted(set(values))) or "none"


def _place(person: Person, *, region: bool) -> str:
    if not person.country:
        return "unknown"
    if region and person.region:
        return f"{person.country}/{person.region.strip()}"
    return person.country


Level = Callable[[Person], dict[str, str]]

LEVELS: list[tuple[str, Level]] = [
    (
        "10-year age band, country/region, exact conditions",
        lambda p: {
            "age_band": age_band(p.age, 10),
            "sex": p.sex or "unknown",
            "region": _place(p, region=True),
            "conditions": _conditions(p.conditions),
            "role": p.role or "unknown",
        },
    ),
    (
        "10-year age band, country, exact conditions",
        lambda p: {
            "age_band": age_band(p.age, 10),
            "sex": p.sex or "unknown",
            "region": _place(p, region=False),
            "conditions": _conditions(p.conditions),
            "role": p.role or "unknown",
        },
    ),
    (
        "20-year age band, country, top-level MeSH ancestors",
        lambda p: {
            "age_band": age_band(p.age, 20),
            "sex": p.sex or "unknown",
            "region": _place(p, region=False),
            "conditions": _conditions(p.roots),
            "role": p.role or "unknown",
        },
    ),
    (
        "20-year age band, region suppressed, MeSH categories",
        lambda p: {
            "age_band": age_band(p.age, 20),
            "sex": p.sex or "unknown",
            "region": SUPPRESSED,
            "conditions": _conditions(p.categories),
            "role": p.role or "unknown",
        },
    ),
    (
        "20-year age band, sex, region and role suppressed, MeSH categories",
        lambda p: {
            "age_band": age_band(p.age, 20),
            "sex": SUPPRESSED,
            "region": SUPPRESSED,
            "conditions": _conditions(p.categories),
            "role": SUPPRESSED,
        },
    ),
]


@dataclass(frozen=True)
class Result:
    released: dict[int, dict[str, str]]  # member id → generalized quasi-identifiers
    suppressed: list[int]
    level: int
    description: str


def key(row: dict[str, str]) -> tuple[str, ...]:
    return tuple(row[name] for name in QUASI_IDENTIFIERS)


def anonymize(people: list[Person], *, k: int, max_suppression: float = MAX_SUPPRESSION) -> Result:
    """Generalize ``people`` to the first level that needs little suppression; suppress what stays below k."""
    if k < 2:
        raise ValueError("k must be at least 2")
    suppressed_at: list[int] = []
    chosen = -1
    for index, (_, level) in enumerate(LEVELS):
        counts = Counter(key(level(p)) for p in people)
        small = sum(n for n in counts.values() if n < k)
        suppressed_at.append(small)
        if small <= max_suppression * len(people):
            chosen = index
            break
    if chosen < 0:
        # No level keeps suppression that low: the least-generalized level that suppresses fewest rows.
        chosen = suppressed_at.index(min(suppressed_at))
    description, level = LEVELS[chosen]
    rows = {p.member_id: level(p) for p in people}
    counts = Counter(key(row) for row in rows.values())
    released = {member_id: row for member_id, row in rows.items() if counts[key(row)] >= k}
    suppressed = sorted(member_id for member_id in rows if member_id not in released)
    return Result(released=released, suppressed=suppressed, level=chosen, description=description)
