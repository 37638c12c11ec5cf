"""Refusals before serving in production: demo accounts must not exist there (SPEC §7)."""

from __future__ import annotations

from sqlalchemy import select

from api.db import open_session
from schemas.accounts import User


class UnsafeProduction(SystemExit):
    pass


def refuse_unsafe_production() -> None:
    from api.demo import DEMO_DOMAIN

    with open_session(write=False) as session:
        demo = session.execute(
            select(User.id).where(User.email.endswith(f"@{DEMO_DOMAIN}"))
        ).first()  # type: ignore[attr-defined]
    if demo is not None:
        raise UnsafeProduction(
            "Demo accounts exist in this database; production refuses to serve them. "
            "Use a fresh database for production."
        )
