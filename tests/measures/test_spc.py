"""The XmR engine on hand-worked series: the numbers are worked out in the comments, so a reader can
check each expectation with a pencil. Then properties that hold for any series."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.measures.spc import (
    Assurance,
    Direction,
    Rule,
    Side,
    SpcResult,
    Variation,
    VariationIcon,
    xmr,
)

MONDAY = date(2025, 11, 3)


pytestmark = pytest.mark.no_database  # pure code (tests/conftest.py)


def weekly(values: Sequence[float]) -> list[tuple[date, float]]:
    return [(MONDAY + timedelta(weeks=i), value) for i, value in enumerate(values)]


def spc(
    values: Sequence[float],
    direction: str = "increase",
    *,
    target: float | None = None,
    rebase_at: Sequence[int] = (),
    screen_outliers: bool = False,
) -> SpcResult:
    return xmr(
        weekly(values),
        direction=direction,
        target=target,
        rebase_at=rebase_at,
        screen_outliers=screen_outliers,
    )


def flagged(result: SpcResult) -> dict[int, list[str]]:
    """{index: rule names} of the special-cause points."""
    return {i: [r.value for r in p.rules] for i, p in enumerate(result.points) if p.special_cause}


# A calm base: 10 and 12 taking turns. Used to build the two-in-three cases.
CALM = [10, 12] * 5


# --- The XmR arithmetic ---------------------------------------------------------------------------


def test_mean_moving_range_and_limits_of_a_short_series() -> None:
    # 5 7 6 8 4: mean 30/5 = 6. Moving ranges 2 1 2 4, MR-bar 9/4 = 2.25.
    # Process limits 6 ± 2.66 × 2.25 = 6 ± 5.985: 0.015 and 11.985.
    # 2-sigma lines 6 ± (2.66 × 2/3) × 2.25 = 6 ± 3.99: 2.01 and 9.99.
    result = spc([5, 7, 6, 8, 4])
    (segment,) = result.segments
    assert segment.mean == 6
    assert segment.mr_bar == 2.25
    assert segment.lpl == pytest.approx(0.015)
    assert segment.upl == pytest.approx(11.985)
    assert segment.lower_two_sigma == pytest.approx(2.01)
    assert segment.upper_two_sigma == pytest.approx(9.99)
    assert [(p.mean, p.lpl, p.upl) for p in result.points] == [(6, segment.lpl, segment.upl)] * 5
    assert flagged(result) == {}


def test_the_points_map_onto_the_json_of_spec_section_8() -> None:
    result = spc([5, 7, 6, 8, 4])
    body = result.as_json()
    assert body.keys() == {"points", "assurance", "variation_icon", "trial_limits"}
    assert body["points"][0] == {
        "start": "2025-11-03",
        "value": 5,
        "mean": 6.0,
        "lpl": pytest.approx(0.015),
        "upl": pytest.approx(11.985),
        "special_cause": False,
        "rules": [],
        "variation": "common_cause",
        "partial": False,
    }
    assert body["assurance"] == "none"
    assert body["variation_icon"] == "common_cause"
    assert body["trial_limits"] is True


def test_the_lower_limit_is_not_floored_at_zero() -> None:
    # 0 10 0 10: mean 5, MR-bar 10, limits 5 ± 26.6: −21.6 and 31.6, as NHSRplotthedots gives.
    (segment,) = spc([0, 10, 0, 10]).segments
    assert segment.lpl == pytest.approx(-21.6)
    assert segment.upl == pytest.approx(31.6)


def test_screening_leaves_large_moving_ranges_out_of_mr_bar_when_asked() -> None:
    # 10 12 10 12 10 12 10 12 10 12 10 40: ten ranges of 2 and one of 30, MR-bar 50/11 ≈ 4.545.
    # Screening drops ranges of 3.267 × 4.545 ≈ 14.85 or more: the 30 goes, MR-bar 20/10 = 2.
    values = [*CALM, 10, 40]
    assert spc(values).segments[0].mr_bar == pytest.approx(50 / 11)
    assert spc(values, screen_outliers=True).segments[0].mr_bar == 2


# --- Rule: a point outside the process limits -----------------------------------------------------

# 48 and 52 taking turns, 11 points (sum 548), then one far point: the moving ranges are ten of 4
# and one of 18, MR-bar 58/11 ≈ 5.273, so the limits are mean ± 2.66 × 58/11 = mean ± 14.026.
HIGH = [48, 52] * 5 + [48, 66]  # mean 614/12 ≈ 51.167, upper limit ≈ 65.192: 66 is above it
LOW = [48, 52] * 5 + [48, 30]  # mean 578/12 ≈ 48.167, lower limit ≈ 34.141: 30 is below it


def test_a_point_above_the_upper_limit_is_special_cause() -> None:
    result = spc(HIGH)
    assert result.segments[0].upl == pytest.approx(614 / 12 + 2.66 * 58 / 11)
    assert flagged(result) == {11: ["outside_limits"]}
    assert result.points[11].side is Side.high


def test_a_point_below_the_lower_limit_is_special_cause() -> None:
    result = spc(LOW)
    assert result.segments[0].lpl == pytest.approx(578 / 12 - 2.66 * 58 / 11)
    assert flagged(result) == {11: ["outside_limits"]}
    assert result.points[11].side is Side.low


# --- Rule: a run of 7 on one side of the mean -----------------------------------------------------


def test_a_run_of_seven_above_the_mean_is_special_cause() -> None:
    # Sum 153 over 14 points: mean ≈ 10.93. Indices 5–11 (12s and 13s) are above it, with 6s
    # either side below. Ranges: 8 8 8 8 6 1 1 1 1 1 1 6 8, MR-bar 58/13 ≈ 4.46, so the 2-sigma
    # lines are 10.93 ± 7.91 (3.02, 18.84): no point comes near them.
    result = spc([6, 14, 6, 14, 6, 12, 13, 12, 13, 12, 13, 12, 6, 14])
    assert result.segments[0].mean == pytest.approx(153 / 14)
    assert flagged(result) == {i: ["run"] for i in range(5, 12)}
    assert [s.rule for s in result.signals] == [Rule.run]


def test_a_run_of_six_is_not() -> None:
    # The seventh 12 becomes a 6: sum 147, mean 10.5; indices 5–10 are above it, 11 is below.
    result = spc([6, 14, 6, 14, 6, 12, 13, 12, 13, 12, 13, 6, 6, 14])
    assert result.segments[0].mean == 10.5
    assert flagged(result) == {}


def test_a_point_on_the_mean_breaks_a_run() -> None:
    # Sum 165 over 15 points: mean 11 exactly, and index 8 is 11. Either side of it are 3 and 4
    # points above the mean: no run of 7.
    on_the_mean = [6, 14, 6, 14, 6, 12, 13, 12, 11, 12, 13, 12, 13, 6, 15]
    assert spc(on_the_mean).segments[0].mean == 11
    assert flagged(spc(on_the_mean)) == {}
    # The same with index 8 at 12 (sum 166, mean ≈ 11.07): indices 5–12 are a run of 8.
    above = [*on_the_mean[:8], 12, *on_the_mean[9:]]
    assert flagged(spc(above)) == {i: ["run"] for i in range(5, 13)}


def test_a_long_run_is_flagged_in_full() -> None:
    # Four 1s and twelve 9s: sum 112 over 16, mean 7. The 9s from index 7 to 15 are a run of 9.
    result = spc([1, 9, 1, 9, 1, 9, 1, 9, 9, 9, 9, 9, 9, 9, 9, 9])
    assert flagged(result) == {i: ["run"] for i in range(7, 16)}
    (signal,) = result.signals
    assert signal.indices == tuple(range(7, 16))
    assert signal.side is Side.high


# --- Rule: a trend of 7 rising or falling ---------------------------------------------------------

# 2 20 2 20, then 5 7 9 11 13 15 17 (indices 4–10, six rises), then 2 20 2. Sum 145 over 14: mean
# ≈ 10.36, so the trend crosses the mean (no run). Ranges 18 18 18 15 2 2 2 2 2 2 15 18 18, MR-bar
# 132/13 ≈ 10.15: limits 10.36 ± 27.01 and 2-sigma lines 10.36 ± 18.00, far from every point.
RISING = [2, 20, 2, 20, 5, 7, 9, 11, 13, 15, 17, 2, 20, 2]


def test_a_trend_of_seven_rising_is_special_cause() -> None:
    result = spc(RISING)
    assert result.segments[0].mr_bar == pytest.approx(132 / 13)
    assert flagged(result) == {i: ["trend"] for i in range(4, 11)}
    (signal,) = result.signals
    assert (signal.rule, signal.side) == (Rule.trend, Side.high)


def test_a_trend_of_seven_falling_is_special_cause() -> None:
    result = spc(RISING[::-1])  # the same series backwards: indices 3–9 fall
    assert flagged(result) == {i: ["trend"] for i in range(3, 10)}
    assert result.signals[0].side is Side.low


def test_a_trend_of_six_is_not() -> None:
    assert flagged(spc([2, 20, 2, 20, 5, 7, 9, 11, 13, 15, 2, 20, 2, 20])) == {}


def test_an_equal_pair_breaks_a_trend() -> None:
    # 5 7 9 9 11 13 15: eight points never falling, but 9 → 9 is no rise; 3 and 4 rising points.
    assert flagged(spc([2, 20, 2, 20, 5, 7, 9, 9, 11, 13, 15, 2, 20, 2])) == {}


def test_a_trend_is_read_by_its_direction_not_its_side_of_the_mean() -> None:
    # 5, 7 and 9 are below the mean but part of a rising trend: improvement when up is better.
    result = spc(RISING, "increase")
    assert {result.points[i].variation for i in range(4, 11)} == {
        Variation.special_cause_improvement
    }
    assert {result.points[i].side for i in range(4, 11)} == {Side.high}


# --- Rule: 2 of 3 beyond 2 sigma on the same side -------------------------------------------------

# CALM then 17 14 17 12 10: sum 180 over 15, mean 12 exactly. Ranges: nine of 2, then 5 3 3 5 2,
# MR-bar 36/14 = 18/7 ≈ 2.571. Upper 2-sigma line 12 + (2.66 × 2/3) × 18/7 = 16.56, upper limit
# 12 + 2.66 × 18/7 = 18.84. Both 17s lie between them; 14 is above the mean but not beyond 2 sigma.
TWO_OF_THREE_HIGH = [*CALM, 17, 14, 17, 12, 10]


def test_two_of_three_beyond_two_sigma_on_the_same_side_are_special_cause() -> None:
    result = spc(TWO_OF_THREE_HIGH)
    segment = result.segments[0]
    assert segment.mean == 12
    assert segment.upper_two_sigma == pytest.approx(12 + (2.66 * 2 / 3) * 18 / 7)
    assert segment.upl == pytest.approx(18.84)
    # The two points near the limit are flagged; the 14 between them is not (as NHSRplotthedots).
    assert flagged(result) == {10: ["two_of_three"], 12: ["two_of_three"]}
    assert result.signals[0].side is Side.high


def test_two_of_three_below() -> None:
    # The mirror image (24 − x): mean 12, lower 2-sigma line ≈ 7.441, lower limit 5.16; 7s between.
    result = spc([24 - x for x in TWO_OF_THREE_HIGH])
    assert result.segments[0].lower_two_sigma == pytest.approx(12 - (2.66 * 2 / 3) * 18 / 7)
    assert flagged(result) == {10: ["two_of_three"], 12: ["two_of_three"]}
    assert result.signals[0].side is Side.low


def test_two_of_three_needs_all_three_on_one_side_of_the_mean() -> None:
    # CALM then 18 11 18 12 10: sum 179, mean ≈ 11.93; ranges sum 46, MR-bar 23/7 ≈ 3.286; upper
    # 2-sigma line ≈ 17.76 and upper limit ≈ 20.67, so both 18s are close to the limit, but the 11
    # between them is below the mean.
    result = spc([*CALM, 18, 11, 18, 12, 10])
    assert result.segments[0].upper_two_sigma == pytest.approx(179 / 15 + (2.66 * 2 / 3) * 46 / 14)
    assert flagged(result) == {}


def test_two_beyond_two_sigma_on_opposite_sides_are_not_two_of_three() -> None:
    # CALM then 18 12 5 12 10: sum 167, mean ≈ 11.13; ranges sum 46, MR-bar 23/7 ≈ 3.286; 2-sigma
    # lines ≈ 5.31 and 16.96, limits ≈ 2.39 and 19.87. 18 is beyond the upper 2-sigma line, 5
    # beyond the lower one: two of three beyond 2 sigma, but not on the same side.
    result = spc([*CALM, 18, 12, 5, 12, 10])
    segment = result.segments[0]
    assert segment.lower_two_sigma == pytest.approx(167 / 15 - (2.66 * 2 / 3) * 23 / 7)
    assert segment.upper_two_sigma == pytest.approx(167 / 15 + (2.66 * 2 / 3) * 23 / 7)
    assert segment.upper_two_sigma is not None and segment.lower_two_sigma is not None
    assert segment.upper_two_sigma < 18 and segment.lower_two_sigma > 5
    assert flagged(result) == {}


def test_a_point_outside_the_limits_does_not_count_towards_two_of_three() -> None:
    # 10 14 … then 27 23 16 14 10: sum 210, mean 14; ranges sum 66, MR-bar 33/7 ≈ 4.714. Upper
    # 2-sigma line ≈ 22.36, upper limit 26.54. 27 is outside; 23 is close to the limit; 16 is above
    # the mean. NHSRplotthedots counts only points between the 2-sigma line and the limit, so 23
    # stays common cause (Western Electric's zone rule would flag it).
    result = spc([10, 14] * 5 + [27, 23, 16, 14, 10])
    assert result.segments[0].upl == pytest.approx(14 + 2.66 * 33 / 7)
    assert flagged(result) == {10: ["outside_limits"]}


def test_overlapping_two_of_three_windows_make_one_signal() -> None:
    # CALM then 17 17 14 17 12 10: mean 197/16 ≈ 12.31, MR-bar 36/15 = 2.4, upper 2-sigma line
    # ≈ 16.57. The windows 17 17 14 (flags 10, 11) and 17 14 17 (flags 11, 13) overlap: one signal.
    # (CALM is now all below the mean, a run of 10; that is another signal.)
    result = spc([*CALM, 17, 17, 14, 17, 12, 10])
    two_of_three = [s for s in result.signals if s.rule is Rule.two_of_three]
    assert [s.indices for s in two_of_three] == [(10, 11, 13)]


# --- Variation and the icons ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("series", "direction", "variation", "icon"),
    [
        (HIGH, "increase", Variation.special_cause_improvement, VariationIcon.improvement_high),
        (HIGH, "decrease", Variation.special_cause_concern, VariationIcon.concern_high),
        (HIGH, "neutral", Variation.special_cause_neutral, VariationIcon.neutral_high),
        (LOW, "increase", Variation.special_cause_concern, VariationIcon.concern_low),
        (LOW, "decrease", Variation.special_cause_improvement, VariationIcon.improvement_low),
        (LOW, "neutral", Variation.special_cause_neutral, VariationIcon.neutral_low),
    ],
)
def test_special_cause_is_improvement_or_concern_by_the_measure_direction(
    series: list[float], direction: str, variation: Variation, icon: VariationIcon
) -> None:
    result = spc(series, direction)
    assert result.points[-1].variation is variation
    assert result.variation_icon is icon
    assert {p.variation for p in result.points[:-1]} == {Variation.common_cause}


def test_a_common_cause_latest_point_gives_the_common_cause_icon() -> None:
    # The last point of the rising trend is special cause; one more ordinary point is not.
    assert spc(RISING[:11]).variation_icon is VariationIcon.improvement_high
    assert spc(RISING).variation_icon is VariationIcon.common_cause


def test_a_turning_point_takes_the_later_trend() -> None:
    # 5 7 … 17 rises (indices 4–10) and 17 15 … 5 falls (10–16). Sum 225 over 21: mean ≈ 10.71;
    # ranges sum 162, MR-bar 8.1, limits ≈ −10.83 and 32.26. Index 10, the 17, belongs to both and
    # is read as falling, as NHSRplotthedots does. 11–13 are also in a run above the mean (7–13),
    # but a trend outranks a run when deciding improvement or concern.
    values = [2, 20, 2, 20, 5, 7, 9, 11, 13, 15, 17, 15, 13, 11, 9, 7, 5, 20, 2, 20, 2]
    result = spc(values, "increase")
    assert result.segments[0].mr_bar == pytest.approx(8.1)
    assert [s.rule for s in result.signals] == [Rule.trend, Rule.run, Rule.trend]
    assert result.points[10].rules == (Rule.run, Rule.trend)
    sides = [p.side for p in result.points[4:17]]
    assert sides == [Side.high] * 6 + [Side.low] * 7
    assert result.points[9].variation is Variation.special_cause_improvement
    assert result.points[11].variation is Variation.special_cause_concern


def test_a_falling_trend_is_concern_when_up_is_better() -> None:
    result = spc(RISING[::-1], "increase")
    assert {result.points[i].variation for i in range(3, 10)} == {Variation.special_cause_concern}


# --- Assurance ------------------------------------------------------------------------------------

# 0 50 × 6: mean 25, MR-bar 50, limits 25 ± 133: −108 and 158.
WIDE = [0, 50] * 6


@pytest.mark.parametrize(
    ("target", "direction", "assurance"),
    [
        (200, "increase", Assurance.consistent_fail),  # above the upper limit: never reached
        (200, "decrease", Assurance.consistent_pass),  # every point is below it
        (-200, "increase", Assurance.consistent_pass),
        (-200, "decrease", Assurance.consistent_fail),
        (25, "increase", Assurance.hit_or_miss),
        (158, "increase", Assurance.hit_or_miss),  # on the limit: NHSRplotthedots says inconsistent
        (-108, "decrease", Assurance.hit_or_miss),
        (200, "neutral", Assurance.none),
        (None, "increase", Assurance.none),
    ],
)
def test_assurance_compares_the_target_with_the_limits(
    target: float | None, direction: str, assurance: Assurance
) -> None:
    result = spc(WIDE, direction, target=target)
    assert result.assurance is assurance
    assert result.as_json()["assurance"] == assurance.value


def test_assurance_reads_the_latest_limits_after_a_rebase() -> None:
    # Before the rebase: 25 ± 133. After it, 100 102 × 6: mean 101, MR-bar 2, limits 101 ± 5.32.
    after = [100, 102] * 6
    result = spc(WIDE + after, "increase", target=90, rebase_at=[12])
    assert result.assurance is Assurance.consistent_pass
    assert spc(WIDE, "increase", target=90).assurance is Assurance.hit_or_miss


# --- Trial limits ---------------------------------------------------------------------------------


def test_limits_from_fewer_than_twelve_points_are_trial_limits() -> None:
    assert spc([10, 14] * 5 + [10]).trial_limits is True  # 11 points
    assert spc([10, 14] * 6).trial_limits is False  # 12 points
    assert spc([10, 14] * 6).as_json()["trial_limits"] is False


def test_a_short_segment_after_a_rebase_has_trial_limits() -> None:
    result = spc([10, 14] * 6 + [20, 26] * 3, rebase_at=[12])
    assert [s.trial_limits for s in result.segments] == [False, True]
    assert result.trial_limits is True


# --- Rebasing -------------------------------------------------------------------------------------

BEFORE = [10, 14] * 6  # mean 12, MR-bar 4: limits 1.36 and 22.64
AFTER = [20, 26] * 6  # mean 23, MR-bar 6: limits 7.04 and 38.96


def test_rebasing_gives_each_segment_its_own_mean_and_limits() -> None:
    result = spc(BEFORE + AFTER, rebase_at=[12])
    first, second = result.segments
    assert (first.first, first.last, second.first, second.last) == (0, 11, 12, 23)
    assert (first.mean, first.mr_bar) == (12, 4)
    assert first.lpl == pytest.approx(1.36) and first.upl == pytest.approx(22.64)
    # The jump 14 → 20 across the rebase is no moving range of either segment.
    assert (second.mean, second.mr_bar) == (23, 6)
    assert second.lpl == pytest.approx(7.04) and second.upl == pytest.approx(38.96)
    assert [p.segment for p in result.points] == [0] * 12 + [1] * 12
    assert result.rebased_at == (12,)


def test_rebasing_changes_limits_after_the_rebase_point_only() -> None:
    # What comes after a rebase never moves the limits before it: the first segment is exactly the
    # chart of the first 12 points alone, flags included.
    rebased = spc(BEFORE + AFTER, rebase_at=[12])
    assert rebased.points[:12] == spc(BEFORE).points
    unrebased = spc(BEFORE + AFTER)
    # Without the rebase the step change is one chart: mean 17.5, and each half a run.
    assert unrebased.segments[0].mean == 17.5
    assert flagged(unrebased) == {i: ["run"] for i in range(24)}
    assert flagged(rebased) == {}


def test_rules_do_not_look_across_a_rebase() -> None:
    # 2 8 × 6, then eight 9s, then 2 8 × 6: mean 6 with or without the rebase. Unrebased, the last
    # 8 and the eight 9s (indices 11–19) are a run of 9. Rebased between the 9s, each segment
    # holds a run of 5 and of 4: no run.
    values = [2, 8] * 6 + [9] * 8 + [2, 8] * 6
    assert flagged(spc(values)) == {i: ["run"] for i in range(11, 20)}
    assert flagged(spc(values, rebase_at=[16])) == {}


@pytest.mark.parametrize("rebase_at", [[0], [5], [-1], [7]])
def test_a_rebase_must_fall_inside_the_series(rebase_at: list[int]) -> None:
    with pytest.raises(ValueError, match="rebase"):
        spc([1, 2, 3, 4, 5], rebase_at=rebase_at)


# --- Edge cases -----------------------------------------------------------------------------------


def test_no_points() -> None:
    result = spc([], target=5)
    assert result.points == () and result.segments == () and result.signals == ()
    assert result.assurance is Assurance.none
    assert result.variation_icon is None
    assert result.trial_limits is False
    assert result.as_json() == {
        "points": [],
        "assurance": "none",
        "variation_icon": None,
        "trial_limits": False,
    }


def test_one_point_has_a_mean_but_no_limits() -> None:
    # No moving range, so no estimate of the variation: the limits are None, not the mean.
    result = spc([7], target=5)
    (point,) = result.points
    assert (point.mean, point.lpl, point.upl) == (7, None, None)
    assert point.variation is Variation.common_cause
    assert result.assurance is Assurance.none
    assert result.variation_icon is VariationIcon.common_cause
    assert result.trial_limits is True
    assert result.as_json()["points"][0]["lpl"] is None


def test_two_points_have_limits_and_cannot_be_outside_them() -> None:
    # 4 10: mean 7, one range of 6: limits 7 ± 15.96, −8.96 and 22.96.
    result = spc([4, 10])
    assert result.segments[0].lpl == pytest.approx(-8.96)
    assert result.segments[0].upl == pytest.approx(22.96)
    assert flagged(result) == {}


def test_equal_values_sit_on_their_limits_and_are_not_outside_them() -> None:
    # MR-bar 0: both limits are the mean, and a point on a limit is inside it (NHSRplotthedots: >).
    result = spc([5] * 15)
    (segment,) = result.segments
    assert (segment.mean, segment.mr_bar, segment.lpl, segment.upl) == (5, 0, 5, 5)
    assert flagged(result) == {}


def test_with_limits_on_the_mean_any_other_value_is_outside() -> None:
    # Screening can leave MR-bar at 0 while a value differs: 5 × 11 then 9. MR-bar 4/11; the one
    # range of 4 is ≥ 3.267 × 4/11 ≈ 1.19, so it is screened out and MR-bar becomes 0. The limits
    # close on the mean, 64/12 ≈ 5.33: every 5 is below them (and a run), the 9 above.
    result = spc([5] * 11 + [9], screen_outliers=True)
    segment = result.segments[0]
    assert segment.mr_bar == 0 and segment.lpl == segment.upl == pytest.approx(64 / 12)
    assert flagged(result) == {i: ["outside_limits", "run"] for i in range(11)} | {
        11: ["outside_limits"]
    }


def test_points_must_be_in_period_order() -> None:
    points = weekly([1, 2, 3])
    with pytest.raises(ValueError, match="order"):
        xmr([points[1], points[0], points[2]], direction="increase")


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_values_must_be_finite(bad: float) -> None:
    with pytest.raises(ValueError, match="finite"):
        spc([1, bad, 3])


def test_the_direction_is_checked() -> None:
    with pytest.raises(ValueError):
        spc([1, 2, 3], "sideways")
    assert spc([1, 2, 3], Direction.decrease).direction is Direction.decrease


# --- Properties -----------------------------------------------------------------------------------

# Whole numbers, as counts and minutes are: shifting or scaling them by a whole number (or a power
# of two) is exact in floating point, so the engine's exact arithmetic must give identical flags.
counts = st.lists(st.integers(min_value=0, max_value=10_000), max_size=40)
directions = st.sampled_from(list(Direction))


def rebase_points(values: list[int]) -> st.SearchStrategy[list[int]]:
    return st.lists(st.integers(1, len(values) - 1), max_size=3) if len(values) > 1 else st.just([])


def judgement(result: SpcResult) -> list[tuple[object, ...]]:
    return [(p.rules, p.variation, p.side) for p in result.points]


@given(st.data(), counts, directions)
def test_limits_are_symmetric_about_the_mean(
    data: st.DataObject, values: list[int], direction: Direction
) -> None:
    result = spc(values, direction, rebase_at=data.draw(rebase_points(values)))
    for segment in result.segments:
        if segment.lpl is None or segment.upl is None:
            assert segment.size == 1
            continue
        assert segment.upl - segment.mean == pytest.approx(segment.mean - segment.lpl, abs=1e-9)
        assert segment.lpl <= segment.mean <= segment.upl


@given(st.integers(-1000, 1000), st.integers(0, 40), directions)
def test_a_constant_series_has_no_special_cause(
    value: int, count: int, direction: Direction
) -> None:
    result = spc([value] * count, direction)
    assert flagged(result) == {}
    assert result.variation_icon in (None, VariationIcon.common_cause)


@given(st.data(), counts, st.integers(-10_000, 10_000), directions)
def test_shifting_a_series_shifts_its_limits_and_keeps_its_flags(
    data: st.DataObject, values: list[int], shift: int, direction: Direction
) -> None:
    rebase_at = data.draw(rebase_points(values))
    before = spc(values, direction, rebase_at=rebase_at)
    after = spc([v + shift for v in values], direction, rebase_at=rebase_at)
    assert judgement(after) == judgement(before)
    for old, new in zip(before.segments, after.segments, strict=True):
        assert new.mean == pytest.approx(old.mean + shift)
        assert new.mr_bar == old.mr_bar
        if old.lpl is not None and old.upl is not None:
            assert new.lpl == pytest.approx(old.lpl + shift)
            assert new.upl == pytest.approx(old.upl + shift)


@given(st.data(), counts, st.sampled_from([2, 3, 7, 10, 0.5, 0.25]), directions)
def test_scaling_a_series_scales_its_limits_and_keeps_its_flags(
    data: st.DataObject, values: list[int], factor: float, direction: Direction
) -> None:
    rebase_at = data.draw(rebase_points(values))
    before = spc(values, direction, rebase_at=rebase_at)
    after = spc([v * factor for v in values], direction, rebase_at=rebase_at)
    assert judgement(after) == judgement(before)
    for old, new in zip(before.segments, after.segments, strict=True):
        assert new.mean == pytest.approx(old.mean * factor)
        if old.lpl is not None and old.upl is not None:
            assert new.lpl == pytest.approx(old.lpl * factor)
            assert new.upl == pytest.approx(old.upl * factor)


@given(counts, counts, directions)
def test_a_rebased_series_is_its_segments_charted_alone(
    first: list[int], second: list[int], direction: Direction
) -> None:
    if not first or not second:
        return
    whole = spc(first + second, direction, rebase_at=[len(first)])
    alone = spc(first, direction).points + spc(second, direction).points
    assert judgement(whole) == [(p.rules, p.variation, p.side) for p in alone]
    assert [p.mean for p in whole.points] == [p.mean for p in alone]


@given(counts, directions)
def test_every_flag_is_explained_by_a_signal(values: list[int], direction: Direction) -> None:
    result = spc(values, direction)
    from_signals = {(i, s.rule) for s in result.signals for i in s.indices}
    from_points = {(i, rule) for i, p in enumerate(result.points) for rule in p.rules}
    assert from_signals == from_points
    for signal in result.signals:
        if signal.rule in (Rule.run, Rule.trend):
            assert len(signal.indices) >= 7
            assert list(signal.indices) == list(range(signal.indices[0], signal.indices[-1] + 1))


# --- Values as typed (issue #13) ------------------------------------------------------------------

# Six typed values below a mean of exactly 1.7, with a typed 1.7 in the middle, then six above:
# 1.2 1.5 1.2 1.7 1.5 1.2 1.5 | 1.9 2.2 1.9 2.2 1.9 2.2. Sum 8.1 + 1.7 + 12.3 = 22.1, mean 22.1/13 = 1.7.
# Read as binary floats, 1.7 is 1.69999999999999995559… and the float mean a hair above it, so the
# 1.7 counted as below and joined three and three into a false run of 7.
TYPED = [1.2, 1.5, 1.2, 1.7, 1.5, 1.2, 1.5, 1.9, 2.2, 1.9, 2.2, 1.9, 2.2]


def test_a_typed_value_on_a_typed_mean_is_on_the_mean_and_breaks_a_run() -> None:
    result = spc(TYPED)
    assert result.segments[0].mean == 1.7
    assert result.points[3].side is None and not result.points[3].special_cause
    assert all(Rule.run not in p.rules for p in result.points)


def test_decimals_strings_and_floats_give_the_same_flags() -> None:
    from decimal import Decimal

    as_floats = spc(TYPED)
    as_decimals = xmr(weekly([Decimal(str(v)) for v in TYPED]), direction="increase")  # type: ignore[arg-type]
    as_strings = xmr(weekly([str(v) for v in TYPED]), direction="increase")  # type: ignore[arg-type]
    assert as_floats.as_json() == as_decimals.as_json() == as_strings.as_json()


def test_a_typed_value_on_a_typed_limit_is_inside_it() -> None:
    # 0.1 0.3 0.1 0.3 …: mean 0.2, MR-bar 0.2, upper limit 0.2 + 2.66 × 0.2 = 0.732 exactly.
    # A typed 0.732 sits on the limit: inside, not special cause (binary floats would have to guess).
    values = [0.1, 0.3] * 6
    result = spc([*values, 0.732], rebase_at=())
    # The new point moves the mean a little, so check the rule with a baseline of the first 12.
    fixed = xmr(weekly([*values, 0.732]), direction="increase", baseline_points=12)
    assert fixed.segments[0].upl == pytest.approx(0.732)
    assert not fixed.points[-1].special_cause
    assert result.points[-1].value == 0.732


def test_two_sigma_is_two_thirds_of_the_limit_distance_exactly() -> None:
    from fractions import Fraction

    from api.measures.spc import PROCESS_LIMIT_FACTOR, TWO_SIGMA_FACTOR

    assert PROCESS_LIMIT_FACTOR * Fraction(2, 3) == TWO_SIGMA_FACTOR
    assert Fraction(266, 150) == TWO_SIGMA_FACTOR


# --- Non-negative measures, baselines and gaps -----------------------------------------------------


def test_a_lower_limit_below_zero_is_drawn_at_zero_for_a_measure_that_cannot_be_negative() -> None:
    # 0 40 0 40 …: mean 20, MR-bar 40, lower limit 20 − 106.4 = −86.4; drawn at 0.
    values = [0, 40] * 6
    plain = spc(values)
    floored = xmr(weekly(values), direction="decrease", non_negative=True)
    assert plain.segments[0].lpl == pytest.approx(-86.4)
    assert floored.segments[0].lpl == 0
    assert floored.segments[0].lower_two_sigma == 0
    assert all(p.lpl == 0 for p in floored.points)
    assert flagged(plain) == flagged(floored)
    assert floored.as_json()["points"][0]["lpl"] == 0


def test_a_negative_value_is_refused_for_a_measure_that_cannot_be_negative() -> None:
    with pytest.raises(ValueError, match="negative"):
        xmr(weekly([1, -1]), direction="decrease", non_negative=True)


def test_a_baseline_fixes_the_limits_and_judges_later_points_against_them() -> None:
    # Baseline 10 12 × 6: mean 11, MR-bar 2, limits 5.68 to 16.32. Then seven 13s: all above the
    # baseline mean; with the last baseline 12 they make a run of 8 (with the 13s in the mean, the
    # mean would be 11.9 and the run the same: the point is the limits did not move).
    values = [10, 12] * 6 + [13] * 7
    fixed = xmr(weekly(values), direction="increase", baseline_points=12)
    segment = fixed.segments[0]
    assert segment.mean == 11 and segment.mr_bar == 2
    assert segment.upl == pytest.approx(16.32)
    assert [i for i, p in enumerate(fixed.points) if Rule.run in p.rules] == list(range(11, 19))
    assert not fixed.segments[0].trial_limits


def test_a_baseline_needs_two_points() -> None:
    with pytest.raises(ValueError, match="baseline"):
        xmr(weekly([1, 2, 3]), direction="increase", baseline_points=1)


def test_an_empty_period_has_no_point_and_no_part_in_the_limits() -> None:
    # 10 _ 12 10 12: mean 44/4 = 11; moving ranges only between neighbours: 2 2 (not 10→12 across
    # the gap), MR-bar 2.
    result = xmr(weekly([10, None, 12, 10, 12]), direction="increase")
    segment = result.segments[0]
    assert segment.mean == 11 and segment.mr_bar == 2
    gap = result.points[1]
    assert gap.value is None and not gap.special_cause
    assert result.as_json()["points"][1] == {
        "start": "2025-11-10",
        "value": None,
        "mean": 11.0,
        "lpl": pytest.approx(5.68),
        "upl": pytest.approx(16.32),
        "special_cause": False,
        "rules": [],
        "variation": None,
        "partial": False,
    }


def test_a_period_not_over_yet_is_drawn_but_takes_no_part_in_the_limits_or_rules() -> None:
    """Monday morning: this week's 0 so far is no low week. Without it: 20 21 20 21 20 21, mean
    20.5, limits 17.84 to 23.16; as a whole week the 0 would drop the mean and show as a signal."""
    whole = [20, 21, 20, 21, 20, 21]
    result = xmr(weekly([*whole, 0]), direction="decrease", partial_last=True, non_negative=True)
    alone = xmr(weekly(whole), direction="decrease", non_negative=True)
    assert result.segments[0].mean == alone.segments[0].mean == 20.5
    assert result.segments[0].mr_bar == alone.segments[0].mr_bar
    so_far = result.points[-1]
    assert so_far.partial and so_far.value == 0 and not so_far.special_cause
    assert so_far.variation is Variation.common_cause
    assert [p.partial for p in result.points[:-1]] == [False] * 6
    assert result.as_json()["points"][-1]["partial"] is True
    assert result.variation_icon == alone.variation_icon
    # As a whole week, the same 0 would be judged (below the lower limit: an improvement).
    judged = xmr(weekly([*whole, 0]), direction="decrease", non_negative=True)
    assert judged.points[-1].special_cause


def test_a_period_not_over_yet_never_completes_a_run_or_trend() -> None:
    # Six rising weeks and a seventh so far: no trend of 7 until that week is over.
    rising = [1, 2, 3, 4, 5, 6, 7]
    assert xmr(weekly(rising), direction="increase").signals
    assert not xmr(weekly(rising), direction="increase", partial_last=True).signals


def test_the_rules_read_across_an_empty_period() -> None:
    # A run of 7 above the mean with a gap in the middle is still a run of 7 points.
    values: list[float | None] = [9, 1] * 5 + [6, 6, 6, None, 6, 6, 6, 6]
    result = xmr(weekly(values), direction="increase")  # type: ignore[arg-type]
    run = [i for i, p in enumerate(result.points) if Rule.run in p.rules]
    assert run == [10, 11, 12, 14, 15, 16, 17]


def test_a_series_of_empty_periods_has_no_limits_and_no_icon() -> None:
    result = xmr(weekly([None, None]), direction="decrease")
    assert result.segments[0].mean is None and result.segments[0].lpl is None
    assert result.variation_icon is None
    assert [p["value"] for p in result.as_json()["points"]] == [None, None]
