"""XmR charts as server-drawn SVG (SPEC §8): readable on a 360px phone and on paper, no JavaScript,
no inline styles (the CSP allows only style-src 'self'), with a text alternative and a data table.

Colours are SVG presentation attributes, so a chart looks right even where app.css is missing (an
e-mail, a print of the partner pack); every element also has an `app-spc-*` class that app.css can
restyle, since a stylesheet rule outranks a presentation attribute. See docs/spc.md for the classes.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup, escape

from api.measures.spc import (
    Assurance,
    Rule,
    Side,
    Signal,
    SpcPoint,
    SpcResult,
    Variation,
    VariationIcon,
)

# Making Data Count colours.
COMMON_CAUSE = "#7B7D7D"
IMPROVEMENT = "#289DE0"
CONCERN = "#FFB207"
NEUTRAL = "#361475"
# NHS.UK frontend colours for everything else.
TEXT = "#212B32"
SECONDARY_TEXT = "#4C6272"
GRID = "#D8DDE0"
TARGET = "#DA291C"
FONT_FAMILY = "Frutiger W01, Arial, sans-serif"

VARIATION_COLOURS: Mapping[Variation, str] = {
    Variation.common_cause: COMMON_CAUSE,
    Variation.special_cause_improvement: IMPROVEMENT,
    Variation.special_cause_concern: CONCERN,
    Variation.special_cause_neutral: NEUTRAL,
}
VARIATION_CLASSES: Mapping[Variation, str] = {
    Variation.common_cause: "common-cause",
    Variation.special_cause_improvement: "improvement",
    Variation.special_cause_concern: "concern",
    Variation.special_cause_neutral: "neutral",
}
VARIATION_WORDS: Mapping[Variation, str] = {
    Variation.common_cause: "common cause",
    Variation.special_cause_improvement: "special cause improvement",
    Variation.special_cause_concern: "special cause concern",
    Variation.special_cause_neutral: "special cause",
}
RULE_WORDS: Mapping[Rule, str] = {
    Rule.outside_limits: "outside the process limits",
    Rule.run: "run of 7 or more on one side of the mean",
    Rule.trend: "trend of 7 or more rising or falling",
    Rule.two_of_three: "2 of 3 close to a process limit",
}
ICON_WORDS: Mapping[VariationIcon, str] = {
    VariationIcon.common_cause: "common cause variation",
    VariationIcon.improvement_high: "special cause improvement, high values",
    VariationIcon.improvement_low: "special cause improvement, low values",
    VariationIcon.concern_high: "special cause concern, high values",
    VariationIcon.concern_low: "special cause concern, low values",
    VariationIcon.neutral_high: "special cause variation, high values",
    VariationIcon.neutral_low: "special cause variation, low values",
}
ASSURANCE_LETTERS: Mapping[Assurance, tuple[str, str]] = {
    Assurance.consistent_pass: ("P", IMPROVEMENT),
    Assurance.consistent_fail: ("F", CONCERN),
    Assurance.hit_or_miss: ("?", COMMON_CAUSE),
}
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MAX_SIGNALS_DESCRIBED = 6

FONT = 14  # viewBox units: a 400-wide chart on a 360px phone (about 340px of it) shows 12px
SMALL = 12
CHAR_WIDTH = 0.53  # of the font size: a fair average for Frutiger/Arial, to place and wrap text
ICON_RADIUS = 17
MIN_PLOT_HEIGHT = 120


def xmr_svg(
    result: SpcResult,
    *,
    title: str,
    y_label: str,
    unit: str = "",
    period: str = "week",
    x_labels: Sequence[str] | None = None,
    non_negative: bool = True,
    chart_id: str | None = None,
    width: int = 400,
    height: int = 320,
    annotations: Sequence[tuple[int, int, str, str]] = (),
) -> Markup:
    """The chart: points coloured by variation, mean solid, process limits dashed (lighter when they
    are trial limits), target, rebases, the variation and assurance icons, and a <desc> saying it all.

    `non_negative` (counts, minutes, hours) keeps the y axis at or above 0 and leaves a lower limit
    below 0 undrawn; the numbers themselves are never floored. `chart_id` names the <title>/<desc> ids and must
    be unique on the page; by default it is made from the title.
    """
    labels = list(x_labels) if x_labels is not None else default_x_labels(result, period)
    if len(labels) != len(result.points):
        raise ValueError(f"{len(labels)} x labels for {len(result.points)} points")
    chart_id = chart_id or "spc-" + hashlib.sha256(title.encode()).hexdigest()[:10]
    summary = summary_text(result, unit=unit, period=period)
    if annotations:
        summary += (
            " Marked: "
            + "; ".join(
                f"{number}, {_date(result.points[index].start, period)}: {text}"
                for number, index, _, text in annotations
            )
            + "."
        )

    title_lines = _wrap(title, width - 24 - _icons_width(result), FONT + 2)
    header = 10 + len(title_lines) * (FONT + 6) + SMALL + 8
    legend_rows = _legend_rows(result, width - 24)
    legend_height = len(legend_rows) * (SMALL + 10) + 4
    axis_height = SMALL + 12
    total_height = max(height, header + MIN_PLOT_HEIGHT + axis_height + legend_height)

    y_lo, y_hi, ticks = _y_scale(result, non_negative)
    step = ticks[1] - ticks[0]
    decimals = next(d for d in range(7) if d == 6 or _is_whole(step * 10**d))
    tick_texts = [_number(t, decimals) for t in ticks]
    left = 12 + max(len(t) for t in tick_texts) * SMALL * CHAR_WIDTH + 6
    plot = _Plot(
        left=left,
        top=header + 6,
        right=width - 12,
        bottom=total_height - legend_height - axis_height,
        y_lo=y_lo,
        y_hi=y_hi,
        count=len(result.points),
    )

    parts = [
        _open(
            "svg",
            xmlns="http://www.w3.org/2000/svg",
            viewBox=f"0 0 {width} {total_height}",
            role="img",
            **{"aria-labelledby": f"{chart_id}-title", "aria-describedby": f"{chart_id}-desc"},
            id=chart_id,
            class_="app-spc-chart",
            font_family=FONT_FAMILY,
            font_size=FONT,
            fill=TEXT,
        ),
        f'<title id="{_text(chart_id)}-title">{_text(title)}</title>',
        f'<desc id="{_text(chart_id)}-desc">{_text(summary)}</desc>',
    ]
    for number, line in enumerate(title_lines):
        parts.append(
            _element(
                "text",
                line,
                x=12,
                y=10 + FONT + number * (FONT + 6),
                font_size=FONT + 2,
                font_weight="bold",
                class_="app-spc-title",
            )
        )
    parts.append(
        _element(
            "text",
            y_label,
            x=12,
            y=header - 6,
            font_size=SMALL,
            fill=SECONDARY_TEXT,
            class_="app-spc-axis-label",
        )
    )
    parts.extend(_icons(result, width))
    parts.extend(_axes(plot, ticks, tick_texts, labels))
    if result.points:
        parts.extend(_limit_lines(result, plot))
        parts.extend(_target_line(result, plot))
        parts.extend(_points(result, plot, labels, unit))
        parts.extend(_annotation_marks(annotations, plot))
    else:
        parts.append(
            _element(
                "text",
                "No data for these dates",
                x=_fmt((plot.left + plot.right) / 2),
                y=_fmt((plot.top + plot.bottom) / 2),
                text_anchor="middle",
                fill=SECONDARY_TEXT,
                class_="app-spc-empty",
            )
        )
    parts.extend(_legend(legend_rows, plot.bottom + axis_height + 4))
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every piece above is escaped as it is made


def data_table(
    result: SpcResult,
    *,
    caption: str,
    unit: str = "",
    period: str = "week",
    visually_hidden: bool = True,
) -> Markup:
    """The chart's numbers as an NHS.UK table: for screen readers (the SVG is one image to them) and
    as the printable fallback. Hidden visually by default; app.css can show it in print."""
    classes = "nhsuk-table app-spc-table" + (" nhsuk-u-visually-hidden" if visually_hidden else "")
    value_heading = f"Value ({unit})" if unit else "Value"
    headings = [
        {"week": "Week starting", "day": "Day"}.get(period, "Month"),
        value_heading,
        "Mean",
        "Lower process limit",
        "Upper process limit",
        "Variation",
    ]
    note = " (trial limits: fewer than 12 points)" if _draws_trial_limits(result) else ""
    rows = [
        f'<table class="{classes}"><caption class="nhsuk-table__caption">{_text(caption)}'
        f"{_text(note)}</caption>"
        '<thead class="nhsuk-table__head"><tr class="nhsuk-table__row">',
        *(f'<th scope="col" class="nhsuk-table__header">{_text(h)}</th>' for h in headings),
        '</tr></thead><tbody class="nhsuk-table__body">',
    ]
    for point in result.points:
        value = _optional_number(point.value, "no data")
        cells = [
            f"{value} so far" if point.partial and point.value is not None else value,
            _optional_number(point.mean),
            _optional_number(point.lpl),
            _optional_number(point.upl),
            _point_variation_words(point),
        ]
        rows.append(
            '<tr class="nhsuk-table__row">'
            f'<th scope="row" class="nhsuk-table__header">'
            f'<time datetime="{point.start.isoformat()}">'
            f"{_text(_date(point.start, period))}</time></th>"
            + "".join(f'<td class="nhsuk-table__cell">{_text(cell)}</td>' for cell in cells)
            + "</tr>"
        )
    rows.append("</tbody></table>")
    return Markup("".join(rows))  # noqa: S704 - every piece above is escaped as it is made


def summary_text(result: SpcResult, *, unit: str = "", period: str = "week") -> str:
    """What the chart shows, in sentences: the SVG's <desc> and a caption for the partner pack."""
    points = result.points
    shown = [p for p in points if p.value is not None]
    if not shown:
        return "No data for these dates."
    unit_suffix = f" {unit}" if unit else ""
    count = len(points)
    first, last = _date(points[0].start, period), _date(points[-1].start, period)
    sentences = [
        f"One {period}: {first}." if count == 1 else f"{count} {period}s from {first} to {last}."
    ]
    if result.rebased_at:
        dates = _and(_date(points[i].start, period) for i in result.rebased_at)
        sentences.append(f"Limits recalculated from {dates}.")
    latest_segment = result.segments[-1]
    since = " since then" if result.rebased_at else ""
    if latest_segment.mean is None:
        sentences.append(f"No values{since}.")
    elif latest_segment.lpl is None or latest_segment.upl is None:
        sentences.append(
            f"Mean {_number(latest_segment.mean)}; one point gives no process limits{since}."
        )
    else:
        sentences.append(
            f"Mean {_number(latest_segment.mean)}, process limits {_number(latest_segment.lpl)} "
            f"to {_number(latest_segment.upl)}{since}."
        )
    if _draws_trial_limits(result):
        sentences.append("Trial limits: fewer than 12 points.")
    so_far = points[-1] if points[-1].partial and points[-1].value is not None else None
    complete = [p for p in shown if not p.partial]
    latest = complete[-1] if complete else shown[-1]
    assert result.variation_icon is not None and latest.value is not None
    empty = len(points) - len(shown)
    if empty:
        noun = period if empty == 1 else f"{period}s"
        sentences.append(
            f"{empty} {noun} with nothing to measure: no point, left out of the limits."
        )
    if complete:
        sentences.append(
            f"Latest value {_number(latest.value)}{unit_suffix}: "
            f"{ICON_WORDS[result.variation_icon]}."
        )
    if so_far is not None:
        sentences.append(
            f"This {period} so far: {_number(so_far.value or 0)}{unit_suffix} (not over yet, "
            "so left out of the mean, the limits and the signals)."
        )
    special = sum(point.special_cause for point in points)
    if special:
        signals = result.signals[-MAX_SIGNALS_DESCRIBED:]  # the latest matter most
        described = "; ".join(_signal_words(signal, result, period) for signal in signals)
        if len(result.signals) > len(signals):
            described = f"the latest {len(signals)} of {len(result.signals)} signals: {described}"
        noun = "point shows" if special == 1 else "points show"
        sentences.append(f"{special} {noun} special cause: {described}.")
    else:
        sentences.append("No special cause variation.")
    if result.target is not None:
        sentences.append(_assurance_words(result.assurance, _number(result.target) + unit_suffix))
    return " ".join(sentences)


