"""POST /api/reload and `python app.py reload` with auth: a write token, nothing less."""
from __future__ import annotations

import argparse
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from werkzeug.serving import make_server

from composition import reload_cli
from composition.config import load_config
from composition.runtime import Runtime, build_runtime
from composition.webapp import make_flask_app
from tests.reload.support import CountingApp, http_target, write_config
from webauth.config import token_hash

READ, WRITE = "r" * 24, "w" * 24
AUTH = f"""auth:
  session_secret: "{'s' * 40}"
  cookie_secure: false
  tokens:
    - {{name: grafana, token_hash: "{token_hash(READ)}", scope: read}}
    - {{name: deploy, token_hash: "{token_hash(WRITE)}", scope: write}}
"""


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Runtime, Path, str, int]]:
    app = CountingApp()
    path = write_config(tmp_path / "config.yaml", f"sqlite:///{tmp_path / 'store.db'}",
                        [http_target("api", app, interval="1h")], extra=AUTH)
    runtime = build_runtime(load_config(path), config_path=path)
    server = make_server("127.0.0.1", 0, make_flask_app(runtime), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield runtime, path, f"http://127.0.0.1:{server.server_port}/api/reload", server.server_port
    finally:
        server.shutdown()
        thread.join(5)
        runtime.stop()
        app.stop()


def post(url: str, token: str | None = None) -> requests.Response:
    return requests.post(url, headers={"Authorization": f"Bearer {token}"} if token else {}, timeout=30)


def test_the_reload_api_needs_a_write_token_when_auth_is_configured(served):
    runtime, _, url, _ = served
    config = runtime.config

    assert post(url).status_code == 401
    assert post(url, "x" * 24).status_code == 401
    refused = post(url, READ)
    assert refused.status_code == 403 and "write scope" in refused.json()["error"]
    assert runtime.config is config  # nothing reloaded

    ok = post(url, WRITE)
    assert ok.status_code == 200 and ok.json()["status"] == "applied"


def test_the_cli_sends_the_token_from_lookout_token(served, monkeypatch, capsys):
    runtime, path, _, port = served
    args = argparse.Namespace(host="127.0.0.1", port=port)
    monkeypatch.delenv(reload_cli.TOKEN_ENV, raising=False)

    assert reload_cli.run(runtime.config, args) == 1
    assert "set LOOKOUT_TOKEN to an API token of write scope" in capsys.readouterr().err

    monkeypatch.setenv(reload_cli.TOKEN_ENV, READ)
    assert reload_cli.run(runtime.config, args) == 1
    assert "write scope" in capsys.readouterr().err

    monkeypatch.setenv(reload_cli.TOKEN_ENV, WRITE)
    path.write_text(path.read_text().replace("interval: 1h", "interval: 2h"))
    assert reload_cli.run(runtime.config, args) == 0
    assert "targets changed: api" in capsys.readouterr().out
