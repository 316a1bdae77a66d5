"""Logout ends the session on the server: a cookie copied before it is refused after it, on
every web replica of the same store, and a password change ends every session of the user."""
from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import create_engine, text
from werkzeug.security import generate_password_hash

from app import create_app
from composition.config import parse_config
from composition.runtime import build_runtime
from store import Store
from tests.security.conftest import ENV, PASSWORD, PASSWORD_HASH, auth_config, csrf_cookie, login
from webauth.revocations import REFRESH_SECONDS

COOKIE = "lookout_session"


@pytest.fixture
def replicas(migrated_store_url, tmp_path) -> Iterator[Callable[..., object]]:
    """Factory: a web replica (its own app and store connection) on one shared store database."""
    runtimes = []

    def make(password_hash: str = PASSWORD_HASH):
        cfg = parse_config(auth_config().replace(PASSWORD_HASH, password_hash), env=ENV, base_dir=tmp_path)
        runtime = build_runtime(cfg, role="web", store=Store(migrated_store_url))
        runtimes.append(runtime)
        return create_app(cfg, runtime=runtime)

    yield make
    for rt in runtimes:
        rt.store.close()


def copied_cookie(client) -> str:
    return client.get_cookie(COOKIE).value


def replay(app, cookie: str):
    thief = app.test_client()
    thief.set_cookie(COOKIE, cookie)
    return thief


def log_out(client):
    return client.post("/logout", data={"csrf_token": csrf_cookie(client)})


def test_a_cookie_copied_before_logout_is_refused_after_it(replicas):
    app = replicas()
    client = app.test_client()
    assert login(client).status_code == 303
    cookie = copied_cookie(client)
    assert replay(app, cookie).get("/api/targets").status_code == 200
    assert log_out(client).status_code == 303
    thief = replay(app, cookie)
    assert thief.get("/api/targets").status_code == 401
    res = thief.get("/")
    assert res.status_code == 302 and res.headers["Location"].startswith("/login")


def test_the_logout_holds_on_another_replica_of_the_same_store(replicas):
    a, b = replicas(), replicas()
    client = a.test_client()
    login(client)
    cookie = copied_cookie(client)
    assert replay(b, cookie).get("/api/targets").status_code == 200  # the cookie is good on every replica
    log_out(client)
    deadline = time.monotonic() + REFRESH_SECONDS + 3
    codes = []
    while time.monotonic() < deadline:
        codes.append(replay(b, cookie).get("/api/targets").status_code)
        if codes[-1] == 401:
            break
        time.sleep(0.1)
    assert codes[-1] == 401, codes


def test_a_replica_started_after_the_logout_refuses_the_cookie_at_once(replicas):
    a = replicas()
    client = a.test_client()
    login(client)
    cookie = copied_cookie(client)
    log_out(client)
    late = replicas()
    assert replay(late, cookie).get("/api/targets").status_code == 401


def test_logging_out_one_browser_leaves_the_users_other_sessions_alone(replicas):
    app = replicas()
    laptop, phone = app.test_client(), app.test_client()
    login(laptop)
    login(phone)
    log_out(laptop)
    assert laptop.get("/api/targets").status_code == 401
    assert phone.get("/api/targets").status_code == 200


def test_a_password_change_ends_every_session_of_the_user(replicas):
    before = replicas()
    client = before.test_client()
    login(client)
    cookie = copied_cookie(client)
    after = replicas(password_hash=generate_password_hash("a new password", method="pbkdf2:sha256:1000"))
    assert replay(after, cookie).get("/api/targets").status_code == 401
    assert login(after.test_client(), password=PASSWORD).status_code == 401


def test_the_store_keeps_a_hash_of_the_revoked_session_id_not_the_id(replicas, migrated_store_url):
    app = replicas()
    client = app.test_client()
    login(client)
    serializer = app.session_interface.get_signing_serializer(app)
    sid = serializer.loads(copied_cookie(client))["s"]
    log_out(client)
    engine = create_engine(migrated_store_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT sid_hash FROM webauth_revoked_sessions")).scalars().all()
    finally:
        engine.dispose()
    assert rows == [hashlib.sha256(sid.encode()).hexdigest()]
