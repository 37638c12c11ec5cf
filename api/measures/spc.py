"""XmR statistical process control the "Making Data Count" way (SPEC §8), as NHSRplotthedots does it.

Pure functions over (period start, value) pairs: no database, no clock. Values are read as the
decimals people typed (a float is read through its shortest repr, so 1.7 is 17/10, not the binary
number nearest it; Decimal, int and str are read exactly) and the arithmetic is exact
(`fractions.Fraction`), so "a point exactly on the mean" and "two equal values" mean what they say,
and shifting or scaling a series never changes which points are special cause. A value of None is a
period with nothing to measure: no point, left out of the limits. Floats come out only at the edge,
in the dataclasses the routes and charts read. See docs/spc.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from functools import cached_property
from itertools import pairwise
from typing import Any

# mean ± 3 sigma, with sigma estimated as MR-bar / d2 and d2 = 1.128 for ranges of two: 3 / 1.128.
PROCESS_LIMIT_FACTOR = Fraction("2.66")
# The 2-sigma lines of the two-in-three rule (SPEC §8): exactly 2/3 of the process limit distance,
# 2.66 × 2/3 = 1.77333…, as NHSRplotthedots (`limitclose <- 2 * (limit / 3)`) and MDC compute it.
TWO_SIGMA_FACTOR = PROCESS_LIMIT_FACTOR * 2 / 3
# Optional screening of moving ranges (NHSRplotthedots' screen_outliers): the upper range limit, 3.267.
MOVING_RANGE_SCREEN_FACTOR = Fraction("3.267")
RUN_LENGTH = 7  # points on one side of the mean
TREND_LENGTH = 7  # points, each higher (or each lower) than the one before
MIN_POINTS_FOR_LIMITS = 12  # fewer points in a segment and its limits are only "trial" limits


class Direction(StrEnum):
    """Which way is better for the measure; neutral when neither is (e.g. handover notes per week)."""

    increase = "increase"
    decrease = "decrease"
    neutral = "neutral"


class Rule(StrEnum):
    """The special-cause rules, in the order they are listed on a point."""

    outside_limits = "outside_limits"
    run = "run"
    trend = "trend"
    two_of_three = "two_of_three"


class Side(StrEnum):
    """Which way a special cause points: higher values (or a rising trend) or lower ones."""

    high = "high"
    low = "low"


class Variation(StrEnum):
    common_cause = "common_cause"
    special_cause_improvement = "special_cause_improvement"
    special_cause_concern = "special_cause_concern"
    special_cause_neutral = "special_cause_neutral"


class VariationIcon(StrEnum):
    """The Making Data Count variation icons, chosen by the latest point."""

    common_cause = "common_cause"
    improvement_high = "improvement_high"
    improvement_low = "improvement_low"
    concern_high = "concern_high"
    concern_low = "concern_low"
    neutral_high = "neutral_high"
    neutral_low = "neutral_low"


class Assurance(StrEnum):
    """Can the process be relied on to meet the target? The target is read against the latest
    segment's limits: beyond them on the bad side, every point is expected to meet it (pass); beyond
    them on the good side, none is (fail); between them, some will and some won't (hit or miss).
    None when there is no target, no limits, or the measure is neutral.
    """

    consistent_pass = "pass"  # noqa: S105 - an assurance word, not a secret
    consistent_fail = "fail"
    hit_or_miss = "hit_or_miss"
    none = "none"


@dataclass(frozen=True)
class Segment:
    """A stretch of points between rebases, with its own mean and limits.

    `mr_bar` and the limits are None for a one-point segment: with no moving range there is no
    estimate of the variation, and a limit equal to the mean would claim a certainty we do not have.
    """

    first: int  # index of its first point in the series
    last: int  # index of its last point (inclusive)
    mean: float | None  # None when every period in it is empty
    mr_bar: float | None
    lpl: float | None
    upl: float | None
    lower_two_sigma: float | None
    upper_two_sigma: float | None
    trial_limits: bool  # fewer than MIN_POINTS_FOR_LIMITS points

    @property
    def size(self) -> int:
        return self.last - self.first + 1


@dataclass(frozen=True)
class Signal:
    """One special cause as a person would describe it: "a run of 8 below the mean", say."""

    rule: Rule
    side: Side  # for a trend: rising (high) or falling (low); otherwise the side of the mean
    indices: tuple[int, ...]  # the points it flags, in order


@dataclass(frozen=True)
class SpcPoint:
    start: date
    value: float | None  # None: nothing to measure in this period (no point is drawn)
    mean: float | None
    lpl: float | None
    upl: float | None
    rules: tuple[Rule, ...]  # every rule the point is part of, in Rule order
    variation: Variation
    side: Side | None  # None for common cause
    segment: int  # index into SpcResult.segments
    #: The period is not over yet (this week or month so far): drawn, but left out of the mean,
    #: the limits and the rules, as a period with nothing to measure is.
    partial: bool = False

    @property
    def special_cause(self) -> bool:
        return bool(self.rules)

    def as_json(self) -> dict[str, Any]:
        """One entry of SPEC §8's `points`."""
        return {
            "start": self.start.isoformat(),
            "value": self.value,
            "mean": self.mean,
            "lpl": self.lpl,
            "upl": self.upl,
            "special_cause": self.special_cause,
            "rules": [rule.value for rule in self.rules],
            # A period not over is not judged: no variation, as for one with nothing to measure.
            "variation": None if self.value is None or self.partial else self.variation.value,
            "partial": self.partial,
        }


