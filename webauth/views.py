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

from flask import Flask, Response, current_app, redirect, request, session
from flask.typing import ResponseReturnValue
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


EXTENSION = "lookout_login_failures"  # remote address -> times of its recent wrong passwords


def init_app(app: Flask, guard: Guard) -> None:
    """Serve the forms; ``guard`` is the app's ``extensions["lookout_guard"]``."""
    app.extensions["lookout_guard"] = guard
    app.extensions[EXTENSION] = defaultdict(deque)
    app.add_url_rule("/login", view_func=login_page, methods=["GET"])
    app.add_url_rule("/login", view_func=login, methods=["POST"])
    app.add_url_rule("/logout", view_func=logout_page, methods=["GET"])
    app.add_url_rule("/logout", view_func=logout, methods=["POST"])


def login_page() -> ResponseReturnValue:
    guard = _guard()
    if guard.session_user() is not None:
        return redirect(safe_next(request.args.get("next")))
    return _login_form(guard)


def login() -> ResponseReturnValue:
    guard = _guard()
    addr = request.remote_addr or "?"
    now = time.monotonic()
    recent = _failures()[addr]
    while recent and now - recent[0] > FAILURE_WINDOW:
        recent.popleft()
    if len(recent) >= MAX_FAILURES:
        return _login_form(guard, "Too many failed attempts; wait a few minutes.", 429)
    if not Guard.csrf_ok(request.cookies.get(CSRF_COOKIE)):
        return _login_form(guard, "The form expired; please try again.", 403)
    name = request.form.get("username", "")[:64]
    user = guard.auth.user(name)
    ok = check_password_hash(user.password_hash if user else _DUMMY_HASH, request.form.get("password", ""))
    if user is None or not ok:
        recent.append(now)
        log.warning("failed login for %r from %s", name, addr)
        return _login_form(guard, "Wrong user name or password.", 401)
    recent.clear()
    session.clear()
    session.permanent = True
    session.update(u=user.name, t=guard.clock(), csrf=new_csrf_token(),
                   v=password_binding(guard.auth.session_secret, user.password_hash))
    log.info("user %r logged in from %s", user.name, addr)
    res = redirect(safe_next(request.form.get("next")), 303)
    guard.set_csrf_cookie(res, session["csrf"])
    return res


def logout_page() -> ResponseReturnValue:
    token = html.escape(session.get("csrf") or "")
    return _page("log out", f"<form method='post' action='/logout'><input type='hidden' name='{CSRF_FIELD}' "
                            f"value='{token}'><button type='submit'>Log out</button></form>")


def logout() -> ResponseReturnValue:
    session.clear()
    res = redirect("/login", 303)
    res.delete_cookie(CSRF_COOKIE, path="/")
    return res


def _guard() -> Guard:
    guard: Guard = current_app.extensions["lookout_guard"]
    return guard


def _failures() -> defaultdict[str, deque[float]]:
    failures: defaultdict[str, deque[float]] = current_app.extensions[EXTENSION]
    return failures


def _page(title: str, body: str, status: int = 200) -> Response:
    res = Response(_PAGE.format(title=title, body=body), status=status, content_type="text/html; charset=utf-8")
    res.headers["Cache-Control"] = "no-store"
    res.headers["X-Frame-Options"] = "DENY"
    return res


def _login_form(guard: Guard, error: str = "", status: int = 200) -> Response:
    token = request.cookies.get(CSRF_COOKIE) or new_csrf_token()
    nxt = html.escape(safe_next(request.values.get("next")))
    err = f"<p class='err'>{html.escape(error)}</p>" if error else ""
    body = (f"{err}<form method='post' action='/login'>"
            f"<input type='hidden' name='{CSRF_FIELD}' value='{html.escape(token)}'>"
            f"<input type='hidden' name='next' value='{nxt}'>"
            "<label>User <input name='username' autocomplete='username' required autofocus></label>"
            "<label>Password <input name='password' type='password' autocomplete='current-password' required>"
            "</label><button type='submit'>Log in</button></form>")
    res = _page("log in", body, status)
    guard.set_csrf_cookie(res, token)
    return res
