"""``GET /report``: the claims report over HTTP, behind the dashboard's login."""
from __future__ import annotations

import threading

import pytest
import requests
from werkzeug.serving import make_server

from app import create_app
from composition.config import parse_config
from composition.runtime import build_runtime
from store import Store
from tests.report.seed import OFF, recent

CONFIG = "targets:\n  - {name: self, kind: process, interval: 15s}\npromises:\n  objectives:\n" + "".join(
    f"    - {{id: {i}, enabled: false}}\n" for i in OFF)


@pytest.fixture(scope="module")
def lookout(tmp_path_factory):
    """A web-role Lookout on the seeded store, served over real HTTP on a free port."""
    cfg = parse_config(CONFIG, env={}, base_dir=tmp_path_factory.mktemp("report-web"))
    runtime = build_runtime(cfg, role="web", store=Store(recent()))
    server = make_server("127.0.0.1", 0, create_app(cfg, runtime=runtime), threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)
    runtime.store.close()


def test_the_report_is_served_as_one_html_page(lookout):
    res = requests.get(f"{lookout}/report", params={"since": "3h"}, timeout=60)
    assert res.status_code == 200 and res.headers["Content-Type"].startswith("text/html")
    assert "<h1>Claims report: last 3h</h1>" in res.text and res.text.count("Plotly.newPlot(") == 2


def test_format_md_serves_the_markdown(lookout):
    res = requests.get(f"{lookout}/report", params={"since": "3h", "format": "md"}, timeout=60)
    assert res.status_code == 200 and res.headers["Content-Type"].startswith("text/markdown")
    assert "| Payment success | 98.0 % |" in res.text


def test_a_since_that_is_not_a_duration_is_a_400_naming_it(lookout):
    res = requests.get(f"{lookout}/report", params={"since": "lots"}, timeout=10)
    assert res.status_code == 400 and res.text == "since: 'lots' is not a duration (use 15s, 5m, 1h)\n"


def test_an_unknown_format_is_a_400_naming_it(lookout):
    res = requests.get(f"{lookout}/report", params={"format": "pdf"}, timeout=10)
    assert res.status_code == 400 and res.text.startswith("format: 'pdf' is not one of html, md")


def test_with_auth_configured_the_report_needs_a_session(tmp_path):
    from tests.security.conftest import READ_TOKEN, auth_config, login, make_app

    app, runtime = make_app(tmp_path, auth_config())
    try:
        client = app.test_client()
        res = client.get("/report?since=1d")
        assert res.status_code == 302 and res.headers["Location"].startswith("/login?next=/report")
        # An API token opens /api, not the pages.
        assert client.get("/report", headers={"Authorization": f"Bearer {READ_TOKEN}"}).status_code == 302
        login(client)
        assert client.get("/report?since=1d").status_code == 200
    finally:
        runtime.store.close()