def default_x_labels(result: SpcResult, period: str = "week") -> list[str]:
    """Short labels: "3 Nov" for weeks and days (PDSA measures), "Nov 2025" for months."""
    if period in ("week", "day"):
        return [f"{p.start.day} {MONTHS[p.start.month - 1]}" for p in result.points]
    return [f"{MONTHS[p.start.month - 1]} {p.start.year}" for p in result.points]


def _draws_trial_limits(result: SpcResult) -> bool:
    """A one-point segment has trial status but no limits to draw or mention."""
    return any(s.lpl is not None and s.trial_limits for s in result.segments)


@dataclass(frozen=True)
class _Plot:
    left: float
    top: float
    right: float
    bottom: float
    y_lo: float
    y_hi: float
    count: int

    @property
    def step(self) -> float:
        return (self.right - self.left) / max(self.count, 1)

    def x(self, index: float) -> float:
        """Points sit in the middle of equal slots, so a segment's lines can run half a slot past."""
        return self.left + (index + 0.5) * self.step

    def y(self, value: float) -> float:
        span = self.y_hi - self.y_lo
        return self.bottom - (value - self.y_lo) / span * (self.bottom - self.top)

    def shows(self, value: float) -> bool:
        return self.y_lo <= value <= self.y_hi


def _y_scale(result: SpcResult, non_negative: bool) -> tuple[float, float, list[float]]:
    """A nice range holding every value, mean, limit and the target, with about four ticks."""
    numbers = [n for p in result.points for n in (p.value, p.mean, p.lpl, p.upl) if n is not None]
    if result.target is not None:
        numbers.append(result.target)
    lo, hi = (min(numbers), max(numbers)) if numbers else (0.0, 1.0)
    if non_negative:
        lo, hi = max(lo, 0.0), max(hi, 0.0)
    if hi - lo < 1e-9:  # one value, or all equal: give the line some room
        pad = abs(hi) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    if non_negative:
        lo = max(lo, 0.0)
    step = _nice_step((hi - lo) / 4)
    lo_tick = math.floor(lo / step) * step
    hi_tick = math.ceil(hi / step) * step
    ticks = [lo_tick + i * step for i in range(round((hi_tick - lo_tick) / step) + 1)]
    return lo_tick, hi_tick, ticks


