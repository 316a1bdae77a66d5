"""``/login`` and ``/logout``: plain server-rendered forms, no JavaScript, no Dash.

The login form is protected against login CSRF by a double-submit token (a
``_csrf_token`` cookie and the same value in a hidden field); after login the
session carries its own CSRF token, sent back as the ``_csrf_token`` cookie.
"""
from __future__ import annotations

import html
import logging
import time
from collections import defaultdict, deque

from flask import Flask, Response, redirect, request, session
from werkzeug.security import check_password_hash, generate_password_hash

from webauth.guard import (
    CSRF_COOKIE,
    CSRF_FIELD,
    Guard,
    new_csrf_token,
    password_binding,
)

log = logging.getLogger("lookout.auth")

# Too many wrong passwords from one address: wait (scrypt already costs ~50 ms a try).
MAX_FAILURES = 10
FAILURE_WINDOW = 300.0
# Checked when the user does not exist, so a wrong name costs as much as a wrong password.
_DUMMY_HASH = generate_password_hash("not a password")

_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Lookout: {title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:22em;margin:4em auto;padding:0 1em}}
label{{display:block;margin:.8em 0}}input{{width:100%;padding:.4em;box-sizing:border-box}}
button{{padding:.5em 1.2em;margin-top:.6em}}.err{{color:#b00020}}</style></head>
<body><h1>Lookout</h1>{body}</body></html>"""


def safe_next(target: str | None) -> str:
    """Only a path on this site: never ``//evil.example`` or ``https://...``."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def init_app(app: Flask, guard: Guard) -> None:
    failures: dict[str, deque[float]] = defaultdict(deque)

    def page(title: str, body: str, status: int = 200) -> Response:
        res = Response(_PAGE.format(title=title, body=body), status=status, content_type="text/html; charset=utf-8")
        res.headers["Cache-Control"] = "no-store"
        res.headers["X-Frame-Options"] = "DENY"
        return res

    def login_form(error: str = "", status: int = 200) -> Response:
        token = request.cookies.get(CSRF_COOKIE) or new_csrf_token()
        nxt = html.escape(safe_next(request.values.get("next")))
        err = f"<p class='err'>{html.escape(error)}</p>" if error else ""
        body = (f"{err}<form method='post' action='/login'>"
                f"<input type='hidden' name='{CSRF_FIELD}' value='{html.escape(token)}'>"
                f"<input type='hidden' name='next' value='{nxt}'>"
                "<label>User <input name='username' autocomplete='username' required autofocus></label>"
                "<label>Password <input name='password' type='password' autocomplete='current-password' required>"
                "</label><button type='submit'>Log in</button></form>")
        res = page("log in", body, status)
        guard.set_csrf_cookie(res, token)
        return res

    @app.get("/login")
    def login_page():  # type: ignore[no-untyped-def]
        if guard.session_user() is not None:
            return redirect(safe_next(request.args.get("next")))
        return login_form()

    @app.post("/login")
    def login():  # type: ignore[no-untyped-def]
        addr = request.remote_addr or "?"
        now = time.monotonic()
        recent = failures[addr]
        while recent and now - recent[0] > FAILURE_WINDOW:
            recent.popleft()
        if len(recent) >= MAX_FAILURES:
            return login_form("Too many failed attempts; wait a few minutes.", 429)
        if not Guard.csrf_ok(request.cookies.get(CSRF_COOKIE)):
            return login_form("The form expired; please try again.", 403)
        name = request.form.get("username", "")[:64]
        user = guard.auth.user(name)
        ok = check_password_hash(user.password_hash if user else _DUMMY_HASH, request.form.get("password", ""))
        if user is None or not ok:
            recent.append(now)
            log.warning("failed login for %r from %s", name, addr)
            return login_form("Wrong user name or password.", 401)
        recent.clear()
        session.clear()
        session.permanent = True
        session.update(u=user.name, t=guard.clock(), csrf=new_csrf_token(),
                       v=password_binding(guard.auth.session_secret, user.password_hash))
        log.info("user %r logged in from %s", user.name, addr)
        res = redirect(safe_next(request.form.get("next")), 303)
        guard.set_csrf_cookie(res, session["csrf"])
        return res

    @app.get("/logout")
    def logout_page():  # type: ignore[no-untyped-def]
        token = html.escape(session.get("csrf") or "")
        return page("log out", f"<form method='post' action='/logout'><input type='hidden' name='{CSRF_FIELD}' "
                               f"value='{token}'><button type='submit'>Log out</button></form>")

    @app.post("/logout")
    def logout():  # type: ignore[no-untyped-def]
        session.clear()
        res = redirect("/login", 303)
        res.delete_cookie(CSRF_COOKIE, path="/")
        return res