@dataclass(frozen=True)
class SpcResult:
    points: tuple[SpcPoint, ...]
    segments: tuple[Segment, ...]
    signals: tuple[Signal, ...]
    direction: Direction
    target: float | None
    assurance: Assurance
    variation_icon: VariationIcon | None  # None when there are no points

    @property
    def trial_limits(self) -> bool:
        """True when any segment has fewer than 12 points, so some limits drawn are only trial."""
        return any(segment.trial_limits for segment in self.segments)

    @property
    def rebased_at(self) -> tuple[int, ...]:
        return tuple(segment.first for segment in self.segments[1:])

    def as_json(self) -> dict[str, Any]:
        """SPEC §8's body without `measure` and `period`, which the route knows and adds."""
        return {
            "points": [point.as_json() for point in self.points],
            "assurance": self.assurance.value,
            "variation_icon": self.variation_icon.value if self.variation_icon else None,
            "trial_limits": self.trial_limits,
        }


Number = int | float | Decimal | Fraction | str


def xmr(
    points: Sequence[tuple[date, Number | None]],
    *,
    direction: Direction | str,
    target: Number | None = None,
    rebase_at: Iterable[int] = (),
    screen_outliers: bool = False,
    baseline_points: int | None = None,
    non_negative: bool = False,
    partial_last: bool = False,
) -> SpcResult:
    """An XmR chart's numbers, flags and icons for points in period order.

    `direction` has no default on purpose: a wrong one silently paints improvement as concern.
    `rebase_at` holds indices where new limits start (each segment gets its own mean and limits, and
    the rules never look across a rebase). `screen_outliers` leaves moving ranges of 3.267 × MR-bar
    or more out of MR-bar, as NHSRplotthedots does by default; SPEC §8 says plain MR-bar, so it is off.
    `baseline_points` fixes the first segment's mean and limits from its first n points (a baseline
    period; NHSRplotthedots' `fix_after_n_points`), the later points judged against them.
    A value of None is a period with nothing to measure: it has no point, takes no part in the mean
    or the limits, breaks the moving ranges beside it (as NA does in NHSRplotthedots), and the rules
    read the points either side of it as neighbours. `non_negative` draws a lower limit (and 2-sigma
    line) below zero at zero, for counts and durations; no non-negative value can fall below either,
    so no flag changes. `partial_last` says the last period is not over (this week so far): its
    value is drawn but, like None, takes no part in the mean, the limits or the rules, so a
    Monday morning's 0 is neither a low point nor a signal.
    """
    direction = Direction(direction)
    starts = [start for start, _ in points]
    values = [value for _, value in points]
    shown_values = [None if value is None else _exact(value, "value") for value in values]
    # What the mean, the limits and the rules read: the period not yet over is left out.
    exact = list(shown_values)
    if partial_last and exact:
        exact[-1] = None
    if any(later <= earlier for earlier, later in pairwise(starts)):
        raise ValueError("points must be in period order, one per period")
    if non_negative and any(x is not None and x < 0 for x in shown_values):
        raise ValueError("a measure that cannot be negative has a negative value")
    target_exact = None if target is None else _exact(target, "target")
    bounds = _segment_bounds(len(points), rebase_at)
    if baseline_points is not None and not baseline_points >= 2:
        raise ValueError("a baseline needs at least 2 points")

    segments: list[Segment] = []
    signals: list[Signal] = []
    judged: list[SpcPoint] = []
    limits: _Limits | None = None
    for number, (first, last) in enumerate(bounds):
        present = [i for i in range(first, last + 1) if exact[i] is not None]
        xs: list[Fraction] = [exact[i] for i in present]  # type: ignore[misc]
        fixed = baseline_points if number == 0 else None
        limits = _limits(xs, present, screen_outliers, fixed, non_negative)
        segment = limits.segment(first, last)
        segments.append(segment)
        found = _signals(xs, limits) if xs else []
        signals.extend(Signal(s.rule, s.side, tuple(present[i] for i in s.indices)) for s in found)
        point_judgements = dict(zip(present, _judge(xs, limits, found), strict=True))
        for index in range(first, last + 1):
            point_rules, side = point_judgements.get(index, ((), None))
            value = shown_values[index]
            judged.append(
                SpcPoint(
                    start=starts[index],
                    value=None if value is None else _float(value),
                    mean=segment.mean,
                    lpl=segment.lpl,
                    upl=segment.upl,
                    rules=point_rules,
                    variation=_variation(side, direction),
                    side=side,
                    segment=number,
                    partial=partial_last and index == len(points) - 1,
                )
            )

    # The icon tells the latest complete period's story (the one not yet over, when it is all
    # there is, is common cause).
    drawn = [point for point in judged if point.value is not None]
    shown = [point for point in drawn if not point.partial] or drawn
    return SpcResult(
        points=tuple(judged),
        segments=tuple(segments),
        signals=tuple(sorted(signals, key=lambda s: (s.indices[0], list(Rule).index(s.rule)))),
        direction=direction,
        target=None if target_exact is None else float(target_exact),
        assurance=_assurance(target_exact, limits, direction),  # the latest segment's limits
        variation_icon=_variation_icon(shown[-1]) if shown else None,
    )


