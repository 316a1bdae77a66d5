"""``/login`` and ``/logout``: plain server-rendered forms, no JavaScript, no Dash.

The login form is protected against login CSRF by a double-submit token (a
``_csrf_token`` cookie and the same value in a hidden field); after login the
session carries its own CSRF token, sent back as the ``_csrf_token`` cookie,
and a random session id that ``/logout`` revokes on the server
(webauth.revocations): a copy of the cookie is dead after logout too. Wrong
passwords count in the guard's limiter (webauth.limits), as every credential does.
"""
from __future__ import annotations

import html
import logging
import secrets

from flask import Flask, Response, current_app, redirect, request, session
from flask.typing import ResponseReturnValue
from werkzeug.security import check_password_hash, generate_password_hash

from webauth.guard import (
    CSRF_COOKIE,
    CSRF_FIELD,
    Guard,
    client_address,
    new_csrf_token,
    password_binding,
)

log = logging.getLogger("lookout.auth")

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
    """Serve the forms; ``guard`` is the app's ``extensions["lookout_guard"]``."""
    app.extensions["lookout_guard"] = guard
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
    addr = client_address()
    wait = guard.limiter.retry_after("login", addr)
    if wait is not None:
        refused = _login_form(guard, f"Too many failed attempts; try again in {wait} s.", 429)
        refused.headers["Retry-After"] = str(wait)
        return refused
    if not Guard.csrf_ok(request.cookies.get(CSRF_COOKIE)):
        return _login_form(guard, "The form expired; please try again.", 403)
    name = request.form.get("username", "")[:64]
    user = guard.auth.user(name)
    ok = check_password_hash(user.password_hash if user else _DUMMY_HASH, request.form.get("password", ""))
    if user is None or not ok:
        guard.limiter.failed("login", addr)
        log.warning("failed login for %r from %s", name, addr)
        return _login_form(guard, "Wrong user name or password.", 401)
    guard.limiter.succeeded("login", addr)
    session.clear()
    session.permanent = True
    session.update(u=user.name, t=guard.clock(), csrf=new_csrf_token(), s=secrets.token_urlsafe(18),
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
    _guard().end_session()  # revoked on the server: a copy of the cookie stops working too
    res = redirect("/login", 303)
    res.delete_cookie(CSRF_COOKIE, path="/")
    return res


def _guard() -> Guard:
    guard: Guard = current_app.extensions["lookout_guard"]
    return guard


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
