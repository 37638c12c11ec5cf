"""VAPID (RFC 8292) keys: configured (FRONTLINE_VAPID_*), or made once and kept in
FRONTLINE_DATA_DIR/vapid_private.pem so every app process and every restart signs with the same key
(browsers subscribe to one public key; a different one makes the push service refuse us).

The private key signs the JWT push services check, so it is kept like a secret: a 0600 file, never
logged, never in a response, left out of every repr.
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid, VapidException  # type: ignore[import-untyped]

from api.config import get_settings
from api.push.settings import PushSettings, push_settings
from schemas.push import decode_base64url, encode_base64url

logger = logging.getLogger("frontline.push")

KEY_FILE = "vapid_private.pem"


class VapidKeyError(RuntimeError):
    """The configured keys cannot be used. The message names the setting, never its value."""


@dataclass(frozen=True)
class VapidKeys:
    private_key: ec.EllipticCurvePrivateKey = field(repr=False)
    public_key: str  # base64url of the uncompressed point: the browser's applicationServerKey
    subject: str

    def signer(self) -> Vapid:
        return Vapid(self.private_key)


def public_key_text(key: ec.EllipticCurvePrivateKey) -> str:
    point = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return encode_base64url(point)


def private_key_text(key: ec.EllipticCurvePrivateKey) -> str:
    """The 32-byte private scalar in base64url: the form FRONTLINE_VAPID_PRIVATE_KEY takes."""
    return encode_base64url(key.private_numbers().private_value.to_bytes(32, "big"))


def generate_key_pair() -> tuple[str, str]:
    """A new (private, public) pair in base64url, for configuration (`frontline vapid`)."""
    key = ec.generate_private_key(ec.SECP256R1())
    return private_key_text(key), public_key_text(key)


def parse_private_key(text: str) -> ec.EllipticCurvePrivateKey:
    """A P-256 private key from base64url (the 32-byte scalar or DER) or PEM text."""
    text = text.strip()
    key: object = None
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_private_key(text.encode(), password=None)
        else:
            raw = decode_base64url(text)
            if raw is not None and len(raw) == 32:
                key = ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
            elif raw:
                key = serialization.load_der_private_key(raw, password=None)
    except (ValueError, TypeError):
        key = None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise VapidKeyError(
            "FRONTLINE_VAPID_PRIVATE_KEY is not a P-256 private key "
            "(use the value `frontline vapid` prints)"
        )
    return key


def load_or_create_key(data_dir: Path) -> ec.EllipticCurvePrivateKey:
    """The key kept in `data_dir`, made on first use. Several processes starting together agree:
    each writes its own temporary file and links it into place; the first link wins."""
    path = data_dir / KEY_FILE
    if not path.exists():
        _create(path)
    _keep_private(path)
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except ValueError as exc:
        raise VapidKeyError(f"{path} is not a PEM private key") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise VapidKeyError(f"{path} does not hold a P-256 private key")
    return key


def _create(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    # Created 0600 (O_EXCL: never through someone else's file), filled and flushed before it
    # becomes visible under its real name, so no process ever reads half a key.
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(descriptor, 0o600)
        os.write(descriptor, pem)
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    try:
        path.hardlink_to(temporary)
    except FileExistsError:
        return  # another process got there first; everyone uses its key
    finally:
        temporary.unlink(missing_ok=True)
    logger.info("VAPID key pair created", extra={"event": "vapid_key_created"})


def _keep_private(path: Path) -> None:
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)
        logger.warning(
            "VAPID key file was readable by others; now 0600",
            extra={"event": "vapid_key_permissions"},
        )


def resolve_keys(settings: PushSettings, data_dir: Path) -> VapidKeys:
    """The keys this process signs with: configured ones (checked), else the data dir's own."""
    if settings.vapid_private_key:
        key = parse_private_key(settings.vapid_private_key)
        public = public_key_text(key)
        if settings.vapid_public_key and settings.vapid_public_key.rstrip("=") != public:
            raise VapidKeyError(
                "FRONTLINE_VAPID_PUBLIC_KEY does not belong to FRONTLINE_VAPID_PRIVATE_KEY"
            )
    elif settings.vapid_public_key:
        raise VapidKeyError("FRONTLINE_VAPID_PUBLIC_KEY is set without FRONTLINE_VAPID_PRIVATE_KEY")
    else:
        key = load_or_create_key(data_dir)
        public = public_key_text(key)
    keys = VapidKeys(private_key=key, public_key=public, subject=settings.vapid_subject)
    try:
        # py_vapid's own rule for `sub` (a mailto: address or an https URL), checked at start
        # rather than on every send.
        keys.signer().sign(
            {"sub": keys.subject, "aud": "https://push.invalid", "exp": int(time.time()) + 60}
        )
    except VapidException as exc:
        raise VapidKeyError(
            "FRONTLINE_VAPID_SUBJECT must be a mailto: address or an https:// URL"
        ) from exc
    return keys


@lru_cache
def vapid_keys() -> VapidKeys:
    """This process's keys (read, or made, once)."""
    return resolve_keys(push_settings(), get_settings().data_dir)