@dataclass(frozen=True)
class _Limits:
    """A segment's numbers, exact, for the rules; floats are made once, for the Segment."""

    mean: Fraction | None  # None: a segment with no values at all
    mr_bar: Fraction | None
    trial: bool
    non_negative: bool = False

    @cached_property  # Fraction arithmetic is slow; the rules ask for each limit per point
    def lpl(self) -> Fraction | None:
        return (
            None
            if self.mean is None or self.mr_bar is None
            else self.mean - PROCESS_LIMIT_FACTOR * self.mr_bar
        )

    @cached_property  # Fraction arithmetic is slow; the rules ask for each limit per point
    def upl(self) -> Fraction | None:
        return (
            None
            if self.mean is None or self.mr_bar is None
            else self.mean + PROCESS_LIMIT_FACTOR * self.mr_bar
        )

    @cached_property  # Fraction arithmetic is slow; the rules ask for each limit per point
    def lower_two_sigma(self) -> Fraction | None:
        return (
            None
            if self.mean is None or self.mr_bar is None
            else self.mean - TWO_SIGMA_FACTOR * self.mr_bar
        )

    @cached_property  # Fraction arithmetic is slow; the rules ask for each limit per point
    def upper_two_sigma(self) -> Fraction | None:
        return (
            None
            if self.mean is None or self.mr_bar is None
            else self.mean + TWO_SIGMA_FACTOR * self.mr_bar
        )

    def segment(self, first: int, last: int) -> Segment:
        """The drawn numbers: below-zero lower lines at zero when the measure cannot be negative."""
        return Segment(
            first=first,
            last=last,
            mean=_float(self.mean),
            mr_bar=_float(self.mr_bar),
            lpl=_floor(self.lpl, self.non_negative),
            upl=_float(self.upl),
            lower_two_sigma=_floor(self.lower_two_sigma, self.non_negative),
            upper_two_sigma=_float(self.upper_two_sigma),
            trial_limits=self.trial,
        )


