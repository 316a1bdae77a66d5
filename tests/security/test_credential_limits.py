"""Every credential check is rate limited per client, and cheap rejections never reach the hash.

The /metrics password here is a real scrypt hash (werkzeug's default, what
``python app.py hash-password`` makes), so the count of hashes computed is what
an attacker could make the CPU pay.
"""
from __future__ import annotations

import base64
import time

import pytest
from werkzeug.security import generate_password_hash

from tests.security.conftest import (
    ENV,
    METRICS_HASH,
    METRICS_PASSWORD,
    PASSWORD,
    READ_TOKEN,
    auth_config,
    login,
    make_app,
)
from webauth.limits import MAX_FAILURES

SCRYPT_HASH = generate_password_hash(METRICS_PASSWORD)  # scrypt:32768:8:1, ~50 ms a check


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture
def app(tmp_path):
    assert SCRYPT_HASH.startswith("scrypt:")
    text = auth_config().replace(METRICS_HASH, SCRYPT_HASH)
    assert SCRYPT_HASH in text
    flask_app, runtime = make_app(tmp_path, text, env=ENV)
    yield flask_app
    runtime.store.close()


def guard(app):
    return app.extensions["lookout_guard"]


def test_forty_wrong_metrics_passwords_hit_429_and_cost_at_most_ten_hashes(app):
    client = app.test_client()
    started = time.monotonic()
    codes = [client.get("/metrics", headers=basic("prometheus", f"guess-{i}")).status_code for i in range(40)]
    elapsed = time.monotonic() - started
    assert codes[:MAX_FAILURES] == [401] * MAX_FAILURES
    assert codes[MAX_FAILURES:] == [429] * (40 - MAX_FAILURES)
    assert guard(app).password_checks == MAX_FAILURES
    assert elapsed < 0.15 * MAX_FAILURES + 2  # the 30 refused ones computed nothing


def test_a_refused_client_is_told_when_to_come_back(app):
    client = app.test_client()
    for i in range(MAX_FAILURES):
        client.get("/metrics", headers=basic("prometheus", f"guess-{i}"))
    res = client.get("/metrics", headers=basic("prometheus", "one more"))
    assert res.status_code == 429
    assert 1 <= int(res.headers["Retry-After"]) <= 300
    assert res.json["retry_after_seconds"] == int(res.headers["Retry-After"])


def test_while_refused_even_the_right_password_is_not_checked(app):
    client = app.test_client()
    for i in range(MAX_FAILURES):
        client.get("/metrics", headers=basic("prometheus", f"guess-{i}"))
    checks = guard(app).password_checks
    assert client.get("/metrics", headers=basic("prometheus", METRICS_PASSWORD)).status_code == 429
    assert guard(app).password_checks == checks  # a right guess must not show as a 200 either


def test_a_wrong_user_name_is_rejected_without_hashing(app):
    client = app.test_client()
    codes = [client.get("/metrics", headers=basic(f"admin{i}", METRICS_PASSWORD)).status_code for i in range(15)]
    assert guard(app).password_checks == 0
    assert codes.count(401) == MAX_FAILURES and codes.count(429) == 15 - MAX_FAILURES


def test_the_right_password_is_hashed_once_and_then_remembered(app):
    client = app.test_client()
    for _ in range(5):
        assert client.get("/metrics", headers=basic("prometheus", METRICS_PASSWORD)).status_code == 200
    assert guard(app).password_checks == 1


def test_another_address_is_not_refused_for_someone_elses_failures(app):
    attacker = app.test_client()
    for i in range(MAX_FAILURES + 1):
        attacker.get("/metrics", headers=basic("prometheus", f"guess-{i}"),
                     environ_base={"REMOTE_ADDR": "203.0.113.9"})
    prometheus = app.test_client()
    res = prometheus.get("/metrics", headers=basic("prometheus", METRICS_PASSWORD),
                         environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert res.status_code == 200


def test_wrong_metrics_bearer_tokens_are_limited_too(app):
    client = app.test_client()
    codes = [client.get("/metrics", headers={"Authorization": f"Bearer wrong-token-{i:020d}"}).status_code
             for i in range(MAX_FAILURES + 3)]
    assert codes == [401] * MAX_FAILURES + [429] * 3
    assert guard(app).password_checks == 0  # a token is a SHA-256 compare, never scrypt


def test_wrong_api_tokens_get_429_and_then_even_the_right_one_waits(app):
    client = app.test_client()
    codes = [client.get("/api/targets", headers={"Authorization": f"Bearer nope-{i:020d}"}).status_code
             for i in range(MAX_FAILURES + 2)]
    assert codes == [401] * MAX_FAILURES + [429] * 2
    res = client.get("/api/targets", headers={"Authorization": f"Bearer {READ_TOKEN}"})
    assert res.status_code == 429 and int(res.headers["Retry-After"]) > 0


def test_metrics_failures_do_not_lock_the_same_address_out_of_login(app):
    client = app.test_client()
    for i in range(MAX_FAILURES + 1):
        client.get("/metrics", headers=basic("prometheus", f"guess-{i}"))
    assert login(client).status_code == 303


def test_the_eleventh_wrong_login_is_refused_with_retry_after(app):
    client = app.test_client()
    codes = [login(client, password=f"wrong {i}").status_code for i in range(MAX_FAILURES + 1)]
    assert codes == [401] * MAX_FAILURES + [429]
    res = login(client, password=PASSWORD)
    assert res.status_code == 429 and int(res.headers["Retry-After"]) > 0
    assert "try again in" in res.get_data(as_text=True)
