"""The push knobs: VAPID keys and subject, and whether this process runs the delivery worker.

Read from `api.config.Settings` when it declares the field (`vapid_private_key`,
`vapid_public_key`, `vapid_subject`, `push_worker`), otherwise from the same FRONTLINE_*
environment variable, so the values and their names are the same either way.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from api.config import get_settings

DEFAULT_SUBJECT = "mailto:frontline@localhost"
_OFF = frozenset({"0", "off", "false", "no", "f", "n"})


@dataclass(frozen=True)
class PushSettings:
    vapid_private_key: str | None = field(repr=False)
    vapid_public_key: str | None
    vapid_subject: str
    worker_enabled: bool


def _setting(name: str) -> Any:
    settings = get_settings()
    if name in type(settings).model_fields:
        value = getattr(settings, name)
        # A SecretStr keeps the key out of any repr of the settings.
        return value.get_secret_value() if hasattr(value, "get_secret_value") else value
    return os.environ.get(f"FRONTLINE_{name.upper()}")


def _text(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def push_settings() -> PushSettings:
    worker = _setting("push_worker")
    if not isinstance(worker, bool):
        worker = str(worker or "on").strip().lower() not in _OFF
    return PushSettings(
        vapid_private_key=_text(_setting("vapid_private_key")),
        vapid_public_key=_text(_setting("vapid_public_key")),
        vapid_subject=_text(_setting("vapid_subject")) or DEFAULT_SUBJECT,
        worker_enabled=worker,
    )