def _exact(value: Number, name: str) -> Fraction:
    """The number as typed: a float through its shortest repr (1.7 -> 17/10), so a value typed as 1.7
    and stored as a float equals a mean of exactly 1.7; Decimal, int, str and Fraction exactly."""
    try:
        if isinstance(value, bool):
            raise TypeError("a bool is not a measure value")
        if isinstance(value, float):
            return Fraction(repr(value))
        exact = Fraction(value)
    except (ValueError, OverflowError, TypeError, ArithmeticError) as error:
        raise ValueError(f"{name} must be a finite number, not {value!r}") from error
    return exact


def _float(value: Fraction | None) -> float | None:
    return None if value is None else float(value)


def _floor(value: Fraction | None, non_negative: bool) -> float | None:
    if value is None:
        return None
    return float(max(value, Fraction(0))) if non_negative else float(value)


def _segment_bounds(count: int, rebase_at: Iterable[int]) -> list[tuple[int, int]]:
    starts = sorted(set(rebase_at))
    if any(not 0 < start < count for start in starts):
        raise ValueError(f"rebase indices must lie between 1 and {count - 1}: {starts}")
    firsts = [0, *starts] if count else []
    lasts = [start - 1 for start in starts] + ([count - 1] if count else [])
    return list(zip(firsts, lasts, strict=True))


def _limits(
    xs: Sequence[Fraction],
    positions: Sequence[int],
    screen_outliers: bool,
    baseline_points: int | None = None,
    non_negative: bool = False,
) -> _Limits:
    """Mean and MR-bar of a segment's values (of its first `baseline_points` when fixed); a moving
    range only between values of neighbouring periods, so a gap adds no range."""
    if baseline_points is not None:
        xs, positions = xs[:baseline_points], positions[:baseline_points]
    if not xs:
        return _Limits(mean=None, mr_bar=None, trial=True, non_negative=non_negative)
    mean = sum(xs, Fraction(0)) / len(xs)
    ranges = [
        abs(b - a) for (a, pa), (b, pb) in pairwise(zip(xs, positions, strict=True)) if pb == pa + 1
    ]
    mr_bar = sum(ranges, Fraction(0)) / len(ranges) if ranges else None
    if screen_outliers and mr_bar:
        kept = [r for r in ranges if r < MOVING_RANGE_SCREEN_FACTOR * mr_bar]
        mr_bar = sum(kept, Fraction(0)) / len(kept)  # never empty: the smallest range ≤ MR-bar
    return _Limits(
        mean=mean,
        mr_bar=mr_bar,
        trial=len(xs) < MIN_POINTS_FOR_LIMITS,
        non_negative=non_negative,
    )


def _sign(x: Fraction) -> int:
    return (x > 0) - (x < 0)


def _outside(x: Fraction, lim: _Limits) -> bool:
    lpl, upl = lim.lpl, lim.upl
    return lpl is not None and upl is not None and (x < lpl or x > upl)


def _signals(xs: Sequence[Fraction], lim: _Limits) -> list[Signal]:
    """The special causes in one segment, indices local to it."""
    assert lim.mean is not None  # a segment with values has a mean
    side_of_mean = [_sign(x - lim.mean) for x in xs]
    found = [
        Signal(Rule.outside_limits, _side(side_of_mean[i]), (i,))
        for i, x in enumerate(xs)
        if _outside(x, lim)
    ]
    # A run: RUN_LENGTH or more points with the same non-zero side; a point on the mean is side 0.
    for first, last, sign in _stretches(side_of_mean):
        if sign and last - first + 1 >= RUN_LENGTH:
            found.append(Signal(Rule.run, _side(sign), tuple(range(first, last + 1))))
    # A trend: TREND_LENGTH points need TREND_LENGTH - 1 steps of the same non-zero sign; a step
    # between equal values is 0, so it ends the trend.
    steps = [_sign(b - a) for a, b in pairwise(xs)]
    for first, last, sign in _stretches(steps):
        if sign and last - first + 2 >= TREND_LENGTH:
            found.append(Signal(Rule.trend, _side(sign), tuple(range(first, last + 2))))
    found.extend(_two_of_three(xs, side_of_mean, lim))
    return found


