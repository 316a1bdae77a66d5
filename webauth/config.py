"""The ``auth:`` section of config.yaml. Absent: Lookout is open (loopback only by default).

    auth:
      session_secret: "${LOOKOUT_SESSION_SECRET}"   # >= 32 chars, signs session cookies
      session_lifetime: 12h
      cookie_secure: auto        # auto: Secure when server.public_url is https
      same_site: Lax             # Lax or Strict
      users:
        - {name: alice, password_hash: "scrypt:32768:8:1$..."}   # python app.py hash-password
        - {name: bob, password_hash: "${BOB_PASSWORD_HASH}"}
      tokens:                    # Authorization: Bearer <token> on /api/*
        - {name: grafana, token_hash: "sha256:9f86d0...", scope: read}   # python app.py hash-token
        - {name: deploy-bot, token: "${DEPLOY_TOKEN}", scope: write}
      metrics:                   # /metrics credential for Prometheus (bearer or basic)
        bearer_token: "${METRICS_TOKEN}"
        username: prometheus
        password_hash: "scrypt:..."

Only hashes or ``${ENV}`` references belong in the file: a token or password
written literally is refused at load.
"""
from __future__ import annotations

import hashlib
import hmac
from typing import Literal

from pydantic import Field, field_validator, model_validator

from core.configmodel import ConfigModel
from core.durations import Duration

Scope = Literal["read", "write"]
_HASH_PREFIX = "sha256:"


def token_hash(token: str) -> str:
    """How API tokens are stored: tokens are long random strings, so one SHA-256 is enough."""
    return _HASH_PREFIX + hashlib.sha256(token.encode()).hexdigest()


def _check_token_hash(v: str | None) -> str | None:
    if v is None:
        return v
    hexpart = v.removeprefix(_HASH_PREFIX)
    if not v.startswith(_HASH_PREFIX) or len(hexpart) != 64 or any(c not in "0123456789abcdef" for c in hexpart):
        raise ValueError("token_hash must be sha256:<64 hex digits> (make one with `python app.py hash-token`)")
    return v


def _check_password_hash(v: str | None) -> str | None:
    # werkzeug hashes are "method$salt$hash"; a bare password would be a leak.
    if v is not None and v.count("$") < 2:
        raise ValueError("password_hash must be a werkzeug hash (make one with `python app.py hash-password`), "
                         "not a password")
    return v


class User(ConfigModel):
    name: str = Field(pattern=r"^[A-Za-z0-9_.@-]{1,64}$", description="Login name.")
    password_hash: str = Field(description="werkzeug hash from `python app.py hash-password` (or `${ENV}`).")

    @field_validator("password_hash")
    @classmethod
    def _hashed(cls, v: str) -> str:
        return _check_password_hash(v)  # type: ignore[return-value]


class ApiToken(ConfigModel):
    name: str = Field(pattern=r"^[A-Za-z0-9_.@-]{1,64}$", description="Who uses it (shown in logs).")
    token_hash: str | None = Field(None, description="sha256:<hex> from `python app.py hash-token`.")
    token: str | None = Field(None, description='The token itself, only as "${ENV}".')
    scope: Scope = Field("read", description="read: GET only; write: also POST/DELETE.")

    @field_validator("token_hash")
    @classmethod
    def _hashed(cls, v: str | None) -> str | None:
        return _check_token_hash(v)

    @model_validator(mode="after")
    def _one_form(self) -> ApiToken:
        if (self.token_hash is None) == (self.token is None):
            raise ValueError(f"token {self.name!r}: give exactly one of token_hash or token")
        if self.token is not None and len(self.token) < 16:
            raise ValueError(f"token {self.name!r}: a token must be at least 16 characters")
        return self

    def digest(self) -> str:
        return self.token_hash or token_hash(self.token or "")


class MetricsAuth(ConfigModel):
    bearer_token: str | None = Field(None, description='Bearer token as "${ENV}".')
    bearer_token_hash: str | None = Field(None, description="sha256:<hex> of the bearer token.")
    username: str | None = Field(None, description="Basic auth user name.")
    password_hash: str | None = Field(None, description="werkzeug hash of the basic auth password.")
    open: bool = Field(False, description="Serve /metrics without a credential (e.g. behind a private network).")

    @field_validator("bearer_token_hash")
    @classmethod
    def _token_hashed(cls, v: str | None) -> str | None:
        return _check_token_hash(v)

    @field_validator("password_hash")
    @classmethod
    def _password_hashed(cls, v: str | None) -> str | None:
        return _check_password_hash(v)

    @model_validator(mode="after")
    def _complete(self) -> MetricsAuth:
        if (self.username is None) != (self.password_hash is None):
            raise ValueError("metrics: basic auth needs both username and password_hash")
        if self.bearer_token is not None and self.bearer_token_hash is not None:
            raise ValueError("metrics: give bearer_token or bearer_token_hash, not both")
        return self

    def bearer_digest(self) -> str | None:
        if self.bearer_token:
            return token_hash(self.bearer_token)
        return self.bearer_token_hash


class AuthConfig(ConfigModel):
    session_secret: str = Field(description='Signs session cookies; as "${LOOKOUT_SESSION_SECRET}", 32+ chars.')
    session_lifetime: Duration = Field(12 * 3600.0, description="A login lasts this long (absolute).")
    cookie_secure: bool | Literal["auto"] = Field(
        "auto", description="Secure cookies; auto = when server.public_url is https. false only for plain-http "
        "loopback.")
    same_site: Literal["Lax", "Strict"] = Field("Lax", description="SameSite of the session and CSRF cookies.")
    users: list[User] = Field(default_factory=list, description="People who log in at /login.")
    tokens: list[ApiToken] = Field(default_factory=list, description="API tokens for scripts (Bearer on /api/*).")
    metrics: MetricsAuth = Field(default_factory=MetricsAuth,
                                 description="Default: /metrics takes the metrics credential or a read API token.")

    @field_validator("session_secret")
    @classmethod
    def _long_enough(cls, v: str) -> str:
        if len(v) < 32:
            raise ValueError("session_secret must be at least 32 characters (e.g. `openssl rand -hex 32`)")
        return v

    @model_validator(mode="after")
    def _unique(self) -> AuthConfig:
        for kind, names in (("user", [u.name for u in self.users]), ("token", [t.name for t in self.tokens])):
            dup = {n for n in names if names.count(n) > 1}
            if dup:
                raise ValueError(f"duplicate {kind} name {min(dup)!r}")
        return self

    def user(self, name: str) -> User | None:
        return next((u for u in self.users if u.name == name), None)

    def token_for(self, presented: str) -> ApiToken | None:
        digest = token_hash(presented)
        found = None
        for t in self.tokens:  # compare with every one: no early exit to time
            if hmac.compare_digest(t.digest(), digest):
                found = t
        return found
