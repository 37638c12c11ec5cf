"""The write-rate limit shared by the sync and single-record endpoints."""

from __future__ import annotations

from functools import lru_cache

from api.config import get_settings
from api.errors import TooManyRequests
from api.security.rate_limit import SlidingWindowLimiter
from schemas.accounts import User


@lru_cache
def _limiter() -> SlidingWindowLimiter:
    return SlidingWindowLimiter(get_settings().sync_max_requests_per_minute)


def limit_writes(user: User) -> None:
    allowed, retry_after = _limiter().allow(f"user:{user.id}")
    if not allowed:
        raise TooManyRequests(
            "Too many submissions in a minute. Your items are safe and will be sent shortly.",
            retry_after=retry_after,
        )
