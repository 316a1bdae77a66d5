"""A reload changes the targets of a running process and leaves the others alone."""
from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from composition.config import load_config
from composition.runtime import Runtime, build_runtime
from composition.webapp import make_flask_app
from tests.reload.support import CountingApp, http_target, redis_target, wait_for, write_config


@pytest.fixture
def apps() -> Iterator[tuple[CountingApp, CountingApp]]:
    a, b = CountingApp(), CountingApp()
    yield a, b
    a.stop()
    b.stop()


@pytest.fixture
def running(tmp_path: Path, apps, redis_url: str) -> Iterator[tuple[Runtime, Path]]:
    old_app, _ = apps
    path = write_config(tmp_path / "config.yaml", f"sqlite:///{tmp_path / 'store.db'}",
                        [http_target("old-api", old_app), redis_target("cache", redis_url, interval="1h")])
    runtime = build_runtime(load_config(path), config_path=path)
    runtime.start()
    yield runtime, path
    runtime.stop()


def up_line(name: str, kind: str) -> str:
    return f'lookout_target_up{{target="{name}",kind="{kind}"}} 1'


def metrics(runtime: Runtime) -> str:
    return runtime.snapshot.body().decode()


def test_a_target_added_is_collected_and_a_removed_one_leaves_metrics_and_the_scheduler(running, apps, redis_url):
    runtime, path = running
    old_app, new_app = apps
    wait_for(lambda: up_line("old-api", "http") in metrics(runtime) and up_line("cache", "redis") in metrics(runtime),
             "both targets collected once")
    assert runtime.scheduler is not None
    cache_collector = runtime.scheduler.collectors["cache"]
    removed_collector = runtime.scheduler.collectors["old-api"]
    cache_next_run = runtime.scheduler._sched.get_job("collect:cache").next_run_time
    cache_rows = wait_for(lambda: runtime.store.raw("lookout_target_up", {"target": "cache"}, 0, time.time() + 60),
                          "the cache target's first sample in the store")

    write_config(path, f"sqlite:///{path.parent / 'store.db'}",
                 [redis_target("cache", redis_url, interval="1h"), http_target("new-api", new_app)])
    result = runtime.reloader.reload()

    assert result.applied, result.errors
    assert (result.added, result.removed, result.changed) == (["new-api"], ["old-api"], [])
    body = metrics(runtime)
    assert 'target="old-api"' not in body  # gone at once, not at the next scrape
    assert up_line("cache", "redis") in body  # the other target's series stay
    assert runtime.scheduler._sched.get_job("collect:old-api") is None
    assert "old-api" not in runtime.scheduler.collectors
    # The unchanged target keeps its collector (its deltas, its connection) and its schedule.
    assert runtime.scheduler.collectors["cache"] is cache_collector
    assert runtime.scheduler._sched.get_job("collect:cache").next_run_time == cache_next_run
    assert runtime.store.raw("lookout_target_up", {"target": "cache"}, 0, time.time() + 60) == cache_rows
    wait_for(lambda: up_line("new-api", "http") in metrics(runtime), "the added target collected")
    assert new_app.hits >= 1
    # Nothing collects the removed target any more, once a collection in flight at the reload has ended.
    sched = runtime.scheduler
    wait_for(lambda: id(removed_collector) not in sched._busy, "the removed target's last collection ended")
    hits = old_app.hits
    wait_for(lambda: new_app.hits >= 3, "two more collections of the added target")
    assert old_app.hits == hits
    assert 'target="old-api"' not in metrics(runtime)
    assert [t.name for t in runtime.config.targets] == ["cache", "new-api"]


def test_a_changed_target_gets_its_new_config_at_once(running, apps, redis_url):
    runtime, path = running
    old_app, _ = apps
    wait_for(lambda: up_line("old-api", "http") in metrics(runtime), "the target collected once")
    assert runtime.scheduler is not None
    before = runtime.scheduler.collectors["old-api"]
    write_config(path, f"sqlite:///{path.parent / 'store.db'}",
                 [http_target("old-api", old_app).replace("}", ", labels: {team: web}}"),
                  redis_target("cache", redis_url, interval="1h")])

    result = runtime.reloader.reload()

    assert result.applied and result.changed == ["old-api"] and not result.added and not result.removed
    assert runtime.scheduler.collectors["old-api"] is not before
    wait_for(lambda: 'team="web"' in metrics(runtime), "the changed target's new label in /metrics")


def test_the_api_reload_answers_what_it_applied(running, apps, redis_url):
    runtime, path = running
    _, new_app = apps
    client = make_flask_app(runtime).test_client()
    write_config(path, f"sqlite:///{path.parent / 'store.db'}",
                 [redis_target("cache", redis_url, interval="1h"), http_target("new-api", new_app)])

    res = client.post("/api/reload")

    assert res.status_code == 200, res.get_json()
    body = res.get_json()
    assert body["status"] == "applied"
    assert body["targets"] == {"added": ["new-api"], "removed": ["old-api"], "changed": []}
    assert [t["name"] for t in client.get("/api/targets").get_json()["targets"]] == ["cache", "new-api"]


def test_a_new_evaluation_interval_reschedules_the_evaluation(running, apps, redis_url):
    runtime, path = running
    old_app, _ = apps
    assert runtime.scheduler is not None
    job = runtime.scheduler._sched.get_job("alerts:evaluate")
    assert job.trigger.interval.total_seconds() == 15
    write_config(path, f"sqlite:///{path.parent / 'store.db'}",
                 [http_target("old-api", old_app), redis_target("cache", redis_url, interval="1h")],
                 extra="alerting: {evaluation_interval: 7s}\n")

    result = runtime.reloader.reload()

    assert result.applied and "alerting.evaluation_interval: 7 s" in result.changes
    assert runtime.scheduler._sched.get_job("alerts:evaluate").trigger.interval.total_seconds() == 7
