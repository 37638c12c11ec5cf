"""Optimistic concurrency over HTTP: the record's version as its ETag, If-Match to change it."""

from __future__ import annotations

from fastapi import Response

from api.errors import DomainError, Invalid
from schemas.field_errors import FieldError


class PreconditionRequired(DomainError):
    status_code = 428
    default_detail = "Send If-Match with the version you last saw (the ETag of the record)."


def etag(version: int) -> str:
    return f'"{version}"'


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag(version)


def parse_if_match(header: str | None, *, required: bool) -> int | None:
    """The version in If-Match ("3", W/"3" or 3); None when absent and not required."""
    if header is None or not header.strip():
        if required:
            raise PreconditionRequired()
        return None
    value = header.strip().removeprefix("W/").strip('"')
    # isdecimal, not isdigit: "²" is a digit that int() cannot read (that was a 500).
    if not value.isdecimal():
        raise Invalid(
            [
                FieldError(
                    field="If-Match", message='If-Match must be the record\'s version, e.g. "3"'
                )
            ]
        )
    return int(value)
