"""Every request passes here first: who is it, and may they do this?

- ``/login``, ``/api/health``, ``/api/openapi.json`` and ``/ack/<token>`` are
  open (an ack link is authenticated by its own signature).
- ``/metrics``: the ``auth.metrics`` credential (Bearer or Basic), a read API
  token, or a session.
- ``/api/*``: a session, or ``Authorization: Bearer <token>`` (read scope for
  GET/HEAD, write scope for anything else).
- everything else (dashboard pages, ``/_dash-*``, static files): a session.

State-changing requests made with a session must carry the session's CSRF
token in ``X-CSRFToken`` (Dash's renderer sends it from the ``_csrf_token``
cookie) or in a ``csrf_token`` form field. Bearer-token requests are exempt:
a browser never adds that header on its own.

Every credential check is rate limited per client (webauth.limits): a wrong
``/metrics`` password or token, a wrong API token and a wrong ``/login``
password count; past the bound the client gets 429 with ``Retry-After`` before
anything is checked. Cheap rejections come first: a wrong ``/metrics`` user
name or an unknown token (a SHA-256 compare) never reaches the scrypt hash, and
``password_checks`` counts the hashes computed. A session is refused once its
id is revoked (``/logout``, webauth.revocations) or its user's password changed.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlsplit

from flask import Flask, Response, g, jsonify, redirect, request, session
from werkzeug.security import check_password_hash
from werkzeug.wrappers import Response as BaseResponse

from webauth.config import AuthConfig, token_hash
from webauth.limits import FailureLimiter
from webauth.revocations import Revocations

CSRF_COOKIE = "_csrf_token"  # the name Dash's renderer reads (dash_renderer getCSRFHeader)
CSRF_HEADER = "X-CSRFToken"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
OPEN_PATHS = frozenset({"/login", "/api/health", "/api/openapi.json", "/favicon.ico"})
OPEN_PREFIXES = ("/ack/",)


def deny(status: int, message: str, **extra: Any) -> Response:
    res = jsonify(error=message, **extra)
    res.status_code = status
    if status == 401:
        res.headers["WWW-Authenticate"] = 'Bearer realm="Lookout"'
    return res


def too_many(retry_after: int, what: str) -> Response:
    res = deny(429, f"too many failed {what} from this address; retry after {retry_after} s",
               retry_after_seconds=retry_after)
    res.headers["Retry-After"] = str(retry_after)
    return res


def client_address() -> str:
    return request.remote_addr or "?"


def password_binding(secret: str, password_hash: str) -> str:
    """Ties a session to the user's current password: changing it logs every session out."""
    return hmac.new(secret.encode(), password_hash.encode(), hashlib.sha256).hexdigest()[:24]


