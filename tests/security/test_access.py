"""Who may do what: API token scopes, CSRF on state changes, /metrics credentials, open paths."""
from __future__ import annotations

import base64

from tests.security.conftest import (
    METRICS_PASSWORD,
    METRICS_TOKEN,
    READ_TOKEN,
    WRITE_TOKEN,
    csrf_cookie,
    login,
    make_app,
)

SILENCE = {"matchers": {"target": "self"}, "duration": "1h", "author": "alice", "comment": "maintenance"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_a_read_token_may_get_the_api(client):
    assert client.get("/api/targets", headers=bearer(READ_TOKEN)).status_code == 200


def test_a_read_token_cannot_post(client):
    res = client.post("/api/silences", json=SILENCE, headers=bearer(READ_TOKEN))
    assert res.status_code == 403 and "read scope" in res.json["error"]


def test_a_write_token_may_post_without_a_csrf_token(client):
    res = client.post("/api/silences", json=SILENCE, headers=bearer(WRITE_TOKEN))
    assert res.status_code == 201, res.json


def test_an_unknown_token_is_refused(client):
    res = client.get("/api/targets", headers=bearer("not-a-token-000000000000"))
    assert res.status_code == 401 and res.json["error"] == "invalid API token"


def test_a_token_does_not_open_the_dashboard(client):
    assert client.get("/_dash-layout", headers=bearer(WRITE_TOKEN)).status_code == 401


def test_a_session_post_without_the_csrf_token_is_refused_with_a_clear_json_error(client):
    login(client)
    res = client.post("/api/silences", json=SILENCE)
    assert res.status_code == 403
    assert res.json["reason"] == "csrf" and "X-CSRFToken" in res.json["error"]


def test_a_session_post_with_a_wrong_csrf_token_is_refused(client):
    login(client)
    res = client.post("/api/silences", json=SILENCE, headers={"X-CSRFToken": "guessed"})
    assert res.status_code == 403


def test_a_session_post_with_the_csrf_token_is_accepted(client):
    login(client)
    res = client.post("/api/silences", json=SILENCE, headers={"X-CSRFToken": csrf_cookie(client)})
    assert res.status_code == 201, res.json
    sid = res.json["silence"]["id"]
    res = client.delete(f"/api/silences/{sid}", headers={"X-CSRFToken": csrf_cookie(client)})
    assert res.status_code == 200


def test_a_scenario_switch_needs_the_csrf_token(client):
    login(client)
    assert client.post("/api/demo/scenarios/slow_queries", json={"active": True}).status_code == 403
    res = client.post("/api/demo/scenarios/slow_queries", json={"active": True},
                      headers={"X-CSRFToken": csrf_cookie(client)})
    assert res.status_code == 409  # past the guard: the demo is not running in this app


def _dash_callback_body(client) -> dict:
    deps = client.get("/_dash-dependencies").json
    cb = next(d for d in deps if d["output"].startswith("..page.children"))
    return {"output": cb["output"], "outputs": [{"id": "page", "property": "children"},
                                                {"id": "current-path", "property": "data"}],
            "inputs": [{"id": "url", "property": "pathname", "value": "/"}],
            "state": [{"id": "current-path", "property": "data", "value": None}], "changedPropIds": []}


def test_a_dash_callback_needs_a_session(client):
    res = client.post("/_dash-update-component", json={})
    assert res.status_code == 401


def test_a_dash_callback_without_x_csrftoken_is_refused(client):
    login(client)
    res = client.post("/_dash-update-component", json=_dash_callback_body(client))
    assert res.status_code == 403 and res.json["reason"] == "csrf"


def test_a_dash_callback_with_x_csrftoken_from_the_cookie_runs(client):
    login(client)
    body = _dash_callback_body(client)
    res = client.post("/_dash-update-component", json=body, headers={"X-CSRFToken": csrf_cookie(client)})
    assert res.status_code == 200, res.get_data(as_text=True)[:300]


def test_dash_renderer_sends_the_cookie_we_set_as_x_csrftoken():
    # The double-submit contract rests on Dash's renderer: cookie _csrf_token -> header X-CSRFToken.
    import pathlib

    import dash
    js = (pathlib.Path(dash.__file__).parent / "dash-renderer/build/dash_renderer.min.js").read_text()
    assert "_csrf_token" in js and "X-CSRFToken" in js


def test_metrics_refuses_a_scrape_without_credentials(client):
    res = client.get("/metrics")
    assert res.status_code == 401 and res.headers["WWW-Authenticate"].startswith("Basic")


def test_metrics_accepts_the_bearer_token(client):
    assert client.get("/metrics", headers=bearer(METRICS_TOKEN)).status_code == 200


def test_metrics_accepts_basic_auth(client):
    assert client.get("/metrics", headers=basic("prometheus", METRICS_PASSWORD)).status_code == 200


def test_metrics_refuses_a_wrong_basic_password(client):
    assert client.get("/metrics", headers=basic("prometheus", "nope")).status_code == 401


def test_metrics_accepts_a_read_api_token(client):
    assert client.get("/metrics", headers=bearer(READ_TOKEN)).status_code == 200


def test_health_stays_open_but_tells_anonymous_callers_only_the_verdict(client):
    res = client.get("/api/health")
    assert res.status_code in (200, 503)
    assert set(res.json) == {"status", "time", "checks"}
    assert all(set(c) == {"status"} for c in res.json["checks"].values())
    full = client.get("/api/health", headers=bearer(READ_TOKEN)).json
    assert full["targets"][0]["name"] == "self"


def test_an_ack_link_works_without_a_session(client):
    res = client.get("/ack/not-a-valid-token")
    assert res.status_code == 400 and "Cannot acknowledge" in res.get_data(as_text=True)


def test_without_auth_everything_stays_open(tmp_path):
    app, runtime = make_app(tmp_path, "targets:\n  - {name: self, kind: process, interval: 15s}\n", env={})
    try:
        client = app.test_client()
        assert client.get("/api/targets").status_code == 200
        assert client.get("/metrics").status_code == 200
        assert client.post("/api/silences", json=SILENCE).status_code == 201
    finally:
        runtime.store.close()


def test_without_auth_a_cross_origin_browser_write_is_refused(tmp_path):
    app, runtime = make_app(tmp_path, "targets:\n  - {name: self, kind: process, interval: 15s}\n", env={})
    try:
        client = app.test_client()
        res = client.post("/api/silences", json=SILENCE, headers={"Origin": "https://evil.example"})
        assert res.status_code == 403 and res.json["reason"] == "csrf"
        same = client.post("/api/silences", json=SILENCE, headers={"Origin": "http://localhost"})
        assert same.status_code == 201
    finally:
        runtime.store.close()
