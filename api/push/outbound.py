"""Where the push worker may connect: every address a push endpoint's host resolves to is checked,
and the connection is made to a checked address, never to a name resolved again later.

A subscription's endpoint is a URL from the browser, that is from whoever holds a session. The
endpoint check (schemas/push.py) refuses what it can see in the URL; only the resolver knows that a
name points inside the trust's network (or that `127.1` is loopback), so the refusal of loopback,
private, link-local and other non-global addresses is made here, after resolution, on the socket
the request will use (SPEC §9). Loopback is allowed outside production, for the tests' stand-in
push service on 127.0.0.1."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NameResolutionError, NewConnectionError
from urllib3.util import connection

from api.config import get_settings

# IPv6 forms that carry an IPv4 address a packet may end up at: judged by that address.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class RefusedDestination(NewConnectionError):
    """The endpoint's host resolves to an address the worker must not reach."""


def address_allowed(address: str, *, allow_loopback: bool) -> bool:
    """Only globally reachable unicast addresses (and loopback when allowed)."""
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(
        address.split("%", 1)[0]  # an IPv6 zone ("fe80::1%eth0") says nothing about reach
    )
    if isinstance(ip, ipaddress.IPv6Address):
        teredo = ip.teredo
        embedded = ip.ipv4_mapped or ip.sixtofour or (teredo[1] if teredo else None)
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            ip = embedded
    if ip.is_loopback:
        return allow_loopback
    return ip.is_global and not ip.is_multicast


def checked_addresses(host: str, port: int, *, allow_loopback: bool) -> list[str]:
    """Every address `host` resolves to, or RefusedDestination's reason if any is not allowed
    (a name that answers with a public and a private address is not trusted with either)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    refused = [a for a in addresses if not address_allowed(a, allow_loopback=allow_loopback)]
    if refused or not addresses:
        raise ValueError(f"{host} resolves to an address push delivery may not reach")
    return addresses


class _CheckedConnection:
    """urllib3's connection with its socket made to a checked address (see the module docstring)."""

    host: str
    port: int
    timeout: Any
    source_address: Any
    socket_options: Any

    def _new_conn(self) -> socket.socket:
        allow_loopback = not get_settings().is_production
        try:
            addresses = checked_addresses(
                self._dns_host,  # type: ignore[attr-defined]
                self.port,
                allow_loopback=allow_loopback,
            )
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc  # type: ignore[arg-type]
        except ValueError as exc:
            raise RefusedDestination(self, str(exc)) from exc  # type: ignore[arg-type]
        error: OSError | None = None
        for address in addresses:
            try:
                # An address literal: urllib3 applies the timeout and socket options, no lookup.
                return connection.create_connection(
                    (address, self.port),
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except OSError as exc:
                error = exc
        raise NewConnectionError(self, f"Failed to establish a new connection: {error}")  # type: ignore[arg-type]


class CheckedHTTPConnection(_CheckedConnection, HTTPConnection):
    pass


class CheckedHTTPSConnection(_CheckedConnection, HTTPSConnection):
    """TLS still verifies the certificate for the endpoint's host name (server_hostname)."""


class _CheckedHTTPPool(HTTPConnectionPool):
    ConnectionCls = CheckedHTTPConnection


class _CheckedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = CheckedHTTPSConnection


class CheckedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _CheckedHTTPPool,
            "https": _CheckedHTTPSPool,
        }


def use_checked_connections(session: requests.Session) -> None:
    """Every direct connection of `session` goes to checked addresses. An outbound proxy the
    operator names (HTTPS_PROXY) is still used: it resolves the push service's name itself, so
    there the check is the proxy's egress allow-list (docs/push.md)."""
    adapter = CheckedAdapter()
    session.mount("https://", adapter)
    session.mount("http://", adapter)


def refused(exc: requests.RequestException) -> bool:
    """Whether a request failed because its destination was refused (not worth retrying)."""
    reason: Any = exc.args[0] if exc.args else None
    reason = getattr(reason, "reason", reason)
    return isinstance(reason, RefusedDestination)
