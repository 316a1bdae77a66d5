"""Authentication, CSRF protection and the security-facing JSON views.

``init_app(app, runtime)`` is the one call: with an ``auth:`` section it
installs the session cookie settings, ``/login``/``/logout``, the
:class:`~webauth.guard.Guard` hook, its failure limiter (webauth.limits) and the
revoked-sessions table in the store's database (webauth.revocations); without
one everything stays open (bound
to loopback by default, see :mod:`webauth.bind`), with cross-origin writes
refused. Either way it serves ``/api/openapi.json`` and ``/api/config``.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from flask import Flask

from webauth import configview, openapi, views
from webauth.config import AuthConfig
from webauth.context import WebauthRuntime
from webauth.guard import Guard, install_open_mode
from webauth.revocations import Revocations

log = logging.getLogger("lookout.auth")
SESSION_COOKIE = "lookout_session"


def cookies_secure(auth: AuthConfig, public_url: str | None) -> bool:
    if auth.cookie_secure == "auto":
        return bool(public_url and public_url.lower().startswith("https://"))
    return bool(auth.cookie_secure)


def init_app(app: Flask, runtime: WebauthRuntime) -> None:
    config = runtime.config
    auth = config.auth
    if auth is None:
        install_open_mode(app, config.server.public_url)
    else:
        secure = cookies_secure(auth, config.server.public_url)
        app.secret_key = auth.session_secret
        app.config.update(
            SESSION_COOKIE_NAME=SESSION_COOKIE, SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SECURE=secure,
            SESSION_COOKIE_SAMESITE=auth.same_site,
            PERMANENT_SESSION_LIFETIME=timedelta(seconds=auth.session_lifetime),
        )
        for t in [*auth.tokens, auth.metrics]:
            token = getattr(t, "token", None) or getattr(t, "bearer_token", None)
            if token and token not in config.secret_values:
                # Not refused (the config is valid), but it is in a file that gets copied around.
                log.warning("auth: a token is written literally in the config; use ${ENV} or a token_hash")
        store = runtime.store
        # The store's write transactions where it has them (one writer at a time on SQLite).
        writer = getattr(store, "_writer", None)
        revocations = Revocations(store.engine, clock=runtime.clock,
                                  begin=writer.begin if writer is not None else None)
        revocations.migrate()
        guard = Guard(auth, runtime.clock, secure, revocations=revocations)
        # First in line: nothing else runs for a request the guard refuses.
        app.before_request_funcs.setdefault(None, []).insert(0, guard.before_request)
        app.after_request(guard.after_request)
        views.init_app(app, guard)  # keeps it as app.extensions["lookout_guard"]
    openapi.init_app(app)
    configview.init_app(app, runtime)
