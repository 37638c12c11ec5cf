"""A stand-in push service on 127.0.0.1: what Mozilla's autopush or Google's FCM do with a push
message, done strictly. It checks the VAPID JWT (RFC 8292) signature against the server's public key,
decrypts the body (RFC 8291, aes128gcm) with the browser's private key and auth secret, and records
the plaintext. Each endpoint can be told how to answer (201, 404, 410, 429, 500, 307…)."""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Browser:
    """What a browser keeps for one subscription: the private half of p256dh and the auth secret."""

    name: str
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes


@dataclass(frozen=True)
class Attempt:
    name: str
    status: int
    payload: dict[str, Any] | None  # the decrypted JSON, when it could be read
    headers: dict[str, str]  # names in lower case


class StandInPushService:
    def __init__(self, vapid_public_key: str) -> None:
        self.vapid_public_key = vapid_public_key
        self.browsers: dict[str, Browser] = {}
        self.attempts: list[Attempt] = []
        self.problems: list[str] = []
        self.unknown: list[str] = []  # posts to an endpoint no browser holds
        self.delay = 0.0
        self._answers: dict[str, deque[tuple[int, dict[str, str]]]] = defaultdict(deque)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.origin = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            # shutdown() waits for the loop to look again: every half second by default, which
            # was a quarter of a second of waiting at the end of every push test.
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            daemon=True,
        )

    def __enter__(self) -> StandInPushService:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # What a test arranges

    def new_subscription(self, name: str | None = None) -> dict[str, Any]:
        """A browser's PushSubscription.toJSON() for a new browser of this service."""
        name = name or secrets.token_hex(6)
        private_key = ec.generate_private_key(ec.SECP256R1())
        auth = secrets.token_bytes(16)
        with self._lock:
            self.browsers[name] = Browser(name, private_key, auth)
        point = private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {
            "endpoint": f"{self.origin}/push/{name}",
            "expirationTime": None,
            "keys": {"p256dh": b64url(point), "auth": b64url(auth)},
        }

    def answer(self, name: str, *statuses: int, headers: dict[str, str] | None = None) -> None:
        """The next answers for this browser's endpoint, in order; then 201 again."""
        with self._lock:
            for status in statuses:
                self._answers[name].append((status, headers or {}))

    # What a test reads

    def delivered(self, name: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [
                a.payload
                for a in self.attempts
                if 200 <= a.status < 300 and a.payload is not None and name in (None, a.name)
            ]

    def attempts_for(self, name: str) -> list[Attempt]:
        with self._lock:
            return [a for a in self.attempts if a.name == name]

    # The service

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        service = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if service.delay:
                    time.sleep(service.delay)
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, extra, _ = service._receive(self.path, headers, body)
                self.send_response(status)
                for key, value in extra.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

        return Handler

    def _receive(
        self, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], dict[str, Any] | None]:
        name = path.removeprefix("/push/")
        with self._lock:
            browser = self.browsers.get(name)
        if browser is None:
            with self._lock:
                self.unknown.append(name)
            return 404, {}, None
        problems = self._check_vapid(headers.get("authorization", ""))
        problems += self._check_headers(headers)
        payload: dict[str, Any] | None = None
        try:
            plaintext = http_ece.decrypt(
                body,
                private_key=browser.private_key,
                auth_secret=browser.auth,
                version="aes128gcm",
            )
            payload = json.loads(plaintext)
        except Exception as exc:
            problems.append(f"cannot decrypt: {type(exc).__name__}")
        with self._lock:
            queued = self._answers[name]
            status, extra = queued.popleft() if queued else (201, {})
            if problems:
                self.problems.extend(problems)
                status, extra = 400, {}
            self.attempts.append(Attempt(name, status, payload, headers))
        return status, extra, payload

    def _check_vapid(self, authorization: str) -> list[str]:
        scheme, _, params = authorization.partition(" ")
        if scheme.lower() != "vapid":
            return [f"Authorization scheme is {scheme!r}, not vapid"]
        fields = dict(part.strip().split("=", 1) for part in params.split(",") if "=" in part)
        token, key = fields.get("t", ""), fields.get("k", "")
        if key != self.vapid_public_key:
            return ["k is not the server's VAPID public key"]
        try:
            header_b64, claims_b64, signature_b64 = token.split(".")
            header = json.loads(unb64url(header_b64))
            claims = json.loads(unb64url(claims_b64))
            signature = unb64url(signature_b64)
        except ValueError:
            return ["the JWT is malformed"]
        problems = []
        if header.get("alg") != "ES256":
            problems.append("JWT alg is not ES256")
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(key))
        der = encode_dss_signature(
            int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        )
        try:
            public.verify(der, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            problems.append("the JWT signature does not verify with the VAPID public key")
        if claims.get("aud") != self.origin:
            problems.append(f"aud is {claims.get('aud')!r}, not {self.origin!r}")
        now = time.time()
        if not (now < int(claims.get("exp", 0)) <= now + 24 * 3600):
            problems.append("exp is not within the next 24 hours (RFC 8292 §2)")
        if not str(claims.get("sub", "")).startswith(("mailto:", "https://")):
            problems.append("sub is not a mailto: or https: contact")
        return problems

    @staticmethod
    def _check_headers(headers: dict[str, str]) -> list[str]:
        problems = []
        if headers.get("content-encoding") != "aes128gcm":
            problems.append("Content-Encoding is not aes128gcm")
        if not headers.get("ttl", "").isdigit():
            problems.append("TTL is missing")
        topic = headers.get("topic", "")
        if topic and (len(topic) > 32 or not all(c.isalnum() or c in "-_" for c in topic)):
            problems.append("Topic is not ≤ 32 base64url characters (RFC 8030 §5.4)")
        return problems
