"""The client's address for rate limits, trusting X-Forwarded-For only from configured proxies.

An IPv6 client is counted by its /64: one subscriber usually holds a whole /64 and can pick any
address in it, so counting single addresses would give one attacker 2^64 fresh limits. An
IPv4-mapped IPv6 address counts as its IPv4 address.
"""

from __future__ import annotations

import ipaddress

from fastapi import Request

from api.config import get_settings

IPV6_PREFIX = 64


def client_group(address: str) -> str:
    """The key one client is counted under: an IPv4 address, or an IPv6 address's /64."""
    try:
        ip = ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, IPV6_PREFIX), strict=False))
    return str(ip)


def client_address(request: Request) -> str:
    proxies = get_settings().trusted_proxy_count
    if proxies:
        hops = [
            h.strip() for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()
        ]
        if len(hops) >= proxies:
            return client_group(hops[-proxies])
    return client_group(request.client.host) if request.client else "unknown"
