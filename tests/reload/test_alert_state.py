"""Rules keep their alert state by name across a reload; removed targets close their alerts."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from alerts.queries import alert_detail, alert_rows
from composition.config import load_config
from composition.runtime import Runtime, build_runtime
from core.samples import Batch, Sample
from tests.support import FakeClock

RULE = """alerting:
  rules:
    - name: api_slow
      expr: {{metric: lookout_collect_duration_seconds, agg: last, window: 1m}}
      op: ">"
      critical: {critical}
      annotations: {{summary: "collection takes {{value:.1f}} s"}}
"""


def config_text(store: str, critical: float, targets: tuple[str, ...] = ("api",)) -> str:
    lines = "".join(f"  - {{name: {t}, kind: http, interval: 15s, url: 'http://127.0.0.1:9/{t}'}}\n"
                    for t in targets)
    return f"store: {{url: '{store}'}}\ntargets:\n{lines}" + RULE.format(critical=critical)


@pytest.fixture
def incident(tmp_path: Path, clock: FakeClock) -> Iterator[tuple[Runtime, Path, FakeClock]]:
    """A runtime (not started: the test drives time) whose rule api_slow fires on target api."""
    store = f"sqlite:///{tmp_path / 'store.db'}"
    path = tmp_path / "config.yaml"
    path.write_text(config_text(store, 0.5, ("api", "db")))
    runtime = build_runtime(load_config(path), clock=clock, config_path=path)
    feed(runtime, clock, {"api": 0.9, "db": 0.9})
    runtime.alert_engine.evaluate(now=clock())
    assert [(a["labels"]["target"], a["state"]) for a in open_rows(runtime)] == [("api", "firing"), ("db", "firing")]
    yield runtime, path, clock
    runtime.stop()


def feed(runtime: Runtime, clock: FakeClock, values: dict[str, float]) -> None:
    for target, value in values.items():
        runtime.pipeline.handle(Batch(target=target, kind="http", started_at=clock(),
                                      samples=[Sample("lookout_collect_duration_seconds", value)]), 15)


def open_rows(runtime: Runtime) -> list[dict]:
    return alert_rows(runtime.store.engine, "open")


def reload_with(runtime: Runtime, path: Path, critical: float, targets: tuple[str, ...] = ("api", "db")) -> None:
    path.write_text(config_text(str(runtime.config.store.url), critical, targets))
    result = runtime.reloader.reload()
    assert result.applied, result.errors


def test_a_rule_changed_mid_incident_keeps_firing_and_its_since_while_still_past_the_new_threshold(incident):
    runtime, path, clock = incident
    since = open_rows(runtime)[0]["firing_since"]

    reload_with(runtime, path, critical=0.8)
    clock.advance(15)
    feed(runtime, clock, {"api": 0.9, "db": 0.9})
    runtime.alert_engine.evaluate(now=clock())

    rows = open_rows(runtime)
    assert [(a["labels"]["target"], a["state"], a["firing_since"]) for a in rows] == [
        ("api", "firing", since), ("db", "firing", since)]
    events = alert_detail(runtime.store.engine, rows[0]["id"]).events
    assert [e["event"] for e in events] == ["firing"]  # no resolve and no second page


def test_a_rule_changed_mid_incident_resolves_when_the_value_is_no_longer_past_it(incident):
    runtime, path, clock = incident
    alert_id = open_rows(runtime)[0]["id"]

    reload_with(runtime, path, critical=2.0)
    clock.advance(15)
    feed(runtime, clock, {"api": 0.9, "db": 0.9})
    runtime.alert_engine.evaluate(now=clock())

    assert open_rows(runtime) == []
    events = alert_detail(runtime.store.engine, alert_id).events
    assert [e["event"] for e in events] == ["resolved", "firing"]


def test_a_removed_targets_alert_resolves_instead_of_going_stale(incident):
    runtime, path, clock = incident

    reload_with(runtime, path, critical=0.5, targets=("api",))
    for _ in range(10):  # long past the rule's window and three intervals of the removed target
        clock.advance(15)
        feed(runtime, clock, {"api": 0.9})
        runtime.alert_engine.evaluate(now=clock())

    rows = [a for a in alert_rows(runtime.store.engine, "all") if a["rule"] == "api_slow"]
    assert [(a["labels"]["target"], a["state"]) for a in rows] == [("api", "firing"), ("db", "ok")]
    db = next(a for a in rows if a["labels"]["target"] == "db")
    detail = alert_detail(runtime.store.engine, db["id"])
    assert [e["event"] for e in detail.events] == ["resolved", "firing"]
    # The resolve says why: the target left, not the rule (the rule still watches "api").
    assert "its target was removed from the configuration" in detail.events[0]["payload"]["message"]


def test_notifications_go_to_the_receivers_of_the_reloaded_config(tmp_path, clock):
    from tests.alerts.notify.servers import WebhookServer

    old_hook, new_hook = WebhookServer(), WebhookServer()
    store = f"sqlite:///{tmp_path / 'store.db'}"
    path = tmp_path / "config.yaml"

    def write(hook: WebhookServer) -> None:
        path.write_text(config_text(store, 0.5) + "  notifications:\n    group_wait: 0s\n    receivers:\n"
                        f"      - {{name: oncall, slack: {{webhook_url: '{hook.url}'}}}}\n")

    write(old_hook)
    runtime = build_runtime(load_config(path), clock=clock, config_path=path)
    try:
        old_notifier = runtime.notifier
        write(new_hook)
        result = runtime.reloader.reload()
        assert result.applied and "notifications reloaded" in result.changes
        assert runtime.notifier is not old_notifier

        feed(runtime, clock, {"api": 0.9})
        runtime.alert_engine.evaluate(now=clock())
        runtime.notifier.route(clock())
        runtime.notifier.dispatch(clock())

        assert len(new_hook.delivered) == 1 and "api_slow" in str(new_hook.delivered[0])
        assert old_hook.requests == []
    finally:
        runtime.stop()
        old_hook.close()
        new_hook.close()


def test_the_sink_pages_name_the_receivers_of_the_reloaded_config(tmp_path, clock):
    from app import create_app

    store = f"sqlite:///{tmp_path / 'store.db'}"
    path = tmp_path / "config.yaml"

    def write(name: str) -> None:
        path.write_text(config_text(store, 0.5)
                        + f"  notifications:\n    receivers:\n      - {{name: {name}, sink: {{}}}}\n")

    write("before")
    runtime = build_runtime(load_config(path), clock=clock, config_path=path)
    try:
        client = create_app(runtime.config, runtime=runtime).test_client()
        assert client.get("/api/sink").get_json()["receivers"] == ["before"]
        write("after")
        assert runtime.reloader.reload().applied
        assert client.get("/api/sink").get_json()["receivers"] == ["after"]
        assert "receiver after" in client.get("/demo/notifications").get_data(as_text=True)
    finally:
        runtime.stop()
