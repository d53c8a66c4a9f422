"""research.deidentify.scrub_text: one placeholder per identifier type; medical words survive."""

from __future__ import annotations

import itertools

import pytest

from research.deidentify import PLACEHOLDERS, find_identifiers, scrub_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hi, my name is Lauren Whitfield and I have lupus.", "Hi, my name is [NAME] and I have lupus."),
        ("Dr. Okafor changed my dose.", "Dr. [NAME] changed my dose."),
        ("My son Tobias starts school.", "My son [NAME] starts school."),
        ("Write to lauren.w@example.com please", "Write to [EMAIL] please"),
        ("Call 555-201-7788 or +44 20 7946 0958.", "Call [PHONE] or [PHONE]."),
        ("I live at 42 Harbour Street now", "I live at [ADDRESS] now"),
        ("Leeds LS6 2AB is my postcode", "Leeds [POSTCODE] is my postcode"),
        ("Diagnosed on 03/14/2023 and again on March 3, 2024.", "Diagnosed on [DATE] and again on [DATE]."),
        ("MRI on 12 March, results on March 20.", "MRI on [DATE], results on [DATE]."),
        ("My grandmother is 93 years old.", "My grandmother is [AGE] years old."),
        ("See https://kindred.example.org/t/12 for more", "See [URL] for more"),
        ("The log shows 192.168.20.14 twice", "The log shows [IP] twice"),
        ("My MRN-2023-004411 was wrong", "My [ID] was wrong"),
        ("SSN 123-45-6789", "SSN [ID]"),
        ("Follow me on insta @sunnydays_88", "Follow me on [HANDLE]"),
        ("Thanks @river_walker, that helped", "Thanks [MENTION], that helped"),
    ],
)
def test_each_identifier_type_becomes_its_placeholder(text: str, expected: str) -> None:
    assert scrub_text(text) == expected


def test_every_placeholder_type_is_covered_above() -> None:
    assert set(PLACEHOLDERS) == {
        "NAME", "EMAIL", "PHONE", "ADDRESS", "POSTCODE", "DATE", "AGE", "URL", "IP", "ID", "HANDLE", "MENTION"
    }  # fmt: skip


@pytest.mark.parametrize(
    "text",
    [
        "Ocrevus infusions every six months have kept my relapsing MS quiet.",
        "Crohn's disease flares after ibuprofen; my GI suggested mesalamine and Stelara.",
        "Parkinson's tremor improved on carbidopa-levodopa; Hashimoto's thyroiditis is stable on levothyroxine.",
        "Metformin and Ozempic together lowered my HbA1c; fatigue and neuropathy remain.",
        "Rheumatoid arthritis: methotrexate, Humira, then Rinvoq. Lupus nephritis needs CellCept.",
        "Addison's disease needs hydrocortisone. Tamoxifen after lumpectomy, Herceptin for HER2-positive cancer.",
        "I was diagnosed in 2019 and take 500 mg twice a day.",
        "Grace and hope got me through the worst of the fatigue.",
        "Does Medicare cover Stelara? Mayo Clinic said it might.",
        "I started Entyvio in June and Rinvoq in August 2023.",
    ],
)
def test_medical_and_everyday_words_survive(text: str) -> None:
    assert scrub_text(text) == text


def test_ages_up_to_89_stay_and_the_year_alone_stays() -> None:
    assert scrub_text("I am 45 years old, diagnosed in 2015.") == "I am 45 years old, diagnosed in 2015."


def test_spans_are_typed_ordered_and_disjoint() -> None:
    text = "Email ann.lee@example.com or call 555-201-7788, says Dr. Priya Raman."
    spans = find_identifiers(text)
    assert [(text[s.start : s.end], s.kind) for s in spans] == [
        ("ann.lee@example.com", "EMAIL"),
        ("555-201-7788", "PHONE"),
        ("Priya Raman", "NAME"),
    ]
    assert all(a.end <= b.start for a, b in itertools.pairwise(spans))


def test_empty_and_plain_text_are_unchanged() -> None:
    assert scrub_text("") == ""
    assert scrub_text("No identifiers here at all.") == "No identifiers here at all."
