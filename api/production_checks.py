"""Refusals before serving: demo accounts must not exist in production (SPEC §7), and development
mode, which is open by design, listens only on this machine."""

from __future__ import annotations

import ipaddress

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


class OpenDevelopment(SystemExit):
    pass


def refuse_open_development(host: str) -> None:
    """Development and test mode serve the API description to anyone, accept the placeholder
    secret and let demo accounts sign in: fine on this machine, a hole on a network. So outside
    production the server listens only on a loopback address, and says why when asked otherwise."""
    if is_loopback(host):
        return
    raise OpenDevelopment(
        f"Refusing to listen on {host} in development mode: it accepts the placeholder secret and "
        "demo accounts and shows the API description to anyone. Listen on 127.0.0.1 (the "
        "default), or set FRONTLINE_ENVIRONMENT=production with its own FRONTLINE_SECRET_KEY."
    )


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name or "0.0.0.0"-style wildcard we will not guess about
