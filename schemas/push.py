"""Web push (SPEC §6, §7): the browsers we may notify, the queue of notifications on their way, what a
browser sends when it subscribes, and the one shape a notification may take (no record text)."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints
from pydantic_core import PydanticCustomError
from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, String
from sqlmodel import Field, SQLModel

from schemas.free_text import no_nul
from schemas.pid_guard import find_nhs_number
from schemas.timestamps import UTCDateTime, utcnow

MAX_ENDPOINT_LENGTH = 2048


class DeliveryStatus(StrEnum):
    pending = "pending"
    sent = "sent"
    failed = "failed"


class PushSubscription(SQLModel, table=True):
    """One browser on one device that agreed to receive notifications for a user. The endpoint is
    the push service's address for that browser: unique, so a phone belongs to one user at a time."""

    __tablename__ = "push_subscription"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    endpoint: str = Field(max_length=MAX_ENDPOINT_LENGTH, sa_column_kwargs={"unique": True})
    p256dh: str = Field(max_length=100)
    auth: str = Field(max_length=32)
    # "Chrome on Android": enough to tell one's devices apart, not the full User-Agent string.
    user_agent: str = Field(default="", max_length=60)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_success_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class PushDelivery(SQLModel, table=True):
    """One notification for one subscription. Written in the transaction of the change it reports;
    sent later by a worker, which claims due rows by setting `claim_token` and moving
    `next_attempt_at` to the end of its lease (so a crashed worker's rows come due again)."""

    __tablename__ = "push_delivery"
    __table_args__ = (
        # The worker's query: status = 'pending' AND next_attempt_at <= now, oldest first.
        Index("ix_push_delivery_due", "status", "next_attempt_at"),
        # Pruning finished rows: status IN ('sent', 'failed') AND created_at < cutoff.
        Index("ix_push_delivery_status_created", "status", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    subscription_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("push_subscription.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        )
    )
    payload: dict[str, str] = Field(sa_column=Column(JSON, nullable=False))
    status: DeliveryStatus = Field(
        default=DeliveryStatus.pending, sa_column=Column(String(10), nullable=False)
    )
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    claim_token: str | None = Field(default=None, max_length=32)
    # The push service's status code ("410"), or "network", "timeout", "expired": never a body.
    last_error: str | None = Field(default=None, max_length=20)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


# What a browser sends: PushSubscription.toJSON() — {"endpoint", "expirationTime", "keys"}.


def decode_base64url(value: str) -> bytes | None:
    """Bytes of a base64url string (padding optional), or None when it is not base64url."""
    if not re.fullmatch(r"[A-Za-z0-9_-]*={0,2}", value):
        return None
    unpadded = value.rstrip("=")
    try:
        return base64.urlsafe_b64decode(unpadded + "=" * (-len(unpadded) % 4))
    except (binascii.Error, ValueError):
        return None


def encode_base64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _p256dh(value: str) -> str:
    raw = decode_base64url(value)
    valid = raw is not None and len(raw) == 65 and raw[0] == 4
    if valid:
        try:
            ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)  # type: ignore[arg-type]
        except ValueError:
            valid = False
    if not valid:
        raise PydanticCustomError(
            "push_key", "p256dh must be the browser's P-256 public key (65 bytes, base64url)"
        )
    return value.rstrip("=")


def _auth_secret(value: str) -> str:
    raw = decode_base64url(value)
    if raw is None or len(raw) != 16:
        raise PydanticCustomError(
            "push_key", "auth must be the browser's 16-byte secret (base64url)"
        )
    return value.rstrip("=")


class PushKeysIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    p256dh: Annotated[str, StringConstraints(max_length=100), AfterValidator(_p256dh)]
    auth: Annotated[str, StringConstraints(max_length=32), AfterValidator(_auth_secret)]


class PushSubscriptionIn(BaseModel):
    """The browser's subscription as it gives it. Unknown members (expirationTime…) are ignored:
    browsers own this shape. The endpoint's policy is checked by the service (`endpoint_problem`)."""

    model_config = ConfigDict(extra="ignore")

    endpoint: Annotated[str, StringConstraints(min_length=1, max_length=MAX_ENDPOINT_LENGTH)]
    keys: PushKeysIn


class PushSubscriptionRemove(BaseModel):
    """Which browser to stop notifying; the whole subscription JSON is accepted too."""

    model_config = ConfigDict(extra="ignore")

    endpoint: Annotated[
        str, StringConstraints(min_length=1, max_length=MAX_ENDPOINT_LENGTH), no_nul
    ]


class PushSubscriptionRead(BaseModel):
    endpoint: str
    device: str
    created_at: datetime


class VapidPublicKey(BaseModel):
    public_key: str


def endpoint_problem(
    endpoint: str, *, allow_loopback_http: bool, allowed_hosts: frozenset[str] | None = None
) -> str | None:
    """Why the server must not POST to this endpoint, or None. Push services are public HTTPS
    hosts; refusing addresses, ports and credentials keeps a subscription from aiming the worker
    at the trust's internal network. `allowed_hosts` (production: FRONTLINE_PUSH_HOSTS) are the
    only hosts accepted when given; `*.example.com` matches any subdomain. Plain http is allowed
    only to 127.0.0.1 (a test push service) when `allow_loopback_http` (development and test).
    What a name resolves to is checked again when the worker connects (api/push/outbound.py)."""
    if not endpoint.isascii() or any(c.isspace() or ord(c) < 32 for c in endpoint):
        return "Endpoint must be a URL without spaces or non-ASCII characters"
    try:
        parts = urlsplit(endpoint)
        port = parts.port
    except ValueError:
        return "Endpoint must be a valid URL"
    host = parts.hostname or ""
    if parts.username is not None or parts.password is not None or parts.fragment:
        return "Endpoint must not carry credentials or a fragment"
    if parts.scheme == "http" and allow_loopback_http:
        if host == "127.0.0.1" and port is not None:
            return None
        return "Endpoint must be an https URL (http only to 127.0.0.1:<port> outside production)"
    if parts.scheme != "https":
        return "Endpoint must be an https URL"
    if _is_address(host):
        return "Endpoint must name a push service host, not an IP address"
    if "." not in host or host.endswith((".", ".localhost", ".local", ".internal")):
        return "Endpoint must name a public push service host"
    if port not in (None, 443):
        return "Endpoint must use the standard https port"
    if allowed_hosts is not None and not host_allowed(host, allowed_hosts):
        return "Endpoint must be on a known push service (FRONTLINE_PUSH_HOSTS)"
    return None


def _is_address(host: str) -> bool:
    """An IP address in any form a resolver or browser reads as one: `10.0.0.1`, but also `127.1`,
    `0x7f.0.0.1`, `10.1`, `017700000001`, a last label of digits (WHATWG: "ends in a number"),
    and IPv6 (any host with a colon; no name has one)."""
    if ":" in host:
        return True
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    last = host.rstrip(".").rsplit(".", 1)[-1]
    return bool(re.fullmatch(r"[0-9]+|0x[0-9a-f]*", last))


def host_allowed(host: str, patterns: frozenset[str]) -> bool:
    """`host` is one of `patterns`, or a subdomain of a `*.` pattern (never the bare domain)."""
    host = host.lower()
    for pattern in patterns:
        if pattern.startswith("*."):
            if host.endswith(pattern[1:]) and len(host) > len(pattern) - 1:
                return True
        elif host == pattern:
            return True
    return False


# What a notification may say. It travels through a third-party push service (encrypted) and shows
# on a lock screen, so it names what changed and where to look, never what anyone wrote.

_URL = r"^/[A-Za-z0-9/._~#?=&%-]*$"
_TAG = r"^[a-z0-9][a-z0-9:._-]*$"


def _same_site_path(value: str) -> str:
    if value.startswith("//"):  # "//host/…" is another site, not a path on this one
        raise ValueError("the url must be a path on this site")
    return value


def _no_record_text(value: str) -> str:
    if find_nhs_number(value):
        raise ValueError("a notification must not carry patient identifiers")
    return value


class PushMessage(BaseModel):
    """title, body, url (a path on this site) and tag (one notification per tag on the phone)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: Annotated[
        str, StringConstraints(min_length=1, max_length=60), AfterValidator(_no_record_text)
    ]
    body: Annotated[
        str, StringConstraints(min_length=1, max_length=160), AfterValidator(_no_record_text)
    ]
    url: Annotated[
        str, StringConstraints(max_length=200, pattern=_URL), AfterValidator(_same_site_path)
    ]
    tag: Annotated[str, StringConstraints(max_length=64, pattern=_TAG)]
