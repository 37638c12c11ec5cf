"""The per-domain chart of a team's readiness: one horizontal bar per domain on the 1–5 scale, drawn
as server-rendered SVG with a <title>, a <desc> that says every figure, and presentation attributes
only (the CSP allows no inline style)."""

from __future__ import annotations

from markupsafe import Markup, escape

from api.readiness.questions import DOMAINS

WIDTH = 400
LABEL_HEIGHT = 18
BAR_HEIGHT = 18
ROW = LABEL_HEIGHT + BAR_HEIGHT + 12
LEFT = 12
RIGHT = 40
TOP = 34


def _x(score: float) -> float:
    """Position of a score on the 1–5 axis."""
    return LEFT + (score - 1) / 4 * (WIDTH - LEFT - RIGHT)


def domain_chart(domains: dict[str, float], *, chart_id: str, caption: str) -> Markup:
    """Bars from 1 (strongly disagree) to 5 (strongly agree); the number is printed at each bar's end."""
    height = TOP + ROW * len(domains) + 24
    words = "; ".join(f"{DOMAINS[d]}: {score:.1f} out of 5" for d, score in domains.items())
    parts = [
        f'<svg class="app-readiness-chart" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" '
        f'height="{height}" role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" '
        'xmlns="http://www.w3.org/2000/svg" font-family="Frutiger W01, Arial, sans-serif">',
        f'<title id="{chart_id}-title">{escape(caption)}</title>',
        f'<desc id="{chart_id}-desc">Average agreement by domain, from 1 (strongly disagree) '
        f"to 5 (strongly agree). {escape(words)}.</desc>",
    ]
    # The scale labelled on the top; a light line at each whole score behind each bar (not
    # through the domain names above the bars).
    for tick in range(1, 6):
        parts.append(
            f'<text x="{_x(tick):.1f}" y="{TOP - 12}" font-size="13" fill="#4c6272" '
            f'text-anchor="middle">{tick}</text>'
        )
    for n, (domain, score) in enumerate(domains.items()):
        y = TOP + n * ROW
        for tick in range(1, 6):
            parts.append(
                f'<line x1="{_x(tick):.1f}" y1="{y + LABEL_HEIGHT - 2}" x2="{_x(tick):.1f}" '
                f'y2="{y + LABEL_HEIGHT + BAR_HEIGHT + 2}" stroke="#aeb7bd" stroke-width="1"/>'
            )
        parts.append(
            f'<text x="{LEFT}" y="{y + 13}" font-size="14" fill="#212b32">'
            f"{escape(DOMAINS[domain])}</text>"
        )
        bar_top = y + LABEL_HEIGHT
        end = _x(score)
        parts.append(
            f'<rect x="{LEFT}" y="{bar_top}" width="{max(end - LEFT, 2):.1f}" '
            f'height="{BAR_HEIGHT}" fill="#005eb8"/>'
        )
        parts.append(
            f'<text x="{end + 4:.1f}" y="{bar_top + 14}" font-size="14" font-weight="bold" '
            f'fill="#212b32">{score:.1f}</text>'
        )
    parts.append(
        f'<text x="{LEFT}" y="{height - 4}" font-size="12" fill="#4c6272">'
        "1 strongly disagree · 3 neither · 5 strongly agree</text>"
    )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every piece above is escaped as it is made
