"""Measures as managers see them: JSON per SPEC §8, the charts page and the partner review pack."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from api.measures.series import Measure
from tests.records import handover_data, new_id, reference_ids

LONDON = ZoneInfo("Europe/London")


def send(client: Any, when: datetime, **overrides: Any) -> None:
    body = {"id": new_id(), **handover_data(occurred_at=when.isoformat(), **overrides)}
    assert client.post("/api/v1/handovers", json=body).status_code == 201


def test_the_measure_json_has_the_spec_shape(crew: Any, manager: Any) -> None:
    send(crew, datetime(2026, 11, 3, 10, tzinfo=UTC))
    body = manager.get(
        "/api/v1/measures/handovers-per-week", params={"from": "2026-10-05", "to": "2026-11-22"}
    ).json()
    assert body["measure"] == "handovers-per-week" and body["period"] == "week"
    assert {"assurance"} <= set(body)
    assert len(body["points"]) == 7
    point = body["points"][4]
    assert set(point) >= {
        "start",
        "value",
        "mean",
        "lpl",
        "upl",
        "special_cause",
        "rules",
        "variation",
    }
    assert point["start"] == "2026-11-02" and point["value"] == 1
    assert [p["value"] for p in body["points"]].count(0) == 6


@pytest.mark.parametrize("measure", [m.value for m in Measure])
def test_every_measure_answers(manager: Any, measure: str) -> None:
    response = manager.get(f"/api/v1/measures/{measure}")
    assert response.status_code == 200
    assert response.json()["period"] in {"week", "month"}


def test_bad_measure_requests_are_refused(manager: Any, crew: Any) -> None:
    assert manager.get("/api/v1/measures/happiness").status_code == 422
    bad = manager.get(
        "/api/v1/measures/handovers-per-week", params={"from": "2026-11-20", "to": "2026-11-01"}
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "from"
    too_long = manager.get(
        "/api/v1/measures/handovers-per-week", params={"from": "1990-01-01", "to": "2026-11-01"}
    )
    assert too_long.status_code == 422
    assert crew.get("/api/v1/measures/handovers-per-week").status_code == 403


def test_a_special_cause_shows_in_the_json(crew: Any, manager: Any) -> None:
    start = datetime(2026, 6, 1, 9, tzinfo=UTC)  # a Monday
    for week in range(14):
        count = 12 if week == 13 else 2
        for n in range(count):
            send(crew, start + timedelta(weeks=week, hours=n))
    body = manager.get(
        "/api/v1/measures/handovers-per-week", params={"from": "2026-06-01", "to": "2026-09-06"}
    ).json()
    last = body["points"][-1]
    assert last["value"] == 12 and last["special_cause"] and "outside_limits" in last["rules"]


def test_the_measures_page_draws_every_chart_accessibly(manager: Any) -> None:
    html = manager.get("/measures").text
    assert html.count('role="img"') >= len(Measure)
    assert "style=" not in html
    assert "Ideas submitted per month" in html


def test_the_partner_pack_counts_and_never_names_the_crew(crew: Any, manager: Any) -> None:
    partner = reference_ids()["partners"][4]
    now = datetime.now(UTC) - timedelta(days=2)
    send(
        crew,
        now,
        partner_id=partner,
        categories=["patient_not_ready", "missing_paperwork"],
        delay_minutes=30,
        vehicle="PTS99",
    )
    send(
        crew,
        now - timedelta(days=1),
        partner_id=partner,
        categories=["patient_not_ready"],
        delay_minutes=90,
    )
    send(crew, now, categories=["other"])  # another partner: not in this pack
    html = manager.get(f"/partners/{partner}").text
    assert ">2</span> concerns" in html and ">0</span> good-practice notes" in html
    assert "Patient not ready" in html and "Missing paperwork" in html
    assert ">60</span> median delay" in html and ">90</span> 90th percentile" in html
    assert "Casey" not in html and "PTS99" not in html
    assert role_img(html) >= 1


def test_an_organisations_pack_covers_its_sites_and_counts_good_practice(
    crew: Any, manager: Any
) -> None:
    from sqlalchemy import update

    from api.db import open_session
    from schemas.accounts import Partner

    organisation, site = reference_ids()["partners"][3], reference_ids()["partners"][5]
    with open_session(write=True) as session:
        session.execute(update(Partner).where(Partner.id == site).values(parent_id=organisation))
        session.commit()
    now = datetime.now(UTC) - timedelta(days=2)
    send(crew, now, partner_id=organisation, categories=["patient_not_ready"])
    send(crew, now, partner_id=site, categories=["missing_paperwork"], delay_minutes=15)
    send(
        crew,
        now,
        partner_id=site,
        note_type="good_practice",
        categories=[],
        good_practice=["quick_handover"],
        harm=None,
        delay_minutes=None,
    )
    whole = manager.get(f"/partners/{organisation}").text
    assert ">2</span> concerns" in whole and ">1</span> good-practice notes" in whole
    assert "and its sites" in whole and "Quick handover" in whole
    one_site = manager.get(f"/partners/{site}").text
    assert ">1</span> concerns" in one_site and "and its sites" not in one_site
    body = manager.get(
        "/api/v1/measures/good-practice-per-week", params={"partner_id": organisation}
    ).json()
    assert sum(p["value"] or 0 for p in body["points"]) == 1
    concerns = manager.get(
        "/api/v1/measures/handovers-per-week", params={"partner_id": organisation}
    ).json()
    assert sum(p["value"] or 0 for p in concerns["points"]) == 2


def role_img(html: str) -> int:
    return html.count('role="img"')


def test_an_unknown_partner_pack_is_404_and_reporters_are_refused(crew: Any, manager: Any) -> None:
    assert manager.get("/partners/99999").status_code == 404
    assert crew.get(f"/partners/{reference_ids()['partners'][0]}").status_code == 403


def test_a_packs_trend_starts_when_the_trust_started_not_with_empty_weeks(
    crew: Any, manager: Any, partner: Any
) -> None:
    """SPEC §8: weeks before a trust used Frontline are neither zeros nor signals. A trust whose
    first notes came this week must not read 25 empty weeks as concerns that "have fallen"."""
    about = reference_ids()["partners"][3]
    # This week in the trust's (London) weeks, even in the first minutes of a Monday.
    local = datetime.now(UTC).astimezone(LONDON)
    monday = (local - timedelta(days=local.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    now = max(local - timedelta(minutes=5), monday)
    for n in range(4):
        send(crew, now + timedelta(seconds=n), partner_id=about)
    html = manager.get(f"/partners/{about}").text
    assert ">4</span> concerns" in html
    assert "too few weeks yet to say what is usual" in html
    assert "fallen" not in html and "One week:" in html
    # A partner's own pack draws the same trend (here: their one week, with no note about them).
    own = partner.get("/partner/pack").text
    assert "One week:" in own and "fallen" not in own
    # Once the trust has notes from ten weeks ago (about another partner), the weeks since with
    # no note about this partner are real zeros, and the trend shows them.
    other = reference_ids()["partners"][0]
    # Ten weeks before, in the trust's weeks: noon London time on the same weekday, not now minus
    # ten weeks of UTC (late on a winter Sunday that is the next summer week, BST, and a week less).
    ten_weeks_ago = (now - timedelta(weeks=10)).replace(hour=12, minute=0)
    send(crew, ten_weeks_ago, partner_id=other)
    html = manager.get(f"/partners/{about}").text
    assert ">4</span> concerns" in html and "One week:" not in html
    assert "11 weeks from" in html
    # This week is not over: its 4 so far are drawn, not judged (no signal from a week in part).
    assert "This week so far: 4 notes (not over yet" in html and "This week so far: 4." in html
    assert "outside the process limits" not in html
    # The partner's chart on /measures (and in its JSON) is the same series: the weeks since the
    # trust began with no note about them are zeros there too, so the two pages agree.
    series = manager.get(f"/api/v1/measures/handovers-per-week?partner_id={about}").json()
    assert [p["value"] for p in series["points"]] == [0] * 10 + [4]
    assert [p["partial"] for p in series["points"]] == [False] * 10 + [True]
    assert "11 weeks from" in manager.get(f"/measures?partner_id={about}").text


def test_weeks_that_have_not_begun_are_not_drawn_and_this_week_is_not_judged(
    manager: Any,
) -> None:
    """A `to` in the future: the weeks after this one have had no chance to hold a record, so
    they are no points (not zeros a rule could read as a fall); this week is the last, so far."""
    today = datetime.now(UTC).astimezone(LONDON).date()
    monday = today - timedelta(days=today.weekday())
    body = manager.get(
        "/api/v1/measures/handovers-per-week",
        params={
            "from": (monday - timedelta(weeks=4)).isoformat(),
            "to": (monday + timedelta(weeks=3)).isoformat(),
        },
    ).json()
    starts = [p["start"] for p in body["points"]]
    assert starts[-1] == monday.isoformat() and len(starts) == 5
    assert [p["partial"] for p in body["points"]] == [False] * 4 + [True]
    so_far = body["points"][-1]
    assert so_far["variation"] is None and so_far["special_cause"] is False
    assert all(p["variation"] == "common_cause" for p in body["points"][:4])
