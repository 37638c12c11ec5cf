"""The client's address for rate limits, trusting X-Forwarded-For only from configured proxies."""

from __future__ import annotations

from fastapi import Request

from api.config import get_settings


def client_address(request: Request) -> str:
    proxies = get_settings().trusted_proxy_count
    if proxies:
        hops = [
            h.strip() for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()
        ]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.client.host if request.client else "unknown"
