"""The built-in instruments are well formed, and items.csv builds custom ones or
says exactly which row is wrong."""

from __future__ import annotations

import pytest

from valuechain.domain.bundle import Row
from valuechain.domain.instrument import (
    BUILT_IN,
    INTERNAL_SERVQUAL,
    OUTCOME,
    PULSE,
    RECOMMEND,
    SERVICE_FACTORS,
    Scale,
    instrument_of,
    read_items,
)

HEADER = ["instrument", "item", "dimension", "text", "scale_min", "scale_max"]


def rows(*cells: tuple[str, ...]) -> list[Row]:
    return [(line, list(c)) for line, c in enumerate(cells, start=2)]


def test_servqual_has_the_five_dimensions_with_three_or_four_items_asked_twice() -> None:
    keys = [d.key for d in INTERNAL_SERVQUAL.dimensions]
    assert keys == ["tangibles", "reliability", "responsiveness", "assurance", "empathy"]
    for dimension in INTERNAL_SERVQUAL.dimensions:
        assert 3 <= len(dimension.items) <= 4
        assert all(item.expectation and item.scale == Scale(1, 7) for item in dimension.items)
    assert INTERNAL_SERVQUAL.importance_split
    assert INTERNAL_SERVQUAL.outcome is None


def test_service_factors_follow_marshall_baker_finn_with_an_overall_outcome() -> None:
    keys = [d.key for d in SERVICE_FACTORS.drivers]
    assert keys == ["courtesy", "promptness", "conscientiousness", "value", "problem_solving"]
    for dimension in SERVICE_FACTORS.drivers:
        assert 2 <= len(dimension.items) <= 3
        assert dimension.scale == Scale(1, 7)
    outcome = SERVICE_FACTORS.outcome
    assert outcome is not None and outcome.key == OUTCOME and len(outcome.items) == 1


def test_pulse_and_recommend() -> None:
    need, better = PULSE.items
    assert need.scale == Scale(1, 5) and better.is_text
    assert need.wording("Payroll") == "Are you getting what you need from Payroll right now?"
    assert better.wording("Payroll") == "What could Payroll do better to meet your needs?"
    (recommend,) = RECOMMEND.items
    assert recommend.scale == Scale(0, 10)
    assert "Payroll's service" in recommend.wording("Payroll")


def test_every_built_in_item_is_worded_once_names_the_provider_and_has_a_valid_scale() -> None:
    texts = [item.text for instrument in BUILT_IN.values() for item in instrument.items]
    assert len(texts) == len(set(texts))
    for instrument in BUILT_IN.values():
        assert instrument.built_in and instrument_of(instrument.key) is instrument
        for dimension in instrument.dimensions:
            assert 1 <= len(dimension.items) <= 4
            scales = {item.scale for item in dimension.items}
            assert len(scales) == 1
            for item in dimension.items:
                assert "{provider}" in item.text
                assert "{" not in item.wording("X")
                assert item.scale is None or item.scale.low < item.scale.high
    for instrument in (INTERNAL_SERVQUAL, SERVICE_FACTORS):
        assert all(2 <= len(d.items) <= 4 for d in instrument.drivers)


def test_item_dimension_positions_match_items() -> None:
    positions = SERVICE_FACTORS.item_dimension()
    for item, position in zip(SERVICE_FACTORS.items, positions, strict=True):
        assert SERVICE_FACTORS.dimensions[position].key == item.dimension


def test_importance_split() -> None:
    good = {
        "tangibles": 10,
        "reliability": 40,
        "responsiveness": 20,
        "assurance": 15,
        "empathy": 15,
    }
    assert INTERNAL_SERVQUAL.importance_problems(good) == []
    assert INTERNAL_SERVQUAL.importance_problems({**good, "empathy": 20}) == [
        "points must add up to 100, got 105"
    ]
    assert "no points for empathy" in INTERNAL_SERVQUAL.importance_problems(
        {k: v for k, v in good.items() if k != "empathy"}
    )
    assert SERVICE_FACTORS.importance_problems(good) == [
        "Internal service factors asks no importance split"
    ]