def _is_whole(value: float) -> bool:
    return abs(value - round(value)) < 1e-6


def _nice_step(rough: float) -> float:
    magnitude = 10.0 ** math.floor(math.log10(rough))
    for nice in (1, 2, 2.5, 5, 10):
        if nice * magnitude >= rough:
            return nice * magnitude
    return 10 * magnitude  # pragma: no cover - the loop always returns


def _axes(plot: _Plot, ticks: list[float], texts: list[str], labels: list[str]) -> list[str]:
    parts = ['<g class="app-spc-axis">']
    for tick, text in zip(ticks, texts, strict=True):
        y = _fmt(plot.y(tick))
        parts.append(
            _element(
                "line",
                x1=_fmt(plot.left),
                x2=_fmt(plot.right),
                y1=y,
                y2=y,
                stroke=GRID,
                stroke_width=1,
                class_="app-spc-grid",
            )
        )
        parts.append(
            _element(
                "text",
                text,
                x=_fmt(plot.left - 6),
                y=_fmt(plot.y(tick) + SMALL * 0.35),
                text_anchor="end",
                font_size=SMALL,
                fill=SECONDARY_TEXT,
                class_="app-spc-tick app-spc-tick--y",
            )
        )
    for index in _sparse_indices(len(labels), plot):
        label = labels[index]
        half = len(label) * SMALL * CHAR_WIDTH / 2
        x = min(max(plot.x(index), half + 2), plot.right + 10 - half)
        parts.append(
            _element(
                "text",
                label,
                x=_fmt(x),
                y=_fmt(plot.bottom + SMALL + 6),
                text_anchor="middle",
                font_size=SMALL,
                fill=SECONDARY_TEXT,
                class_="app-spc-tick app-spc-tick--x",
            )
        )
    parts.append("</g>")
    return parts


