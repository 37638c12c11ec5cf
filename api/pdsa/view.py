"""PDSA cycles as the idea page shows them: each with its run chart (XmR, no improvement direction)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from markupsafe import Markup
from sqlalchemy import select
from sqlmodel import Session

from api.measures.charts import xmr_svg
from api.measures.spc import xmr
from api.pdsa.service import cycles_of
from schemas.pdsa import PdsaCycle, PdsaCycleRead


@dataclass(frozen=True)
class CycleView:
    cycle: PdsaCycleRead
    chart: Markup | None


def has_cycles(session: Session, idea_id: uuid.UUID) -> bool:
    return (
        session.execute(select(PdsaCycle.id).where(PdsaCycle.idea_id == idea_id).limit(1)).first()
        is not None
    )  # type: ignore[arg-type]


def cycle_chart(cycle: PdsaCycleRead, chart_id: str | None = None) -> Markup | None:
    """The cycle's run chart (XmR, no improvement direction), or None before any value."""
    if not cycle.points:
        return None
    result = xmr([(p.day, p.value) for p in cycle.points], direction="neutral")
    return xmr_svg(
        result,
        title=cycle.measure_name,
        y_label=cycle.measure_unit or "Value",
        unit=cycle.measure_unit,
        period="day",
        chart_id=chart_id or f"pdsa-{cycle.id}",
        non_negative=False,
    )


def pdsa_view(session: Session, idea_id: uuid.UUID) -> list[CycleView]:
    return [CycleView(cycle=c, chart=cycle_chart(c)) for c in cycles_of(session, idea_id)]
