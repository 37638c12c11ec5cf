"""What managers set on a chart (SPEC §8): a baseline whose limits are fixed, a target for the
assurance icon, changes (limits recalculated from a date, with the reason) and notes on points.
Kept in chart_setting / chart_event, each edit an audit event (record kind "measure")."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import delete, select
from sqlmodel import Session

from api.errors import Invalid, NotFound
from schemas.accounts import User
from schemas.audit import AuditEvent
from schemas.field_errors import FieldError
from schemas.ideas import Idea
from schemas.measures import ALL, ChartEvent, ChartEventIn, ChartSetting, ChartSettingIn
from schemas.pdsa import PdsaCycle
from schemas.timestamps import utcnow

AUDIT_KIND = "measure"


@dataclass
class ChartShape:
    """Everything set on one chart (a measure, for all partners or one)."""

    target: object = None  # Decimal | None
    baseline_to: date | None = None
    events: list[ChartEvent] = field(default_factory=list)

    @property
    def target_text(self) -> str:
        """The target as a person typed it: 150, not 150.000 (the column keeps three places)."""
        if self.target is None:
            return ""
        return f"{Decimal(str(self.target)).normalize():f}"


def shape_of(session: Session, measure: str, partner_id: int | None) -> ChartShape:
    """The chart's settings: a partner's own target when it has one, else the measure's."""
    scopes = [ALL] if not partner_id else [partner_id, ALL]
    settings = {
        s.partner_id: s
        for s in session.execute(
            select(ChartSetting).where(
                ChartSetting.measure == measure,
                ChartSetting.partner_id.in_(scopes),  # type: ignore[attr-defined]
            )
        ).scalars()
    }
    own = settings.get(partner_id or ALL)
    fallback = settings.get(ALL)
    chosen = own or fallback
    events = list(
        session.execute(
            select(ChartEvent)
            .where(ChartEvent.measure == measure, ChartEvent.partner_id == (partner_id or ALL))
            .order_by(ChartEvent.day, ChartEvent.created_at)  # type: ignore[arg-type]
        ).scalars()
    )
    return ChartShape(
        target=chosen.target if chosen else None,
        baseline_to=own.baseline_to if own else None,
        events=events,
    )


def _audit(session: Session, user: User, record_id: uuid.UUID, note: str) -> None:
    session.add(
        AuditEvent(
            record_kind=AUDIT_KIND,
            record_id=record_id,
            actor_id=user.id,  # type: ignore[arg-type]
            at=utcnow(),
            action="update",
            note=note,
            visible_to_submitter=False,
        )
    )


def save_setting(
    session: Session, user: User, measure: str, partner_id: int | None, body: ChartSettingIn
) -> ChartSetting:
    scope = partner_id or ALL
    setting = session.execute(
        select(ChartSetting).where(
            ChartSetting.measure == measure, ChartSetting.partner_id == scope
        )
    ).scalar_one_or_none()
    if setting is None:
        setting = ChartSetting(measure=measure, partner_id=scope, updated_by=user.id)  # type: ignore[arg-type]
    setting.target = body.target
    setting.baseline_to = body.baseline_to
    setting.updated_by = user.id  # type: ignore[assignment]
    setting.updated_at = utcnow()
    session.add(setting)
    session.flush()
    _audit(
        session,
        user,
        setting.id,
        f"{measure} (partner {scope or 'all'}): target {body.target}, baseline to {body.baseline_to}",
    )
    return setting


def add_event(
    session: Session, user: User, measure: str, partner_id: int | None, body: ChartEventIn
) -> ChartEvent:
    event = ChartEvent(
        measure=measure,
        partner_id=partner_id or ALL,
        kind=body.kind,
        day=body.day,
        text=body.text.strip(),
        created_by=user.id,  # type: ignore[arg-type]
    )
    session.add(event)
    session.flush()
    _audit(session, user, event.id, f"{measure}: {body.kind} on {body.day}")
    return event


def add_pdsa(
    session: Session, user: User, measure: str, partner_id: int | None, cycle_id: int
) -> ChartEvent:
    """Mark a PDSA cycle on the chart it tests, at its start date, with its plan."""
    cycle = session.get(PdsaCycle, cycle_id)
    if cycle is None:
        raise Invalid([FieldError(field="pdsa_cycle_id", message="Choose a PDSA cycle")])
    text = f"PDSA ({cycle.measure_name}): {cycle.plan}"
    event = ChartEvent(
        measure=measure,
        partner_id=partner_id or ALL,
        kind="pdsa",
        day=cycle.start_date,
        text=text[:197] + "…" if len(text) > 200 else text,
        pdsa_cycle_id=cycle.id,
        created_by=user.id,  # type: ignore[arg-type]
    )
    session.add(event)
    session.flush()
    _audit(session, user, event.id, f"{measure}: PDSA cycle {cycle.id} marked")
    return event


def pdsa_choices(session: Session) -> list[tuple[int, str]]:
    """Cycles on ideas being tested or accepted, newest first: what a manager can mark."""
    rows = session.execute(
        select(PdsaCycle.id, PdsaCycle.start_date, PdsaCycle.measure_name, Idea.title)
        .join(Idea, Idea.id == PdsaCycle.idea_id)  # type: ignore[arg-type]
        .where(Idea.status.in_(["accepted", "testing", "implemented", "shared"]))  # type: ignore[attr-defined]
        .order_by(PdsaCycle.start_date.desc())  # type: ignore[attr-defined]
        .limit(100)
    ).all()
    return [(i, f"{title}: {name} (from {start:%-d %b %Y})") for i, start, name, title in rows]


def remove_event(session: Session, user: User, measure: str, event_id: uuid.UUID) -> None:
    event = session.get(ChartEvent, event_id)
    if event is None or event.measure != measure:
        raise NotFound("No such change or note on this chart.")
    session.execute(delete(ChartEvent).where(ChartEvent.id == event_id))  # type: ignore[arg-type]
    _audit(session, user, event_id, f"{measure}: {event.kind} on {event.day} removed")
