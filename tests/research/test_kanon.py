"""research.kanon: generalize globally, then suppress; every released class has at least k rows."""

from __future__ import annotations

from collections import Counter

import pytest

from research.kanon import LEVELS, Person, age_band, anonymize, key


def person(
    member_id: int, *, age: int = 44, sex: str = "female", region: str = "Otago", mesh: str = "D008180"
) -> Person:
    return Person(
        member_id=member_id, age=age, sex=sex, country="NZ", region=region, role="patient",
        conditions=(mesh,), roots=("D001327",), categories=("C17",),
    )  # fmt: skip


def test_age_bands():
    assert [age_band(a, 10) for a in (0, 39, 40, 89, 90, 104, None)] == [
        "0-9", "30-39", "40-49", "80-89", "90+", "90+", "unknown"
    ]  # fmt: skip
    assert [age_band(a, 20) for a in (19, 45, 79, 85)] == ["0-19", "40-59", "60-79", "80+"]


def test_a_uniform_population_keeps_full_detail():
    result = anonymize([person(i) for i in range(12)], k=11)
    assert result.level == 0 and result.suppressed == []
    assert {result.released[0]["region"], result.released[0]["conditions"]} == {"NZ/Otago", "D008180"}


def test_regions_are_widened_before_anyone_is_suppressed():
    people = [person(i, region=f"Region {i % 10}") for i in range(40)]  # 4 per region
    result = anonymize(people, k=5)
    assert result.level == 1 and result.suppressed == []
    assert {row["region"] for row in result.released.values()} == {"NZ"}


def test_an_outlier_is_suppressed_and_everyone_left_is_in_a_class_of_k():
    people = [person(i) for i in range(6)] + [person(99, age=95, sex="male")]
    result = anonymize(people, k=5)
    assert result.suppressed == [99]
    assert result.level == 0  # one outlier does not coarsen everyone else
    classes = Counter(key(row) for row in result.released.values())
    assert min(classes.values()) >= 5


def test_too_small_a_population_is_suppressed_entirely():
    result = anonymize([person(i, age=20 + 15 * i, sex="male" if i % 2 else "female") for i in range(4)], k=5)
    assert result.released == {} and result.suppressed == [0, 1, 2, 3]


def test_k_below_two_is_refused():
    with pytest.raises(ValueError):
        anonymize([person(1)], k=1)


def test_levels_only_coarsen():
    p = person(1, age=44)
    rows = [level(p) for _, level in LEVELS]
    assert [row["age_band"] for row in rows] == ["40-49", "40-49", "40-59", "40-59", "40-59"]
    assert [row["region"] for row in rows] == ["NZ/Otago", "NZ", "NZ", "*", "*"]
    assert [row["conditions"] for row in rows] == ["D008180", "D008180", "D001327", "C17", "C17"]