def test_scale() -> None:
    scale = Scale(1, 7)
    assert scale.points == 7 and scale.contains(7) and not scale.contains(7.5)
    assert not scale.contains(float("nan")) and not scale.contains(0)
    with pytest.raises(ValueError):
        Scale(5, 5)


def test_custom_instrument_from_items_csv() -> None:
    reading = read_items(
        HEADER,
        rows(
            ("onboarding", "q1", "clarity", "The checklist was clear.", "1", "5"),
            ("onboarding", "q2", "clarity", "I knew whom to ask.", "1", "5"),
            ("onboarding", "q3", "speed", "Accounts were ready on day one.", "", ""),
            ("onboarding", "q4", "overall", "Overall, onboarding went well.", "", ""),
        ),
    )
    assert reading.ok, reading.problems
    instrument = reading.instruments["onboarding"]
    assert [d.key for d in instrument.dimensions] == ["clarity", "speed", "overall"]
    assert instrument.dimension("clarity").scale == Scale(1, 5)
    assert instrument.item("q3").scale == Scale(1, 7)
    assert instrument.outcome is not None and [d.key for d in instrument.drivers] == [
        "clarity",
        "speed",
    ]
    assert not instrument.built_in


@pytest.mark.parametrize(
    ("cells", "line", "column", "expected"),
    [
        (("pulse", "q1", "d", "Text", "", ""), 2, "instrument", "a name that is not built in"),
        (("x", "q1", "d", "", "", ""), 2, "text", "a value"),
        (("x", "q1", "d", "Text", "1", ""), 2, "scale_max", "a whole number"),
        (("x", "q1", "d", "Text", "7", "1"), 2, "scale_max", "a number above scale_min 7"),
        (("x", "q1", "d", "Text", "one", "7"), 2, "scale_min", "a whole number"),
        (("x", "q1", "d", "Text", "1", "1000"), 2, "scale_max", "a whole number from -100 to 100"),
    ],
)
def test_items_csv_problems_name_the_row(
    cells: tuple[str, ...], line: int, column: str, expected: str
) -> None:
    reading = read_items(HEADER, rows(cells))
    assert not reading.ok and not reading.instruments
    (problem,) = reading.problems
    assert (problem.file, problem.line, problem.column) == ("items.csv", line, column)
    assert problem.expected.startswith(expected)


def test_items_csv_cross_row_problems() -> None:
    reading = read_items(
        HEADER,
        rows(
            ("x", "q1", "d", "Same words.", "1", "7"),
            ("x", "q1", "d", "Other words.", "1", "7"),
            ("x", "q2", "d", "same  WORDS.", "1", "7"),
            ("x", "q3", "d", "Fine.", "1", "5"),
            ("y", "q1", "overall", "Only an outcome.", "", ""),
        ),
    )
    found = [(p.line, p.column) for p in reading.problems]
    assert found == [(3, "item"), (4, "text"), (5, "scale_min"), (6, "dimension")]
    assert "line 2" in reading.problems[0].expected
    assert "line 2" in str(reading.problems[1])


def test_items_csv_header_problems() -> None:
    reading = read_items(["instrument", "item", "text", "colour"], [])
    messages = [str(p) for p in reading.problems]
    assert any("colour" in m for m in messages)
    assert any("a column dimension" in m for m in messages)


def test_partnership_lets_the_provider_rate_its_customer() -> None:
    from valuechain.domain.instrument import PARTNERSHIP

    assert PARTNERSHIP.rates_customer and not SERVICE_FACTORS.rates_customer
    assert [d.key for d in PARTNERSHIP.drivers] == [
        "clear_requests",
        "lead_times",
        "inputs_on_time",
        "shared_priorities",
        "appreciation",
        "joint_problem_solving",
    ]
    assert PARTNERSHIP.outcome is not None
    assert all(2 <= len(d.items) <= 3 for d in PARTNERSHIP.drivers)
