"""The client's address for rate limits, trusting X-Forwarded-For only from configured proxies.

Two conditions, both needed: FRONTLINE_TRUSTED_PROXY_COUNT says how many proxies append to the
header, and the connection must come from an address in FRONTLINE_FORWARDED_ALLOW_IPS. A client
that reaches the app port directly (not through the proxy) with a forged header is judged by its
own address. uvicorn (`--proxy-headers`) applies the same address list when it sets the scheme
and client from the proxy's headers, so behind nginx request.client is already the real client.

An IPv6 client is counted by its /64: one subscriber usually holds a whole /64 and can pick any
address in it, so counting single addresses would give one attacker 2^64 fresh limits. An
IPv4-mapped IPv6 address counts as its IPv4 address.
"""

from __future__ import annotations

import ipaddress

from fastapi import Request

from api.config import Settings, get_settings


def is_trusted_proxy(peer: str, settings: Settings) -> bool:
    allowed = [a.strip() for a in settings.forwarded_allow_ips.split(",") if a.strip()]
    if "*" in allowed or peer in allowed:
        return True
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    for entry in allowed:
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue  # a host name (uvicorn accepts them): matched literally above
    return False


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
    settings = get_settings()
    peer = request.client.host if request.client else "unknown"
    proxies = settings.trusted_proxy_count
    if proxies and is_trusted_proxy(peer, settings):
        hops = [
            h.strip() for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()
        ]
        if len(hops) >= proxies:
            return client_group(hops[-proxies])
    return client_group(peer)
