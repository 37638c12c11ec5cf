"""A chart in one or two plain sentences a meeting can read ("Handover delays at Riverside have
fallen since March: 9 of the last 10 weeks below the mean"), made from the engine's result. The
full detail stays in the chart's description and data table (charts.py)."""

from __future__ import annotations

from api.measures.spc import Rule, Side, SpcResult, Variation

MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
RECENT = 10  # "9 of the last 10 weeks"


def _when(point_start: object, period: str) -> str:
    day = point_start  # a date
    month = MONTHS[day.month - 1]  # type: ignore[attr-defined]
    if period == "month":
        return f"{month} {day.year}"  # type: ignore[attr-defined]
    return f"the week of {day.day} {month}"  # type: ignore[attr-defined]


def _num(value: float) -> str:
    text = f"{value:,.1f}".removesuffix(".0")
    return text.replace("-", "−")


def headline(result: SpcResult, *, subject: str, where: str = "", period: str = "week") -> str:
    """One or two sentences: what changed (or that nothing did), and the target's outlook."""
    # The period not yet over is told apart ("this week so far"), never as a whole one.
    shown = [(i, p) for i, p in enumerate(result.points) if p.value is not None and not p.partial]
    so_far = next((p for p in result.points[-1:] if p.partial and p.value is not None), None)
    place = f" {where}" if where else ""
    tail = f" This {period} so far: {_num(so_far.value or 0)}." if so_far else ""
    if not shown and so_far is not None:
        return (
            f"{subject}{place}: {_num(so_far.value or 0)} so far this {period}; too few "
            f"{period}s yet to say what is usual."
        )
    if not shown:
        return f"No {subject.lower()}{place} in these dates yet."
    segment = result.segments[-1]
    in_segment = [(i, p) for i, p in shown if segment.first <= i <= segment.last]
    sentences: list[str] = []
    latest_i, latest = shown[-1]
    recent = in_segment[-RECENT:]
    # A sustained shift tells the story better than the single points inside it: prefer a run,
    # then a trend, then a point outside the limits, then two-in-three; the latest of each.
    touching = [s for s in result.signals if recent and s.indices[-1] >= recent[0][0]]
    order = [Rule.run, Rule.trend, Rule.outside_limits, Rule.two_of_three]
    signal = max(touching, key=lambda s: (-order.index(s.rule), s.indices[-1]), default=None)
    mood = {
        Variation.special_cause_improvement: " (an improvement)",
        Variation.special_cause_concern: " (a concern)",
    }
    if signal is not None:
        points = [result.points[i] for i in signal.indices]
        high = signal.side is Side.high
        since = _when(points[0].start, period)
        feel = mood.get(points[-1].variation, "")
        if signal.rule is Rule.outside_limits:
            where_to = "above the upper" if high else "below the lower"
            sentences.append(
                f"{subject}{place} were unusually {'high' if high else 'low'} in "
                f"{_when(points[0].start, period)} ({_num(points[0].value or 0)}, {where_to} "
                f"process limit){feel}."
            )
        elif signal.rule is Rule.trend:
            way = "risen" if high else "fallen"
            sentences.append(
                f"{subject}{place} have {way} {len(points)} {period}s in a row since {since}{feel}."
            )
        else:
            way = "risen" if high else "fallen"
            side = [p for _, p in recent if p.mean is not None and p.value is not None]
            count = sum(
                1
                for p in side
                if (p.value > p.mean if high else p.value < p.mean)  # type: ignore[operator]
            )
            above = "above" if high else "below"
            sentences.append(
                f"{subject}{place} have {way} since {since}{feel}: {count} of the last "
                f"{len(side)} {period}s {above} the mean."
            )
    elif len(in_segment) < 12 and segment.mean is not None and segment.lpl is not None:
        since = " since the last change" if result.rebased_at else ""
        sentences.append(
            f"{subject}{place} show no signal yet: {len(in_segment)} {period}s{since}, averaging "
            f"{_num(segment.mean)}, so the limits are provisional."
        )
    elif segment.lpl is not None and segment.upl is not None and segment.mean is not None:
        sentences.append(
            f"{subject}{place} are steady: every recent {period} within the expected range of "
            f"{_num(segment.lpl)} to {_num(segment.upl)}, around an average of {_num(segment.mean)}."
        )
    else:
        sentences.append(
            f"{subject}{place}: {_num(latest.value or 0)} in {_when(latest.start, period)}; too few "
            f"{period}s yet to say what is usual."
        )
    if result.target is not None and result.assurance.value != "none":
        sentences.append(
            {
                "pass": f"At this rate the target of {_num(result.target)} will be met every {period}.",
                "fail": f"At this rate the target of {_num(result.target)} will not be met without a change.",
                "hit_or_miss": f"The target of {_num(result.target)} will be met in some {period}s and missed in others.",
            }[result.assurance.value]
        )
    del latest_i
    return " ".join(sentences) + tail
