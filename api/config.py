"""Settings from the environment (FRONTLINE_* and DATABASE_URL), with safe local defaults.

One object, read once per process; production refuses to start on placeholder secrets.
"""

from __future__ import annotations

import ipaddress
import secrets
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET = "change-me-local-development-only"  # noqa: S105 - a placeholder production refuses


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class Settings(BaseSettings):
    """Every knob the service reads. Documented one by one in README.md (a test keeps them in step)."""

    model_config = SettingsConfigDict(env_prefix="FRONTLINE_", extra="ignore")

    environment: Environment = Field(
        default=Environment.development,
        description="development, test or production. Production turns on Secure cookies with the "
        "__Host- prefix, HSTS, serves /openapi.json only to signed-in users and refuses default secrets and demo accounts.",
    )
    data_dir: Path = Field(
        default=Path("data"),
        description="Where the embedded defaults live: the SQLite file and generated keys.",
    )
    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "FRONTLINE_DATABASE_URL"),
        description="SQLAlchemy URL (sqlite:///path or postgresql+psycopg://user:pass@host/db). "
        "Default: SQLite file frontline.db in FRONTLINE_DATA_DIR.",
    )
    secret_key: str = Field(
        default=DEFAULT_SECRET,
        description="Key for CSRF tokens. Required (32+ characters) in production.",
    )
    allowed_signup_domains: str = Field(
        default="",
        description="Comma-separated email domains allowed to self-register as reporters "
        "(e.g. nhs.net). Empty: only admins create accounts.",
    )
    smtp_host: str = Field(
        default="",
        description="Mail server for sign-up confirmation links. Empty: no mail, so self sign-up "
        "stays off even when FRONTLINE_ALLOWED_SIGNUP_DOMAINS lists domains.",
    )
    smtp_port: int = Field(default=587, ge=1, le=65535, description="Mail server port.")
    smtp_username: str = Field(default="", description="Mail server user name; empty: no login.")
    smtp_password: SecretStr | None = Field(default=None, description="Mail server password.")
    smtp_from: str = Field(
        default="frontline@localhost", description="The From address of Frontline's emails."
    )
    smtp_starttls: bool = Field(
        default=True,
        description="Upgrade the mail connection with STARTTLS (refused if the server cannot).",
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="The address people reach Frontline at, for links in emails.",
    )
    signup_link_hours: int = Field(
        default=24, ge=1, le=168, description="How long a sign-up confirmation link works."
    )
    session_idle_minutes: int = Field(
        default=720, ge=5, description="A session ends after this long without a request."
    )
    session_max_hours: int = Field(
        default=168, ge=1, description="A session ends this long after sign-in, whatever happens."
    )
    login_max_failures_per_account_client: int = Field(
        default=5, ge=1, description="Failed sign-ins for one account from one client per window."
    )
    login_max_failures_per_client: int = Field(
        default=30, ge=1, description="Failed sign-ins from one client address per window."
    )
    login_max_failures_per_account: int = Field(
        default=20,
        ge=1,
        description="Failed sign-ins for one account from browsers it has not signed in on, "
        "within FRONTLINE_LOGIN_ACCOUNT_WINDOW_HOURS, before each further try waits: 30 seconds, "
        "doubling with every failure, at most the sign-in window. A browser where the account "
        "signed in before (its device cookie) never waits for others' failures.",
    )
    login_account_window_hours: int = Field(
        default=24,
        ge=1,
        description="How long failed sign-ins count towards an account's growing wait.",
    )
    login_window_minutes: int = Field(default=15, ge=1, description="The sign-in throttle window.")
    sync_max_requests_per_minute: int = Field(
        default=120, ge=1, description="Sync and record POSTs per user per minute before 429."
    )
    trusted_proxy_count: int = Field(
        default=0,
        ge=0,
        description="How many reverse proxies sit in front; the client address is then read "
        "from X-Forwarded-For. 0: the socket peer address.",
    )
    forwarded_allow_ips: str = Field(
        default="127.0.0.1,::1",
        description="Comma-separated addresses or networks of the reverse proxies whose "
        "X-Forwarded-For and X-Forwarded-Proto are believed (uvicorn's --forwarded-allow-ips); "
        "a connection from anywhere else is judged by its own address.",
    )
    sqlite_synchronous: str = Field(
        default="FULL",
        description="SQLite PRAGMA synchronous: FULL (default, an acknowledged record survives "
        "power loss) or NORMAL (faster; may lose the last commits on power loss).",
    )

    password_hash_memory_kib: int = Field(
        default=65536,
        ge=8,
        description="argon2id memory per password hash, in KiB (64 MiB, RFC 9106's second "
        "recommendation). Production refuses less than 19456 (OWASP's minimum).",
    )
    password_hash_iterations: int = Field(
        default=3, ge=1, description="argon2id passes over that memory (production: 2 or more)."
    )
    password_hash_parallelism: int = Field(
        default=4, ge=1, le=64, description="argon2id lanes (threads) per hash."
    )

    push_hosts: str = Field(
        default="fcm.googleapis.com,updates.push.services.mozilla.com,*.push.apple.com,"
        "*.notify.windows.com",
        description="Comma-separated push service hosts a subscription's endpoint may name in "
        "production (`*.` allows any subdomain). Outside production any public https host is "
        "allowed, and http to 127.0.0.1 for a test push service.",
    )
    request_body_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        le=600,
        description="A request body must arrive within this many seconds, or the request is "
        "answered 408 and dropped. Nothing shared is held while a body arrives.",
    )

    vapid_private_key: SecretStr | None = Field(
        default=None,
        description="VAPID private key for web push (base64url; `frontline vapid` prints a pair). "
        "Empty: made on first start and kept in FRONTLINE_DATA_DIR/vapid_private.pem (0600).",
    )
    vapid_public_key: str | None = Field(
        default=None, description="Optional; checked against the private key at start."
    )
    vapid_subject: str = Field(
        default="mailto:frontline@localhost",
        description="Contact for push services (mailto: or https://). Set a real one in production: "
        "Apple refuses localhost.",
    )
    push_coalesce_seconds: int = Field(
        default=300,
        ge=0,
        le=3600,
        description="At most one notification per browser in this many seconds: what comes "
        "sooner waits and goes out as one summary with counts. 0: every change at once.",
    )
    push_worker: bool = Field(
        default=True,
        description="Deliver push from a thread in each web process; off: run `frontline worker`.",
    )

    metrics_token: SecretStr | None = Field(
        default=None,
        description="Bearer token a Prometheus scraper must send to read /metrics. With neither "
        "this nor FRONTLINE_METRICS_ALLOWED_ADDRESSES set, /metrics answers 404.",
    )
    metrics_allowed_addresses: str = Field(
        default="",
        description="Comma-separated addresses or networks (127.0.0.1, 10.0.0.0/8) whose "
        "connections may read /metrics; the socket peer, never X-Forwarded-For.",
    )
    oidc_issuer: str = Field(
        default="",
        description="OpenID Connect issuer URL for single sign-on (for NHSmail: the trust's "
        "Microsoft Entra ID tenant, https://login.microsoftonline.com/<tenant>/v2.0). Empty: off.",
    )
    oidc_client_id: str = Field(default="", description="The app's client id at the issuer.")
    oidc_client_secret: SecretStr | None = Field(
        default=None, description="The app's client secret at the issuer. A secret."
    )
    oidc_allowed_domains: str = Field(
        default="nhs.net",
        description="Comma-separated email domains whose users may sign in with single sign-on; "
        "a first sign-in from one of them creates a reporter (no team).",
    )
    password_sign_in: bool = Field(
        default=True,
        description="off: the password form is gone from /login and POST /login is refused; "
        "everyone signs in with single sign-on (needs FRONTLINE_OIDC_ISSUER).",
    )

    @field_validator("metrics_allowed_addresses")
    @classmethod
    def _known_networks(cls, value: str) -> str:
        for part in value.split(","):
            if part.strip():
                try:
                    ipaddress.ip_network(part.strip(), strict=False)
                except ValueError as exc:
                    raise ValueError(f"{part.strip()!r} is not an address or network") from exc
        return value

    @field_validator("sqlite_synchronous")
    @classmethod
    def _known_synchronous(cls, value: str) -> str:
        value = value.upper()
        if value not in {"FULL", "NORMAL", "EXTRA"}:
            raise ValueError("must be FULL, NORMAL or EXTRA")
        return value

    @model_validator(mode="after")
    def _refuse_placeholder_secret_in_production(self) -> Settings:
        if self.environment is Environment.production and (
            self.secret_key == DEFAULT_SECRET or len(self.secret_key) < 32
        ):
            raise ValueError(
                "FRONTLINE_SECRET_KEY must be set to a random value of 32+ characters in "
                f"production (for example: {secrets.token_urlsafe(32)})"
            )
        if self.environment is Environment.production and (
            self.password_hash_memory_kib < 19456 or self.password_hash_iterations < 2
        ):
            raise ValueError(
                "FRONTLINE_PASSWORD_HASH_MEMORY_KIB must be 19456 or more and "
                "FRONTLINE_PASSWORD_HASH_ITERATIONS 2 or more in production (OWASP's minimum for "
                "argon2id); the defaults are 65536 and 3"
            )
        if self.password_hash_memory_kib < 8 * self.password_hash_parallelism:
            raise ValueError(
                "FRONTLINE_PASSWORD_HASH_MEMORY_KIB must be at least 8 KiB per lane "
                "(FRONTLINE_PASSWORD_HASH_PARALLELISM)"
            )
        if not self.password_sign_in and not (self.oidc_issuer and self.oidc_client_id):
            raise ValueError(
                "FRONTLINE_PASSWORD_SIGN_IN=off needs single sign-on configured "
                "(FRONTLINE_OIDC_ISSUER and FRONTLINE_OIDC_CLIENT_ID): nobody could sign in"
            )
        if not self.password_sign_in and self.allowed_signup_domains.strip():
            raise ValueError(
                "FRONTLINE_PASSWORD_SIGN_IN=off with FRONTLINE_ALLOWED_SIGNUP_DOMAINS set would "
                "still let people make password accounts at /signup: leave the sign-up domains "
                "empty (a first NHSmail sign-in creates the account)"
            )
        return self

    @property
    def metrics_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        return [
            ipaddress.ip_network(part.strip(), strict=False)
            for part in self.metrics_allowed_addresses.split(",")
            if part.strip()
        ]

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer and self.oidc_client_id)

    @property
    def oidc_domains(self) -> frozenset[str]:
        return frozenset(
            d.strip().lower().lstrip("@") for d in self.oidc_allowed_domains.split(",") if d.strip()
        )

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.production

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'frontline.db').resolve()}"

    @property
    def signup_enabled(self) -> bool:
        """Self sign-up needs domains to allow and a mail server to confirm addresses with."""
        return bool(self.signup_domains) and bool(self.smtp_host)

    @property
    def signup_domains(self) -> frozenset[str]:
        return frozenset(
            d.strip().lower().lstrip("@")
            for d in self.allowed_signup_domains.split(",")
            if d.strip()
        )

    @property
    def push_host_patterns(self) -> frozenset[str]:
        return frozenset(h.strip().lower() for h in self.push_hosts.split(",") if h.strip())

    @property
    def session_cookie_name(self) -> str:
        # __Host- binds the cookie to this origin: Secure, Path=/ and no Domain (ASVS 3.4.4).
        return "__Host-frontline_session" if self.is_production else "frontline_session"

    @property
    def anon_cookie_name(self) -> str:
        return "__Host-frontline_anon" if self.is_production else "frontline_anon"


@lru_cache
def get_settings() -> Settings:
    return Settings()
