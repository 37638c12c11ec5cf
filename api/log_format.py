"""Structured JSON logs: one line per event, only named fields, never free text from users.

json.dumps escapes CR/LF, so input cannot forge a log line (ASVS 16.4)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

# The only extra fields a log line may carry; anything else passed in `extra` is dropped.
ALLOWED_FIELDS = ("event", "user_id", "scope", "error", "status", "path", "method", "count")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in ALLOWED_FIELDS:
            if hasattr(record, name):
                line[name] = getattr(record, name)
        if record.exc_info:
            line["exception"] = record.exc_info[0].__name__ if record.exc_info[0] else "unknown"
        return json.dumps(line, default=str)


def configure_logging(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("frontline")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
