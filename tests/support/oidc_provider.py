"""A small but real OpenID Connect provider on 127.0.0.1 for the single sign-on tests: a discovery
document, a JWKS, an authorisation endpoint with a sign-in form, and a token endpoint that checks
the client secret, the redirect URI, PKCE (S256) and that each code is used once, and returns ID
tokens signed with RS256 (joserfc). Knobs let a test make it misbehave the way a real attack or a
misconfiguration would: another audience, an expired token, another nonce, another issuer, a key
the JWKS does not hold."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from tests.support.live_server import free_port

CLIENT_ID = "frontline-test-client"
CLIENT_SECRET = "frontline-test-secret-0123456789"


@dataclass
class Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    nonce: str
    user: dict[str, Any]
    used: bool = False


@dataclass
class Provider:
    """Start with start(); `user` is who signs in next; `tamper` overrides claims of the next ID
    tokens; `interactive` shows a sign-in form instead of approving at once."""

    port: int = field(default_factory=free_port)
    user: dict[str, Any] = field(
        default_factory=lambda: {
            "sub": "entra-sub-0001",
            "email": "sam.newstarter@nhs.net",
            "name": "Sam Newstarter",
        }
    )
    tamper: dict[str, Any] = field(default_factory=dict)
    sign_with_stranger_key: bool = False
    interactive: bool = False
    redirect_uris: set[str] = field(default_factory=set)
    grants: dict[str, Grant] = field(default_factory=dict)
    token_requests: int = 0

    def __post_init__(self) -> None:
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key-1", "use": "sig"})
        self.stranger = RSAKey.generate_key(2048, parameters={"kid": "test-key-1", "use": "sig"})
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> Provider:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:  # quiet
                return

            def do_GET(self) -> None:
                provider.handle_get(self)

            def do_POST(self) -> None:
                provider.handle_post(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(
            # shutdown() waits for the loop to look again (every half second by default).
            target=self.server.serve_forever,
            kwargs={"poll_interval": 0.02},
            daemon=True,
        ).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    # -- HTTP -------------------------------------------------------------------------------
    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        }

    def handle_get(self, request: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(request.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if parts.path == "/.well-known/openid-configuration":
            self._json(request, 200, self.discovery())
        elif parts.path == "/jwks":
            self._json(request, 200, KeySet([self.key]).as_dict(private=False))
        elif parts.path == "/authorize":
            problem = self._authorisation_problem(query)
            if problem:
                self._text(request, 400, problem)
            elif self.interactive:
                self._sign_in_form(request, query)
            else:
                self._approve(request, query, self.user)
        else:
            self._text(request, 404, "not found")

    def handle_post(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(request.rfile.read(length).decode()).items()}
        path = urlsplit(request.path).path
        if path == "/authorize":
            query = json.loads(form.get("request", "{}"))
            problem = self._authorisation_problem(query)
            if problem:
                self._text(request, 400, problem)
                return
            user = {**self.user, "email": form.get("email", self.user["email"])}
            self._approve(request, query, user)
        elif path == "/token":
            self._token(request, form)
        else:
            self._text(request, 404, "not found")

    def _authorisation_problem(self, query: dict[str, str]) -> str | None:
        if query.get("client_id") != CLIENT_ID:
            return "unknown client_id"
        if self.redirect_uris and query.get("redirect_uri") not in self.redirect_uris:
            return "redirect_uri is not registered"
        if query.get("response_type") != "code":
            return "response_type must be code"
        if "openid" not in query.get("scope", "").split():
            return "scope must include openid"
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            return "PKCE with S256 is required"
        if not query.get("state") or not query.get("nonce"):
            return "state and nonce are required"
        return None

    def _sign_in_form(self, request: BaseHTTPRequestHandler, query: dict[str, str]) -> None:
        body = f"""<!doctype html><html lang="en"><head><title>Test NHSmail sign-in</title></head>
<body><h1>Test NHSmail</h1><form method="post" action="/authorize">
<input type="hidden" name="request" value="{html.escape(json.dumps(query))}">
<label for="email">NHSmail address</label>
<input id="email" name="email" type="email" value="{html.escape(self.user["email"])}">
<button type="submit">Sign in</button></form></body></html>"""
        encoded = body.encode()
        request.send_response(200)
        request.send_header("Content-Type", "text/html; charset=utf-8")
        request.send_header("Content-Length", str(len(encoded)))
        request.end_headers()
        request.wfile.write(encoded)

    def _approve(
        self, request: BaseHTTPRequestHandler, query: dict[str, str], user: dict[str, Any]
    ) -> None:
        code = secrets.token_urlsafe(24)
        with self.lock:
            self.grants[code] = Grant(
                client_id=query["client_id"],
                redirect_uri=query["redirect_uri"],
                challenge=query["code_challenge"],
                nonce=query["nonce"],
                user=dict(user),
            )
        target = f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"
        request.send_response(302)
        request.send_header("Location", target)
        request.send_header("Content-Length", "0")
        request.end_headers()

    def _token(self, request: BaseHTTPRequestHandler, form: dict[str, str]) -> None:
        with self.lock:
            self.token_requests += 1
        client_id, secret = form.get("client_id"), form.get("client_secret")
        authorization = request.headers.get("Authorization", "")
        if authorization.startswith("Basic "):
            decoded = base64.b64decode(authorization[6:]).decode()
            client_id, _, secret = decoded.partition(":")
        if client_id != CLIENT_ID or secret != CLIENT_SECRET:
            self._json(request, 401, {"error": "invalid_client"})
            return
        if form.get("grant_type") != "authorization_code":
            self._json(request, 400, {"error": "unsupported_grant_type"})
            return
        with self.lock:
            grant = self.grants.get(form.get("code", ""))
            fresh = grant is not None and not grant.used
            if grant is not None:
                grant.used = True  # a code works once, even when this exchange fails
        if grant is None or not fresh:
            self._json(request, 400, {"error": "invalid_grant", "error_description": "code used"})
            return
        verifier = form.get("code_verifier", "")
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .rstrip(b"=")
            .decode()
        )
        if grant.redirect_uri != form.get("redirect_uri") or challenge != grant.challenge:
            self._json(request, 400, {"error": "invalid_grant", "error_description": "PKCE"})
            return
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": grant.user["sub"],
            "aud": CLIENT_ID,
            "iat": now,
            "nbf": now,
            "exp": now + 600,
            "nonce": grant.nonce,
            "email": grant.user["email"],
            "preferred_username": grant.user["email"],
            "name": grant.user["name"],
            **self.tamper,
        }
        key = self.stranger if self.sign_with_stranger_key else self.key
        id_token = jwt.encode({"alg": "RS256", "kid": "test-key-1"}, claims, key)
        self._json(
            request,
            200,
            {
                "access_token": secrets.token_urlsafe(24),
                "token_type": "Bearer",
                "expires_in": 600,
                "id_token": id_token,
            },
        )

    @staticmethod
    def _json(request: BaseHTTPRequestHandler, status: int, body: dict[str, Any]) -> None:
        encoded = json.dumps(body).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(encoded)))
        request.send_header("Cache-Control", "no-store")
        request.end_headers()
        request.wfile.write(encoded)

    @staticmethod
    def _text(request: BaseHTTPRequestHandler, status: int, body: str) -> None:
        encoded = body.encode()
        request.send_response(status)
        request.send_header("Content-Type", "text/plain")
        request.send_header("Content-Length", str(len(encoded)))
        request.end_headers()
        request.wfile.write(encoded)