def _sparse_indices(count: int, plot: _Plot) -> list[int]:
    """First, last and evenly between, about 80 units apart, so labels never collide."""
    if count == 0:
        return []
    wanted = max(2, int((plot.right - plot.left) // 80))
    if count <= wanted:
        return list(range(count))
    return sorted({round(i * (count - 1) / (wanted - 1)) for i in range(wanted)})


def _limit_lines(result: SpcResult, plot: _Plot) -> list[str]:
    parts = ['<g class="app-spc-limits">']
    for segment in result.segments:
        x1, x2 = _fmt(plot.x(segment.first - 0.5)), _fmt(plot.x(segment.last + 0.5))
        if segment.first:
            parts.append(
                _element(
                    "line",
                    x1=x1,
                    x2=x1,
                    y1=_fmt(plot.top),
                    y2=_fmt(plot.bottom),
                    stroke=SECONDARY_TEXT,
                    stroke_width=1,
                    stroke_dasharray="1 3",
                    class_="app-spc-rebase",
                )
            )
        if segment.mean is None:  # every period in it empty: nothing to draw
            continue
        parts.append(_hline(plot, segment.mean, x1, x2, stroke=TEXT, class_="app-spc-mean"))
        trial = segment.trial_limits
        for limit in (segment.lpl, segment.upl):
            if limit is None or not plot.shows(limit):
                continue
            parts.append(
                _hline(
                    plot,
                    limit,
                    x1,
                    x2,
                    stroke=COMMON_CAUSE,
                    stroke_dasharray="2 4" if trial else "6 4",
                    stroke_opacity="0.7" if trial else None,
                    class_="app-spc-limit app-spc-limit--trial" if trial else "app-spc-limit",
                )
            )
    parts.append("</g>")
    return parts


def _target_line(result: SpcResult, plot: _Plot) -> list[str]:
    if result.target is None or not plot.shows(result.target):
        return []
    return [
        _hline(
            plot,
            result.target,
            _fmt(plot.left),
            _fmt(plot.right),
            stroke=TARGET,
            stroke_dasharray="8 3 2 3",
            class_="app-spc-target",
        )
    ]


def _hline(plot: _Plot, value: float, x1: str, x2: str, **attributes: str | None) -> str:
    y = _fmt(plot.y(value))
    return _element("line", x1=x1, x2=x2, y1=y, y2=y, stroke_width=1.5, **attributes)


def _points(result: SpcResult, plot: _Plot, labels: list[str], unit: str) -> list[str]:
    """The dots and the line joining them; an empty period (value None) is a gap in the line."""
    coordinates = [
        None if p.value is None else (plot.x(i), plot.y(p.value))
        for i, p in enumerate(result.points)
    ]
    runs: list[list[tuple[float, float]]] = [[]]
    for xy in coordinates:
        if xy is None:
            runs.append([])
        else:
            runs[-1].append(xy)
    # The period not yet over hangs off the line by a dotted segment: it may still move.
    so_far: list[str] = []
    if result.points and result.points[-1].partial and runs[-1]:
        last = runs[-1].pop()
        if runs[-1]:
            (x1, y1), (x2, y2) = runs[-1][-1], last
            so_far.append(
                _element(
                    "line",
                    x1=_fmt(x1),
                    y1=_fmt(y1),
                    x2=_fmt(x2),
                    y2=_fmt(y2),
                    stroke=COMMON_CAUSE,
                    stroke_width=1.5,
                    stroke_dasharray="2 3",
                    class_="app-spc-line app-spc-line--so-far",
                )
            )
    parts = [
        _element(
            "polyline",
            points=" ".join(f"{_fmt(x)},{_fmt(y)}" for x, y in run),
            fill="none",
            stroke=COMMON_CAUSE,
            stroke_width=1.5,
            class_="app-spc-line",
        )
        for run in runs
        if len(run) > 1
    ]
    parts.extend(so_far)
    parts.append('<g class="app-spc-points">')
    unit_suffix = f" {unit}" if unit else ""
    for point, label, xy in zip(result.points, labels, coordinates, strict=True):
        if xy is None or point.value is None:
            continue
        x, y = xy
        special = point.special_cause
        radius = min(5.0, max(3.0, plot.step * 0.45))
        tooltip = f"{label}: {_number(point.value)}{unit_suffix}, {_point_variation_words(point)}"
        if point.partial:
            parts.append(
                _open(
                    "circle",
                    cx=_fmt(x),
                    cy=_fmt(y),
                    r=_fmt(radius * 0.8),
                    fill="#FFFFFF",
                    stroke=COMMON_CAUSE,
                    stroke_width=1.5,
                    class_="app-spc-point app-spc-point--so-far",
                )
                + f"<title>{_text(tooltip)}</title></circle>"
            )
            continue
        parts.append(
            _open(
                "circle",
                cx=_fmt(x),
                cy=_fmt(y),
                r=_fmt(radius if special else radius * 0.7),
                fill=VARIATION_COLOURS[point.variation],
                stroke=TEXT if special else None,
                stroke_width=1 if special else None,
                class_=f"app-spc-point app-spc-point--{VARIATION_CLASSES[point.variation]}",
            )
            + f"<title>{_text(tooltip)}</title></circle>"
        )
    parts.append("</g>")
    return parts


def _annotation_marks(annotations: Sequence[tuple[int, int, str, str]], plot: _Plot) -> list[str]:
    """A numbered marker at the top of the plot over each marked period; the words are listed
    beside the chart (and in its description), so the marker only needs its number."""
    if not annotations:
        return []
    parts = ['<g class="app-spc-annotations">']
    for number, index, kind, text in annotations:
        x = plot.x(index)
        parts.append(
            _open(
                "g",
                transform=f"translate({_fmt(x)} {_fmt(plot.top + 8)})",
                class_=f"app-spc-annotation app-spc-annotation--{kind}",
            )
            + f"<title>{_text(f'{number}: {text}')}</title>"
            + _element("circle", r=8, fill="#FFFFFF", stroke=TEXT, stroke_width=1.5)
            + _element(
                "text",
                str(number),
                x=0,
                y=4,
                text_anchor="middle",
                font_size=SMALL,
                font_weight="bold",
            )
            + "</g>"
        )
    parts.append("</g>")
    return parts


def _icons_width(result: SpcResult) -> int:
    count = (result.variation_icon is not None) + (result.assurance in ASSURANCE_LETTERS)
    return count * (2 * ICON_RADIUS + 8)


def _icons(result: SpcResult, width: int) -> list[str]:
    """Approximations of the Making Data Count icons: a ring in the variation colour with H or L and
    a little run of dots going up or down (grey and level for common cause); for assurance, a ring
    with P (blue), F (orange) or ? (grey) above a target line."""
    parts: list[str] = []
    x = width - 12 - ICON_RADIUS
    y = 10 + ICON_RADIUS
    if result.assurance in ASSURANCE_LETTERS:
        parts.append(_assurance_icon(result.assurance, x, y))
        x -= 2 * ICON_RADIUS + 8
    if result.variation_icon is not None:
        parts.append(_variation_icon(result.variation_icon, x, y))
    return parts


def _variation_icon(icon: VariationIcon, x: float, y: float) -> str:
    if icon is VariationIcon.common_cause:
        colour, letter, rise = COMMON_CAUSE, "", 0
    else:
        kind, side = icon.value.split("_")
        colour = {"improvement": IMPROVEMENT, "concern": CONCERN, "neutral": NEUTRAL}[kind]
        letter, rise = ("H", -1) if side == Side.high else ("L", 1)
    body = [_ring(colour)]
    if letter:
        body.append(
            _element(
                "text", letter, x=0, y=1, text_anchor="middle", font_size=13, font_weight="bold"
            )
        )
        dots = [(-7, 8), (-3.5, 8), (0, 8), (3.5, 8 + 2 * rise), (7, 8 + 4 * rise)]
    else:
        dots = [(-8, 2), (-4, -2), (0, 2), (4, -2), (8, 2)]
    for number, (dx, dy) in enumerate(dots):
        special = letter and number >= 3
        body.append(
            _element("circle", cx=dx, cy=dy, r=1.8, fill=colour if special else COMMON_CAUSE)
        )
    modifier = icon.value.replace("_", "-")
    return _group(
        f"Variation: {ICON_WORDS[icon]}",
        body,
        x,
        y,
        f"app-spc-icon app-spc-icon--variation app-spc-icon--{modifier}",
    )


def _assurance_icon(assurance: Assurance, x: float, y: float) -> str:
    letter, colour = ASSURANCE_LETTERS[assurance]
    body = [
        _ring(colour),
        _element("text", letter, x=0, y=2, text_anchor="middle", font_weight="bold"),
        _element(
            "line", x1=-9, x2=9, y1=8, y2=8, stroke=TARGET, stroke_width=1.5, stroke_dasharray="3 2"
        ),
    ]
    words = {
        Assurance.consistent_pass: "the target is consistently met",
        Assurance.consistent_fail: "the target is consistently missed",
        Assurance.hit_or_miss: "the target is hit and missed at random",
    }[assurance]
    modifier = assurance.value.replace("_", "-")
    return _group(
        f"Assurance: {words}",
        body,
        x,
        y,
        f"app-spc-icon app-spc-icon--assurance app-spc-icon--{modifier}",
    )


def _ring(colour: str) -> str:
    return _element("circle", r=ICON_RADIUS - 1.5, fill="#FFFFFF", stroke=colour, stroke_width=3)


def _group(tooltip: str, body: list[str], x: float, y: float, classes: str) -> str:
    return (
        _open("g", transform=f"translate({_fmt(x)} {_fmt(y)})", class_=classes)
        + f"<title>{_text(tooltip)}</title>"
        + "".join(body)
        + "</g>"
    )


@dataclass(frozen=True)
class _LegendItem:
    text: str
    symbol: str  # "mean", "limit", "trial", "target", "so-far" or a Variation's class name

    @property
    def width(self) -> float:
        return 26 + len(self.text) * SMALL * 0.5 + 16


def _legend_rows(result: SpcResult, width: float) -> list[list[_LegendItem]]:
    if not result.points:
        return []
    items = [_LegendItem("Mean", "mean")]
    if any(s.lpl is not None and not s.trial_limits for s in result.segments):
        items.append(_LegendItem("Process limits", "limit"))
    if _draws_trial_limits(result):
        items.append(_LegendItem("Trial limits", "trial"))
    if result.target is not None:
        items.append(_LegendItem("Target", "target"))
    present = {p.variation for p in result.points if not p.partial}
    for variation in Variation:
        if variation in present:
            items.append(_LegendItem(VARIATION_WORDS[variation].capitalize(), variation.value))
    if result.points[-1].partial and result.points[-1].value is not None:
        items.append(_LegendItem("So far (not over yet)", "so-far"))
    rows: list[list[_LegendItem]] = [[]]
    used = 0.0
    for item in items:
        if rows[-1] and used + item.width > width:
            rows.append([])
            used = 0.0
        rows[-1].append(item)
        used += item.width
    if _draws_trial_limits(result):
        rows.append([_LegendItem("Trial limits: fewer than 12 points", "note")])
    return rows


def _legend(rows: list[list[_LegendItem]], top: float) -> list[str]:
    if not rows:
        return []
    parts = ['<g class="app-spc-legend">']
    for number, row in enumerate(rows):
        y = top + number * (SMALL + 10) + SMALL / 2
        x = 12.0
        for item in row:
            if item.symbol == "note":
                parts.append(
                    _element(
                        "text",
                        item.text,
                        x=_fmt(x),
                        y=_fmt(y + SMALL * 0.35),
                        font_size=SMALL,
                        fill=SECONDARY_TEXT,
                        class_="app-spc-legend-note",
                    )
                )
                continue
            parts.append(_legend_symbol(item.symbol, x, y))
            parts.append(
                _element(
                    "text",
                    item.text,
                    x=_fmt(x + 26),
                    y=_fmt(y + SMALL * 0.35),
                    font_size=SMALL,
                    class_="app-spc-legend-text",
                )
            )
            x += item.width
    parts.append("</g>")
    return parts


def _legend_symbol(symbol: str, x: float, y: float) -> str:
    line = {"x1": _fmt(x), "x2": _fmt(x + 20), "y1": _fmt(y), "y2": _fmt(y), "stroke_width": 1.5}
    if symbol == "mean":
        return _element("line", **line, stroke=TEXT, class_="app-spc-mean")
    if symbol == "limit":
        return _element(
            "line", **line, stroke=COMMON_CAUSE, stroke_dasharray="6 4", class_="app-spc-limit"
        )
    if symbol == "trial":
        return _element(
            "line",
            **line,
            stroke=COMMON_CAUSE,
            stroke_dasharray="2 4",
            stroke_opacity="0.7",
            class_="app-spc-limit app-spc-limit--trial",
        )
    if symbol == "target":
        return _element(
            "line", **line, stroke=TARGET, stroke_dasharray="8 3 2 3", class_="app-spc-target"
        )
    if symbol == "so-far":
        return _element(
            "circle",
            cx=_fmt(x + 10),
            cy=_fmt(y),
            r=3.5,
            fill="#FFFFFF",
            stroke=COMMON_CAUSE,
            stroke_width=1.5,
            class_="app-spc-point app-spc-point--so-far",
        )
    variation = Variation(symbol)
    special = variation is not Variation.common_cause
    return _element(
        "circle",
        cx=_fmt(x + 10),
        cy=_fmt(y),
        r=5 if special else 3.5,
        fill=VARIATION_COLOURS[variation],
        stroke=TEXT if special else None,
        stroke_width=1 if special else None,
        class_=f"app-spc-point app-spc-point--{VARIATION_CLASSES[variation]}",
    )


def _signal_words(signal: Signal, result: SpcResult, period: str) -> str:
    points = [result.points[i] for i in signal.indices]
    first, last = _date(points[0].start, period), _date(points[-1].start, period)
    high = signal.side is Side.high
    if signal.rule is Rule.outside_limits:
        where = "above the upper" if high else "below the lower"
        return f"{_number(points[0].value or 0)} on {first}, {where} process limit"
    if signal.rule is Rule.run:
        where = "above" if high else "below"
        return f"a run of {len(points)} points {where} the mean, {first} to {last}"
    if signal.rule is Rule.trend:
        way = "rising" if high else "falling"
        return f"a {way} trend of {len(points)} points, {first} to {last}"
    where = "upper" if high else "lower"
    dates = _and(_date(p.start, period) for p in points)
    return f"{len(points)} points close to the {where} process limit, {dates}"


def _assurance_words(assurance: Assurance, target: str) -> str:
    return {
        Assurance.consistent_pass: f"The process can be expected to meet the target of {target} consistently.",
        Assurance.consistent_fail: f"The process will not meet the target of {target} without change.",
        Assurance.hit_or_miss: f"The process will hit and miss the target of {target} at random.",
        Assurance.none: f"Target {target}.",
    }[assurance]


def _point_variation_words(point: SpcPoint) -> str:
    if point.value is None:
        return "No point: nothing to measure this period"
    if point.partial:
        return "So far: this period is not over, so it is not judged"
    if not point.special_cause:
        return "Common cause"
    side = f" ({point.side.value})" if point.side else ""
    rules = ", ".join(RULE_WORDS[rule] for rule in point.rules)
    return f"{VARIATION_WORDS[point.variation].capitalize()}{side}: {rules}"


def _date(day: date, period: str) -> str:
    month = MONTHS[day.month - 1]
    return f"{day.day} {month} {day.year}" if period in ("week", "day") else f"{month} {day.year}"


def _and(words: Iterable[str]) -> str:
    items = list(words)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _number(value: float, decimals: int = 1) -> str:
    """One decimal place at most, thousands separated, a true minus sign: for people, not parsers."""
    rounded = round(value, decimals)
    text = f"{abs(rounded):,.{decimals}f}"
    if decimals:
        text = text.rstrip("0").removesuffix(".")
    return ("−" if rounded < 0 else "") + text


def _optional_number(value: float | None, missing: str = "none") -> str:
    return missing if value is None else _number(value)


def _wrap(text: str, width: float, font_size: float) -> list[str]:
    """Word-wrap by an estimated character width: SVG text does not wrap by itself."""
    per_line = max(10, int(width / (font_size * CHAR_WIDTH)))
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= per_line:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


def _fmt(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def _text(value: object) -> str:
    return str(escape(str(value)))


def _attributes(attributes: Mapping[str, object]) -> str:
    """`class_` becomes class and `stroke_width` stroke-width; None leaves the attribute out."""
    return "".join(
        f' {name.rstrip("_").replace("_", "-")}="{_text(value)}"'
        for name, value in attributes.items()
        if value is not None
    )


def _open(tag: str, /, **attributes: object) -> str:
    return f"<{tag}{_attributes(attributes)}>"


def _element(tag: str, content: str | None = None, /, **attributes: object) -> str:
    if content is None:
        return f"<{tag}{_attributes(attributes)}/>"
    return f"<{tag}{_attributes(attributes)}>{_text(content)}</{tag}>"
