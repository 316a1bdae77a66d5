"""A Lookout web app with an ``auth:`` section, and a browser-like login helper."""
from __future__ import annotations

import re

import pytest
from werkzeug.security import generate_password_hash

from app import create_app
from composition.config import parse_config
from composition.runtime import build_runtime
from store import Store
from webauth.config import token_hash

PASSWORD = "correct horse battery staple"
READ_TOKEN = "read-token-0123456789abcdef"
WRITE_TOKEN = "write-token-0123456789abcdef"
METRICS_TOKEN = "metrics-token-0123456789abcdef"
METRICS_PASSWORD = "prometheus-password-42"
SESSION_SECRET = "s" * 40
# Cheap hashes: the tests log in many times; production uses the scrypt default.
PASSWORD_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
METRICS_HASH = generate_password_hash(METRICS_PASSWORD, method="pbkdf2:sha256:1000")

AUTH_CONFIG = """\
auth:
  session_secret: "${LOOKOUT_SESSION_SECRET}"
  session_lifetime: 1h
  cookie_secure: @SECURE@
  users:
    - {name: alice, password_hash: "@PASSWORD_HASH@"}
  tokens:
    - {name: grafana, token_hash: "@READ_HASH@", scope: read}
    - {name: bot, token: "${WRITE_TOKEN}", scope: write}
  metrics:
    bearer_token: "${METRICS_TOKEN}"
    username: prometheus
    password_hash: "@METRICS_HASH@"
targets:
  - {name: self, kind: process, interval: 15s}
""".replace("@PASSWORD_HASH@", PASSWORD_HASH).replace("@READ_HASH@", token_hash(READ_TOKEN)).replace(
    "@METRICS_HASH@", METRICS_HASH)


def auth_config(secure: str = "false") -> str:
    return AUTH_CONFIG.replace("@SECURE@", secure)


ENV = {"LOOKOUT_SESSION_SECRET": SESSION_SECRET, "WRITE_TOKEN": WRITE_TOKEN, "METRICS_TOKEN": METRICS_TOKEN}


def make_app(tmp_path, text: str, env: dict[str, str] | None = None, role: str = "all"):
    cfg = parse_config(text, env=ENV if env is None else env, base_dir=tmp_path)
    runtime = build_runtime(cfg, role=role, store=Store(f"sqlite:///{tmp_path / 'lookout.db'}"))
    app = create_app(cfg, runtime=runtime)
    return app, runtime


@pytest.fixture
def secured(tmp_path):
    app, runtime = make_app(tmp_path, auth_config())
    yield app
    runtime.store.close()


@pytest.fixture
def client(secured):
    return secured.test_client()


def login_form_token(client) -> str:
    page = client.get("/login").get_data(as_text=True)
    return re.search(r"name='csrf_token' value='([^']+)'", page).group(1)


def login(client, username: str = "alice", password: str = PASSWORD, next_: str = "/"):
    token = login_form_token(client)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token,
                                       "next": next_})


def csrf_cookie(client) -> str | None:
    cookie = client.get_cookie("_csrf_token")
    return cookie.value if cookie else None
