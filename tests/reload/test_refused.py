"""A file with mistakes is refused with every one of them, and the running config stays."""
from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from composition.config import load_config
from composition.runtime import Runtime, build_runtime
from composition.webapp import make_flask_app
from core.errors import ConfigError
from tests.reload.support import CountingApp, http_target, wait_for, write_config

BAD_TARGETS = ["  - {name: api, kind: http, interval: 5 minutes, url: 'http://127.0.0.1:1/'}\n",
               "  - {name: api2, kind: http, intervall: 1s, url: 'http://127.0.0.1:1/'}\n"]


@pytest.fixture
def app() -> Iterator[CountingApp]:
    a = CountingApp()
    yield a
    a.stop()


@pytest.fixture
def running(tmp_path: Path, app: CountingApp) -> Iterator[tuple[Runtime, Path]]:
    path = write_config(tmp_path / "config.yaml", f"sqlite:///{tmp_path / 'store.db'}", [http_target("api", app)])
    runtime = build_runtime(load_config(path), config_path=path)
    runtime.start()
    yield runtime, path
    runtime.stop()


def check_config_problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return info.value.problems


def test_a_bad_file_is_refused_with_the_problems_check_config_reports(running, caplog):
    runtime, path = running
    config = runtime.config
    write_config(path, f"sqlite:///{path.parent / 'store.db'}", BAD_TARGETS)
    problems = check_config_problems(path)
    assert len(problems) == 2

    with caplog.at_level(logging.ERROR, logger="lookout.reload"):
        result = runtime.reloader.reload()

    assert not result.applied
    assert result.errors == problems
    assert f"{path}:3 targets[0].interval: '5 minutes' is not a duration" in result.errors[0]
    assert "unknown key 'intervall'" in result.errors[1]
    logged = [r.getMessage() for r in caplog.records]
    assert any("refused, the running config stays" in m for m in logged)
    assert all(any(p in m for m in logged) for p in problems)
    assert runtime.config is config


def test_the_running_targets_go_on_after_a_refused_reload(running, app):
    runtime, path = running
    wait_for(lambda: app.hits >= 1, "the target collected once")
    assert runtime.scheduler is not None
    collectors = runtime.scheduler.collectors
    write_config(path, f"sqlite:///{path.parent / 'store.db'}", BAD_TARGETS)

    assert not runtime.reloader.reload().applied

    assert runtime.scheduler.collectors is collectors
    hits = app.hits
    wait_for(lambda: app.hits >= hits + 2, "two more collections under the running config")
    assert 'lookout_target_up{target="api",kind="http"} 1' in runtime.snapshot.body().decode()


def test_the_api_answers_422_with_the_problems(running):
    runtime, path = running
    write_config(path, f"sqlite:///{path.parent / 'store.db'}", BAD_TARGETS)

    res = make_flask_app(runtime).test_client().post("/api/reload")

    assert res.status_code == 422
    body = res.get_json()
    assert body["status"] == "refused"
    assert body["errors"] == check_config_problems(path)
    assert "the running config stays" in body["error"]


def test_a_process_without_its_config_file_refuses_to_reload(tmp_path, app):
    path = write_config(tmp_path / "c.yaml", f"sqlite:///{tmp_path / 's.db'}", [http_target("api", app)])
    runtime = build_runtime(load_config(path), role="web")  # as wsgi.py builds a gunicorn web replica
    try:
        res = make_flask_app(runtime).test_client().post("/api/reload")
        assert res.status_code == 409
        assert "kill -HUP" in res.get_json()["error"]
    finally:
        runtime.stop()


def test_a_restart_only_change_is_named_and_the_rest_is_applied(running, app):
    runtime, path = running
    write_config(path, f"sqlite:///{path.parent / 'other.db'}", [http_target("api", app), http_target("api2", app)],
                 extra="server: {port: 8123}\n")

    result = runtime.reloader.reload()

    assert result.applied and result.added == ["api2"]
    assert [line.split(":")[0] for line in result.restart_needed] == ["server.port", "store.url"]
    assert all("the running value stays" in line and "other.db" not in line for line in result.restart_needed)
    assert runtime.config.server.port == 8050 and runtime.config.store.url.endswith("store.db")