def _two_of_three(
    xs: Sequence[Fraction], side_of_mean: Sequence[int], lim: _Limits
) -> list[Signal]:
    """NHSRplotthedots' rule: in three consecutive points, all on one side of the mean, at least two
    lie beyond that side's 2-sigma line but inside the process limits ("close to the limits"). Those
    close points are flagged; the third point of the window is not.
    """
    lower, upper = lim.lower_two_sigma, lim.upper_two_sigma
    if lower is None or upper is None:
        return []
    close = [not _outside(x, lim) and (x < lower or x > upper) for x in xs]
    found: list[Signal] = []
    window_end = -1  # last index of the previous qualifying window, to merge overlapping ones
    for i in range(len(xs) - 2):
        window = range(i, i + 3)
        sides = {side_of_mean[j] for j in window}
        if len(sides) != 1 or 0 in sides or sum(close[j] for j in window) < 2:
            continue
        side = _side(side_of_mean[i])
        flagged = tuple(j for j in window if close[j])
        if found and found[-1].side == side and i <= window_end:
            merged = tuple(sorted({*found[-1].indices, *flagged}))
            found[-1] = Signal(Rule.two_of_three, side, merged)
        else:
            found.append(Signal(Rule.two_of_three, side, flagged))
        window_end = i + 2
    return found


def _stretches(signs: Sequence[int]) -> list[tuple[int, int, int]]:
    """Maximal stretches of equal values: (first index, last index, value)."""
    stretches: list[tuple[int, int, int]] = []
    for i, sign in enumerate(signs):
        if stretches and stretches[-1][2] == sign and stretches[-1][1] == i - 1:
            stretches[-1] = (stretches[-1][0], i, sign)
        else:
            stretches.append((i, i, sign))
    return stretches


def _side(sign: int) -> Side:
    return Side.high if sign > 0 else Side.low


def _judge(
    xs: Sequence[Fraction], lim: _Limits, signals: Sequence[Signal]
) -> list[tuple[tuple[Rule, ...], Side | None]]:
    """Each point's rules (in Rule order) and which way it points, by NHSRplotthedots' precedence:
    outside the limits, then trend, then two-in-three, then run. A trend point takes the trend's
    direction, not its side of the mean (a rising trend below the mean is still rising); a point
    where a rising trend turns into a falling one takes the later trend, as NHSRplotthedots does.
    """
    rules: list[set[Rule]] = [set() for _ in xs]
    trend_side: dict[int, Side] = {}
    for signal in signals:  # in order along the segment, so a later trend overwrites
        for index in signal.indices:
            rules[index].add(signal.rule)
            if signal.rule is Rule.trend:
                trend_side[index] = signal.side
    judged: list[tuple[tuple[Rule, ...], Side | None]] = []
    for index, (x, point_rules) in enumerate(zip(xs, rules, strict=True)):
        side: Side | None = None
        if index in trend_side and Rule.outside_limits not in point_rules:
            side = trend_side[index]
        elif point_rules:
            side = _side(_sign(x - lim.mean))  # type: ignore[operator]
        judged.append((tuple(rule for rule in Rule if rule in point_rules), side))
    return judged


def _variation(side: Side | None, direction: Direction) -> Variation:
    if side is None:
        return Variation.common_cause
    if direction is Direction.neutral:
        return Variation.special_cause_neutral
    better = Side.high if direction is Direction.increase else Side.low
    return (
        Variation.special_cause_improvement if side is better else Variation.special_cause_concern
    )


def _variation_icon(latest: SpcPoint) -> VariationIcon:
    if latest.side is None:
        return VariationIcon.common_cause
    kind = {
        Variation.special_cause_improvement: "improvement",
        Variation.special_cause_concern: "concern",
        Variation.special_cause_neutral: "neutral",
    }[latest.variation]
    return VariationIcon(f"{kind}_{latest.side.value}")


def _assurance(target: Fraction | None, latest: _Limits | None, direction: Direction) -> Assurance:
    """As NHSRplotthedots: the target against the latest limits; on a limit is hit or miss."""
    if target is None or latest is None or direction is Direction.neutral:
        return Assurance.none
    lpl, upl = latest.lpl, latest.upl
    if lpl is None or upl is None:
        return Assurance.none
    increase = direction is Direction.increase
    if target > upl:
        return Assurance.consistent_fail if increase else Assurance.consistent_pass
    if target < lpl:
        return Assurance.consistent_pass if increase else Assurance.consistent_fail
    return Assurance.hit_or_miss