class Guard:
    def __init__(self, auth: AuthConfig, clock: Callable[[], float], secure: bool,
                 limiter: FailureLimiter | None = None, revocations: Revocations | None = None) -> None:
        self.auth = auth
        self.clock = clock
        self.secure = secure
        self.limiter = limiter or FailureLimiter()
        self.revocations = revocations
        self.password_checks = 0  # expensive /metrics hashes computed (the rate limit bounds them)
        self._basic_ok: str | None = None  # digest of the last accepted /metrics basic password

    # -- who -------------------------------------------------------------------
    def session_user(self) -> str | None:
        name, started, binding, sid = session.get("u"), session.get("t"), session.get("v"), session.get("s")
        if not isinstance(name, str) or not isinstance(started, (int, float)) or not isinstance(binding, str):
            return None
        if not isinstance(sid, str) or not sid:
            return None  # a session without an id cannot be revoked: log in again
        user = self.auth.user(name)
        if user is None or self.clock() - started > self.auth.session_lifetime:
            return None
        if not hmac.compare_digest(binding, password_binding(self.auth.session_secret, user.password_hash)):
            return None
        if self.revocations is not None and self.revocations.is_revoked(sid):
            return None
        return name

    def end_session(self) -> None:
        """Revoke the current session everywhere (``/logout``), then clear the cookie's contents."""
        sid, started = session.get("s"), session.get("t")
        if self.revocations is not None and isinstance(sid, str) and sid:
            start = started if isinstance(started, (int, float)) else self.clock()
            self.revocations.revoke(sid, start + self.auth.session_lifetime)
        session.clear()

    def _metrics_check(self) -> BaseResponse | None:
        """None if the request may read /metrics, else the refusal (401, or 429 past the limit)."""
        m = self.auth.metrics
        if m.open:
            return None
        cred = request.authorization
        if cred is None:
            return None if self.session_user() is not None else _metrics_denied()
        client = client_address()
        wait = self.limiter.retry_after("metrics", client)
        if wait is not None:
            return too_many(wait, "/metrics credentials")
        if self._metrics_credential_ok(cred):
            self.limiter.succeeded("metrics", client)
            return None
        self.limiter.failed("metrics", client)
        return _metrics_denied()

    def _metrics_credential_ok(self, cred: Any) -> bool:
        m = self.auth.metrics
        if cred.type == "bearer" and cred.token:
            digest = m.bearer_digest()
            if digest is not None and hmac.compare_digest(digest, _sha(cred.token)):
                return True
            return self.auth.token_for(cred.token) is not None
        if cred.type == "basic" and m.username is not None and m.password_hash is not None:
            # Cheap rejection first: a wrong user name never costs a hash.
            if not hmac.compare_digest((cred.username or "").encode(), m.username.encode()):
                return False
            presented = _sha(f"{cred.username}\0{cred.password or ''}")
            # scrypt costs ~50 ms: check it once, then remember the accepted digest.
            if self._basic_ok is not None and hmac.compare_digest(self._basic_ok, presented):
                return True
            self.password_checks += 1
            if check_password_hash(m.password_hash, cred.password or ""):
                self._basic_ok = presented
                return True
        return False

    # -- the hook ----------------------------------------------------------------
    def before_request(self) -> BaseResponse | None:
        path = request.path
        g.lookout_principal = None
        if path == "/metrics":
            return self._metrics_check()
        cred = request.authorization
        if path.startswith("/api/") and cred is not None and cred.type == "bearer":
            client = client_address()
            wait = self.limiter.retry_after("token", client)
            if wait is not None:
                return too_many(wait, "API tokens")
            token = self.auth.token_for(cred.token or "")
            if token is None:
                self.limiter.failed("token", client)
                return deny(401, "invalid API token")
            self.limiter.succeeded("token", client)
            if request.method not in SAFE_METHODS and token.scope != "write":
                return deny(403, f"token {token.name!r} has read scope; {request.method} needs write scope")
            g.lookout_principal = f"token:{token.name}"
            return None
        user = self.session_user()
        if user is not None:
            g.lookout_principal = f"user:{user}"
        if path in OPEN_PATHS or path.startswith(OPEN_PREFIXES):
            return None  # /login checks its own form token; /ack/ its signature
        if user is None:
            if request.method == "GET" and not path.startswith(("/api/", "/_dash-")):
                return redirect(f"/login?next={quote(request.full_path.rstrip('?'), safe='/?=&')}")
            return deny(401, "log in (session) or send Authorization: Bearer <API token>")
        if request.method not in SAFE_METHODS and not self.csrf_ok(session.get("csrf")):
            return deny(403, "CSRF token missing or wrong: send the X-CSRFToken header (from the _csrf_token "
                             "cookie) or the csrf_token form field", reason="csrf")
        return None

    @staticmethod
    def csrf_ok(expected: Any) -> bool:
        sent = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD) or ""
        return isinstance(expected, str) and bool(expected) and hmac.compare_digest(sent.encode(), expected.encode())

    def after_request(self, response: Response) -> Response:
        expected = session.get("csrf") if (g.get("lookout_principal") or "").startswith("user:") else None
        if expected and request.cookies.get(CSRF_COOKIE) != expected:
            self.set_csrf_cookie(response, expected)
        if request.path == "/api/health" and g.get("lookout_principal") is None:
            _trim_health(response)
        return response

    def set_csrf_cookie(self, response: BaseResponse, value: str) -> None:
        # Not HttpOnly on purpose: Dash's renderer reads it to send X-CSRFToken.
        response.set_cookie(CSRF_COOKIE, value, secure=self.secure, httponly=False,
                            samesite=self.auth.same_site, path="/", max_age=int(self.auth.session_lifetime))


def _metrics_denied() -> Response:
    res = deny(401, "/metrics needs the metrics credential (bearer token or basic auth)")
    res.headers["WWW-Authenticate"] = 'Basic realm="Lookout metrics"'
    return res


def _trim_health(response: Response) -> None:
    """Anonymous callers (load balancers) get the verdict, not target names or errors."""
    body = response.get_json(silent=True)
    if not isinstance(body, dict):
        return
    checks = {k: {"status": v.get("status")} for k, v in (body.get("checks") or {}).items() if isinstance(v, dict)}
    response.set_data(json.dumps({"status": body.get("status"), "time": body.get("time"), "checks": checks}))


def _sha(text: str) -> str:
    return token_hash(text)


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def install_open_mode(app: Flask, public_url: str | None) -> None:
    """Without auth everything is open, but a web page elsewhere must not drive
    the on-call's browser into silencing alerts: refuse cross-origin writes."""
    allowed_public = urlsplit(public_url).netloc if public_url else None

    @app.before_request
    def same_origin_writes() -> Response | None:
        if request.method in SAFE_METHODS:
            return None
        origin = request.headers.get("Origin")
        if origin is None:
            return None  # curl, scripts, Prometheus: no browser, no CSRF
        netloc = urlsplit(origin).netloc
        if netloc and netloc in (request.host, allowed_public):
            return None
        return deny(403, f"cross-origin {request.method} refused (Origin {origin[:100]!r})", reason="csrf")
