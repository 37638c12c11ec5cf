"""The SPC chart is well-formed SVG a screen reader can name and describe, draws one dot per period
coloured by its variation, carries nothing the CSP would refuse, and escapes what it is given."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import date, timedelta

import pytest
from markupsafe import Markup

from api.measures.charts import data_table, summary_text, xmr_svg
from api.measures.spc import SpcResult, xmr

SVG = "{http://www.w3.org/2000/svg}"
MONDAY = date(2025, 11, 3)
# 10 12 × 5 then 17 14 17 12 10: mean 12, limits 5.16 to 18.84; the 17s are 2 of 3 close to the
# upper limit (see test_spc.py).
TWO_OF_THREE = [10, 12] * 5 + [17, 14, 17, 12, 10]


pytestmark = pytest.mark.no_database  # pure code (tests/conftest.py)


def chart(
    values: Sequence[float],
    direction: str = "increase",
    *,
    target: float | None = None,
    rebase_at: Sequence[int] = (),
) -> SpcResult:
    points = [(MONDAY + timedelta(weeks=i), v) for i, v in enumerate(values)]
    return xmr(points, direction=direction, target=target, rebase_at=rebase_at)


def parse(markup: str) -> ET.Element:
    return ET.fromstring(markup)  # noqa: S314 - our own output, parsed to prove it is well-formed


def svg_of(
    result: SpcResult,
    *,
    title: str = "Ideas submitted per month",
    unit: str = "",
    period: str = "week",
    non_negative: bool = True,
    chart_id: str | None = None,
    width: int = 400,
    height: int = 320,
) -> ET.Element:
    return parse(
        xmr_svg(
            result,
            title=title,
            y_label="Ideas",
            unit=unit,
            period=period,
            non_negative=non_negative,
            chart_id=chart_id,
            width=width,
            height=height,
        )
    )


def classes(element: ET.Element) -> set[str]:
    return set(element.get("class", "").split())


def dots(root: ET.Element) -> list[ET.Element]:
    (group,) = [g for g in root.iter(f"{SVG}g") if "app-spc-points" in classes(g)]
    return list(group.iter(f"{SVG}circle"))


def test_the_chart_is_an_image_named_by_its_title_and_described_in_words() -> None:
    root = svg_of(chart(TWO_OF_THREE), chart_id="ideas")
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("viewBox") == "0 0 400 320"
    title, desc = root[0], root[1]
    assert (title.tag, title.get("id"), title.text) == (
        f"{SVG}title",
        "ideas-title",
        "Ideas submitted per month",
    )
    assert desc.tag == f"{SVG}desc" and desc.get("id") == "ideas-desc"
    assert root.get("aria-labelledby") == "ideas-title"
    assert root.get("aria-describedby") == "ideas-desc"
    assert desc.text == (
        "15 weeks from 3 Nov 2025 to 9 Feb 2026. Mean 12, process limits 5.2 to 18.8. "
        "Latest value 10: common cause variation. 2 points show special cause: 2 points close "
        "to the upper process limit, 12 Jan 2026 and 26 Jan 2026."
    )


def test_the_chart_scales_to_its_width() -> None:
    root = svg_of(chart(TWO_OF_THREE), width=640, height=360)
    assert root.get("viewBox") == "0 0 640 360"
    assert root.get("width") is None and root.get("height") is None  # CSS sizes it: width 100%


def test_one_dot_per_point_classed_by_its_variation() -> None:
    result = chart(TWO_OF_THREE, "increase")
    circles = dots(svg_of(result))
    assert len(circles) == 15
    kinds = [next(c for c in classes(dot) if c.startswith("app-spc-point--")) for dot in circles]
    assert kinds == ["app-spc-point--common-cause"] * 10 + [
        "app-spc-point--improvement",
        "app-spc-point--common-cause",
        "app-spc-point--improvement",
        "app-spc-point--common-cause",
        "app-spc-point--common-cause",
    ]
    assert circles[10].get("fill") == "#289DE0"
    assert circles[0].get("fill") == "#7B7D7D"
    concern = dots(svg_of(chart(TWO_OF_THREE, "decrease")))
    assert "app-spc-point--concern" in classes(concern[10])
    assert concern[10].get("fill") == "#FFB207"
    neutral = dots(svg_of(chart(TWO_OF_THREE, "neutral")))
    assert "app-spc-point--neutral" in classes(neutral[10])
    assert neutral[10].get("fill") == "#361475"


def test_the_period_not_over_yet_is_a_hollow_dot_on_a_dotted_end_of_the_line() -> None:
    points = [(MONDAY + timedelta(weeks=i), v) for i, v in enumerate([*TWO_OF_THREE, 0])]
    result = xmr(points, direction="increase", partial_last=True, non_negative=True)
    root = svg_of(result, unit="ideas")
    circles = dots(root)
    assert len(circles) == 16
    so_far = circles[-1]
    assert "app-spc-point--so-far" in classes(so_far) and so_far.get("fill") == "#FFFFFF"
    title = so_far.find(f"{SVG}title")
    assert title is not None and "not over" in (title.text or "")
    # The solid line ends at the last whole week; a dotted segment reaches the one not over.
    [line] = [e for e in root.iter(f"{SVG}polyline") if "app-spc-line" in classes(e)]
    assert len(line.get("points", "").split()) == 15
    [dotted] = [e for e in root.iter(f"{SVG}line") if "app-spc-line--so-far" in classes(e)]
    assert dotted.get("stroke-dasharray") == "2 3"
    legend = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    assert "So far (not over yet)" in legend
    table = str(data_table(result, caption="T", unit="ideas"))
    assert "0 so far" in table and "not judged" in table
    words = summary_text(result, unit="ideas")
    assert "Latest value 10 ideas" in words and "This week so far: 0 ideas (not over yet" in words


def test_each_dot_says_what_it_is_on_hover() -> None:
    circles = dots(svg_of(chart(TWO_OF_THREE), unit="ideas"))
    tooltip = circles[10].find(f"{SVG}title")
    assert tooltip is not None
    assert tooltip.text == (
        "12 Jan: 17 ideas, Special cause improvement (high): 2 of 3 close to a process limit"
    )


def test_nothing_the_csp_would_refuse() -> None:
    markup = str(xmr_svg(chart(TWO_OF_THREE, target=15), title="T", y_label="Y"))
    root = parse(markup)
    for element in root.iter():
        assert "style" not in element.attrib
        assert not any(name.startswith("on") for name in element.attrib)
        assert element.tag not in (f"{SVG}script", f"{SVG}style", f"{SVG}foreignObject")
    assert "style=" not in markup and "<script" not in markup and "javascript:" not in markup


def test_a_malicious_title_is_escaped() -> None:
    evil = '</title><script>alert("x")</script><title a="'
    markup = xmr_svg(
        chart(TWO_OF_THREE), title=evil, y_label="<b>", unit="&amp;", x_labels=["<i>"] * 15
    )
    assert isinstance(markup, Markup)
    assert "<script" not in markup and "<b>" not in markup and "<i>" not in markup
    root = parse(markup)
    assert root[0].text == evil
    title_lines = [t.text or "" for t in root.iter(f"{SVG}text") if "app-spc-title" in classes(t)]
    assert " ".join(title_lines) == evil  # wrapped onto two lines, each escaped
    assert "<b>" in [t.text for t in root.iter(f"{SVG}text")]


@pytest.mark.parametrize("values", [[], [4], [4, 10]])
def test_zero_one_and_two_points_draw(values: list[float]) -> None:
    root = svg_of(chart(values, target=5))
    assert root.get("role") == "img"
    if values:
        assert len(dots(root)) == len(values)
    else:
        assert [t.text for t in root.iter(f"{SVG}text") if "app-spc-empty" in classes(t)] == [
            "No data for these dates"
        ]
        assert root[1].text == "No data for these dates."


def test_one_point_is_described_without_limits() -> None:
    assert summary_text(chart([4]), unit="ideas") == (
        "One week: 3 Nov 2025. Mean 4; one point gives no process limits. "
        "Latest value 4 ideas: common cause variation. No special cause variation."
    )


def test_trial_limits_are_marked_and_explained() -> None:
    root = svg_of(chart([10, 14] * 5))
    limits = [line for line in root.iter(f"{SVG}line") if "app-spc-limit" in classes(line)]
    assert limits and all("app-spc-limit--trial" in classes(line) for line in limits)
    notes = [t.text for t in root.iter(f"{SVG}text") if "app-spc-legend-note" in classes(t)]
    assert notes == ["Trial limits: fewer than 12 points"]
    assert "Trial limits: fewer than 12 points." in (root[1].text or "")
    settled = svg_of(chart([10, 14] * 6))
    assert not [t for t in settled.iter(f"{SVG}text") if "app-spc-legend-note" in classes(t)]


def test_mean_solid_and_limits_dashed_per_segment() -> None:
    root = svg_of(chart([10, 14] * 6 + [20, 26] * 6, rebase_at=[12]))
    plot_lines = [
        line for g in root.iter(f"{SVG}g") if "app-spc-limits" in classes(g) for line in g
    ]
    means = [line for line in plot_lines if "app-spc-mean" in classes(line)]
    limits = [line for line in plot_lines if "app-spc-limit" in classes(line)]
    rebases = [line for line in plot_lines if "app-spc-rebase" in classes(line)]
    assert len(means) == 2 and len(limits) == 4 and len(rebases) == 1
    assert all(line.get("stroke-dasharray") is None for line in means)
    assert all(line.get("stroke-dasharray") == "6 4" for line in limits)
    assert "Limits recalculated from 26 Jan 2026." in (root[1].text or "")


def test_a_lower_limit_below_zero_is_not_drawn_for_a_count() -> None:
    # 0 10 × 6: mean 5, limits −21.6 and 31.6. The axis starts at 0 and only the upper limit shows.
    result = chart([0, 10] * 6)
    root = svg_of(result)
    limits = [line for line in root.iter(f"{SVG}line") if classes(line) == {"app-spc-limit"}]
    assert len(limits) == 2  # the upper limit and its legend key
    ticks = [t.text for t in root.iter(f"{SVG}text") if "app-spc-tick--y" in classes(t)]
    assert ticks[0] == "0"
    assert "process limits −21.6 to 31.6" in (root[1].text or "")  # the numbers are not floored
    signed = svg_of(result, non_negative=False)
    drawn = [line for line in signed.iter(f"{SVG}line") if classes(line) == {"app-spc-limit"}]
    assert len(drawn) == 3


def test_the_variation_and_assurance_icons_sit_beside_the_title() -> None:
    # 0 50 × 6: limits −108 and 158; a target of 200 on an increasing measure is never met.
    root = svg_of(chart([0, 50] * 6, "increase", target=200))
    icons = [g for g in root.iter(f"{SVG}g") if "app-spc-icon" in classes(g)]
    assert [sorted(classes(g) - {"app-spc-icon"}) for g in icons] == [
        ["app-spc-icon--assurance", "app-spc-icon--fail"],
        ["app-spc-icon--common-cause", "app-spc-icon--variation"],
    ]
    assert [g.findtext(f"{SVG}title") for g in icons] == [
        "Assurance: the target is consistently missed",
        "Variation: common cause variation",
    ]
    targets = [line for line in root.iter(f"{SVG}line") if "app-spc-target" in classes(line)]
    assert targets  # the target line and its legend key
    assert "The process will not meet the target of 200 without change." in (root[1].text or "")


def test_a_special_cause_latest_point_shows_its_letter() -> None:
    # 48 52 × 5, 48, 66: the 66 is above the upper limit (see test_spc.py).
    root = svg_of(chart([48, 52] * 5 + [48, 66], "decrease"))
    (icon,) = [g for g in root.iter(f"{SVG}g") if "app-spc-icon--variation" in classes(g)]
    assert "app-spc-icon--concern-high" in classes(icon)
    assert [t.text for t in icon.iter(f"{SVG}text")] == ["H"]


def test_a_long_story_tells_the_latest_signals() -> None:
    # Seven weeks of 20, seven of 0, five times over (70 weeks): every block is a run, every point outside.
    result = chart(([20] * 7 + [0] * 7) * 5, "neutral")
    count = len(result.signals)
    assert count > 6
    text = summary_text(result)
    assert f"special cause: the latest 6 of {count} signals: " in text
    assert text.endswith("0 on 1 Mar 2027, below the lower process limit.")


def test_x_labels_must_match_the_points() -> None:
    with pytest.raises(ValueError, match="x labels"):
        xmr_svg(chart([1, 2, 3]), title="T", y_label="Y", x_labels=["a", "b"])


def test_sparse_x_labels_for_a_year_of_weeks() -> None:
    root = svg_of(chart([30 + (i % 5) for i in range(52)]))
    dates = [t.text for t in root.iter(f"{SVG}text") if "app-spc-tick--x" in classes(t)]
    assert dates[0] == "3 Nov" and dates[-1] == "26 Oct"
    assert 2 <= len(dates) <= 6


def test_month_charts_are_labelled_by_month() -> None:
    result = xmr([(date(2025, month, 1), month) for month in range(1, 13)], direction="increase")
    root = svg_of(result, period="month")
    assert (root[1].text or "").startswith("12 months from Jan 2025 to Dec 2025.")


def test_two_charts_with_different_titles_get_different_ids() -> None:
    first = svg_of(chart([1, 2]), title="One")
    second = svg_of(chart([1, 2]), title="Two")
    assert first.get("id") != second.get("id")


def test_the_data_table_carries_the_same_numbers() -> None:
    result = chart(TWO_OF_THREE, "increase")
    markup = data_table(result, caption="Ideas <per> month", unit="ideas")
    assert isinstance(markup, Markup)
    table = parse(markup)
    assert classes(table) == {"nhsuk-table", "app-spc-table", "nhsuk-u-visually-hidden"}
    caption = table.find("caption")
    assert caption is not None and caption.text == "Ideas <per> month"
    headings = [th.text for th in table.iter("th") if th.get("scope") == "col"]
    assert headings == [
        "Week starting",
        "Value (ideas)",
        "Mean",
        "Lower process limit",
        "Upper process limit",
        "Variation",
    ]
    rows = table.findall("./tbody/tr")
    assert len(rows) == 15
    first = rows[10]
    time = first.find("./th/time")
    assert time is not None and (time.get("datetime"), time.text) == ("2026-01-12", "12 Jan 2026")
    assert [td.text for td in first.findall("td")] == [
        "17",
        "12",
        "5.2",
        "18.8",
        "Special cause improvement (high): 2 of 3 close to a process limit",
    ]


def test_the_data_table_can_be_shown_and_notes_trial_limits() -> None:
    table = parse(data_table(chart([4, 10]), caption="C", visually_hidden=False))
    assert "nhsuk-u-visually-hidden" not in classes(table)
    caption = table.find("caption")
    assert caption is not None and caption.text == "C (trial limits: fewer than 12 points)"
    empty = parse(data_table(chart([]), caption="C"))
    assert empty.findall("./tbody/tr") == []
