"""The demo trust (SPEC §7): teams, partner organisations, five strategic aims, four staff and a
partner organisation's user."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session

from api.auth.users import create_user, find_by_email
from schemas.accounts import Aim, Partner, Team
from schemas.enums import PartnerKind, Role

DEMO_DOMAIN = "demo.nhs.uk"

TEAMS = [
    "Patient Transport Service – North",
    "Patient Transport Service – South",
    "Ward 7 – Acute Medicine",
    "Emergency Department",
    "Quality Improvement Team",
]

PARTNERS = [
    ("Riverside General Hospital", PartnerKind.hospital),
    ("Riverside General Hospital – Emergency Department", PartnerKind.hospital),
    ("St Mary's Community Hospital", PartnerKind.hospital),
    ("Northgate Renal Unit", PartnerKind.clinic),
    ("Oak Lodge Care Home", PartnerKind.care_home),
    ("Willow Court Nursing Home", PartnerKind.care_home),
    ("Hillside Outpatient Centre", PartnerKind.clinic),
]

AIMS = [
    ("Safe, high-quality care", "Reduce avoidable harm and improve outcomes for every patient."),
    ("Timely access and flow", "Cut waits and delays across the patient's journey."),
    ("Great place to work", "Support, develop and listen to our people."),
    ("Fair and equal services", "Reduce inequalities in access, experience and outcomes."),
    ("Sustainable use of resources", "Spend every pound and every hour where it adds value."),
]

USERS = [
    ("crew@demo.nhs.uk", "crew-demo-pass", "Casey Crew", Role.reporter, TEAMS[0]),
    ("staff@demo.nhs.uk", "staff-demo-pass", "Sam Staff", Role.reporter, TEAMS[2]),
    ("manager@demo.nhs.uk", "manager-demo-pass", "Morgan Manager", Role.manager, TEAMS[4]),
    ("admin@demo.nhs.uk", "admin-demo-pass", "Alex Admin", Role.admin, TEAMS[4]),
]
# A user of the first partner organisation (SPEC §7): answers the notes raised with it.
PARTNER_USER = ("partner@demo.nhs.uk", "partner-demo-pass", "Pat Partner", PARTNERS[0][0])


def is_seeded(session: Session) -> bool:
    return find_by_email(session, USERS[0][0]) is not None


def seed_demo(session: Session) -> bool:
    """Seed once; True when it seeded, False when the demo trust was already there."""
    if is_seeded(session):
        return False
    teams: dict[str, Team] = {}
    for name in TEAMS:
        team = session.execute(select(Team).where(Team.name == name)).scalar_one_or_none()
        teams[name] = team or Team(name=name)
        session.add(teams[name])
    for name, kind in PARTNERS:
        if session.execute(select(Partner).where(Partner.name == name)).first() is None:
            session.add(Partner(name=name, kind=kind))
    for name, description in AIMS:
        if session.execute(select(Aim).where(Aim.name == name)).first() is None:
            session.add(Aim(name=name, description=description))
    session.flush()
    for email, password, name, role, team in USERS:
        create_user(
            session, email=email, name=name, password=password, role=role, team_id=teams[team].id
        )
    email, password, name, organisation = PARTNER_USER
    partner = session.execute(select(Partner).where(Partner.name == organisation)).scalar_one()
    create_user(
        session,
        email=email,
        name=name,
        password=password,
        role=Role.partner,
        team_id=None,
        partner_id=partner.id,
    )
    return True
