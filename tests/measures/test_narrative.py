"""Each chart in one or two plain sentences, from the engine's result."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from api.measures.narrative import headline
from api.measures.spc import xmr

pytestmark = pytest.mark.no_database  # pure code (tests/conftest.py)


def weekly(
    values: list[float | None], first: date = date(2026, 1, 5)
) -> list[tuple[date, float | None]]:
    return [(first + timedelta(weeks=i), v) for i, v in enumerate(values)]


def test_a_run_below_the_mean_reads_as_a_fall_since_it_began() -> None:
    values: list[float | None] = [
        300,
        320,
        310,
        330,
        305,
        315,
        325,
        300,
        310,
        320,
        200,
        190,
        210,
        195,
        205,
        185,
        198,
        202,
        192,
    ]
    result = xmr(weekly(values), direction="decrease", non_negative=True)  # type: ignore[arg-type]
    words = headline(result, subject="Handover delays", where="at Riverside")
    assert words.startswith("Handover delays at Riverside have fallen since the week of 16 March")
    assert "(an improvement)" in words and "of the last 10 weeks below the mean" in words
    assert words.count(".") <= 2


def test_a_steady_measure_says_so_with_its_range() -> None:
    values: list[float | None] = [10, 12, 11, 13, 10, 12, 11, 12, 10, 13, 11, 12, 11]
    words = headline(xmr(weekly(values), direction="neutral"), subject="Handover concerns")  # type: ignore[arg-type]
    assert words.startswith(
        "Handover concerns are steady: every recent week within the expected range"
    )


def test_a_young_chart_says_its_limits_are_provisional_and_gives_the_target_outlook() -> None:
    values: list[float | None] = [400, 500, 450]
    result = xmr(weekly(values), direction="decrease", target=150)  # type: ignore[arg-type]
    words = headline(result, subject="Handover delays")
    assert "no signal yet: 3 weeks" in words and "provisional" in words
    assert "target of 150" in words


def test_no_data_and_gaps() -> None:
    assert headline(
        xmr(weekly([None, None]), direction="decrease"), subject="Time to first response"
    ) == ("No time to first response in these dates yet.")
