"""Forwarding to a real Alertmanager (Debian prometheus-alertmanager)."""
from __future__ import annotations

import datetime as dt
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.alerts.notify.conftest import make_notifier, notifications, record_event
from tests.support import free_port


def _ours(alertmanager, target):
    return [a for a in alertmanager.alerts(active="true", silenced="true", inhibited="true", unprocessed="true")
            if a["labels"].get("target") == target]


def _wait(fn, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError("not reached")


def test_a_forwarded_alert_appears_in_alertmanager_and_then_resolves(db, alertmanager):
    target = f"db-{time.time_ns()}"
    n = make_notifier(notifications(am_url=alertmanager.url), db)
    record_event(db, "firing", labels={"target": target})
    n.route(), n.dispatch()
    alert = _wait(lambda: _ours(alertmanager, target))[0]
    assert alert["labels"]["alertname"] == "payment_failure_ratio"
    assert alert["labels"]["severity"] == "critical"
    assert alert["annotations"]["summary"].startswith("Payment failures")
    assert alert["status"]["state"] == "active"
    record_event(db, "resolved", labels={"target": target}, value=0.0)
    n.route(), n.dispatch()
    _wait(lambda: not _ours(alertmanager, target))  # resolved alerts leave the active list
    everything = [a for a in alertmanager.alerts(active="false", silenced="false", inhibited="false")
                  if a["labels"].get("target") == target]
    gone = everything or [a for a in alertmanager.alerts() if a["labels"].get("target") == target]
    for a in gone:  # if still listed, its endsAt is in the past
        assert dt.datetime.fromisoformat(a["endsAt"]) <= dt.datetime.now(dt.UTC)


def test_a_firing_alert_is_re_sent_to_alertmanager_even_when_acked(db, alertmanager):
    target = f"db-{time.time_ns()}"
    n = make_notifier(notifications(am_url=alertmanager.url), db)
    t0 = time.time()
    alert_id = record_event(db, "firing", labels={"target": target}, at=t0, firing_since=t0)
    n.route(now=t0), n.dispatch(now=t0)
    from tests.alerts.notify.conftest import ack
    ack(db, alert_id)
    assert n.route(now=t0 + 61) == 1  # resend_interval 60 s, acks are for people
    n.dispatch(now=t0 + 61)
    alert = _wait(lambda: _ours(alertmanager, target))[0]
    ends = dt.datetime.fromisoformat(alert["endsAt"]).timestamp()
    assert ends > t0 + 61 + 200  # kept alive for 4 resend intervals past the re-send


# -- the true start of a resolved alert ----------------------------------------------------------

class NotifyingAlertmanager:
    """A real Alertmanager that notifies a local webhook at once, resolves included."""

    def __init__(self, tmp: Path, hook_url: str) -> None:
        self.port = free_port()
        cfg = tmp / "alertmanager.yml"
        cfg.write_text(
            "route:\n  receiver: hook\n  group_by: [alertname, target]\n  group_wait: 0s\n"
            "  group_interval: 1s\n  repeat_interval: 1h\n"
            f"receivers:\n  - name: hook\n    webhook_configs:\n      - url: {hook_url}\n"
            "        send_resolved: true\n")
        self.log = open(tmp / "alertmanager.log", "w")
        self.proc = subprocess.Popen(
            ["/usr/bin/prometheus-alertmanager", f"--config.file={cfg}", f"--storage.path={tmp / 'data'}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--cluster.listen-address="],
            stdout=self.log, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{self.port}"
        _wait(lambda: self._ready(), timeout=20)

    def _ready(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"Alertmanager exited: {Path(self.log.name).read_text()[-2000:]}")
        try:
            return requests.get(self.url + "/-/ready", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


@pytest.fixture
def notifying_alertmanager(tmp_path, webhook) -> Iterator[NotifyingAlertmanager]:
    am = NotifyingAlertmanager(tmp_path, webhook.url)
    yield am
    am.stop()


def _epoch(iso: str) -> float:
    """Alertmanager's RFC 3339 times (nanoseconds, Z) as epoch seconds."""
    m = re.fullmatch(r"(.+T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)", iso)
    assert m, iso
    base = dt.datetime.fromisoformat(m[1] + ("+00:00" if m[3] == "Z" else m[3])).timestamp()
    return base + float(f"0.{m[2] or 0}")


def _incident(tmp_path: Path, am_url: str) -> tuple[float, float]:
    """Pending at ``start``, firing 30 s later, resolved 60 s after ``start``, which is 2 min ago:
    the firing is still alive for Alertmanager, the resolve is in its past. (start, resolved_at)."""
    from alerts.config import AlertingConfig
    from alerts.engine import AlertEngine
    from core.samples import Sample
    from store import Store
    from tests.support import FakeClock

    clock = FakeClock(float(int(time.time()) - 120))  # whole seconds: the store rounds sample times
    store = Store(f"sqlite:///{tmp_path / 'lookout.db'}", clock=clock)
    store.migrate()
    rule = {"name": "payment_failure_ratio", "expr": {"metric": "shop_payment_failure_ratio", "window": 60.0},
            "warning": 0.05, "critical": 0.1, "for": 30.0}
    engine = AlertEngine(AlertingConfig.model_validate({"rules": [rule]}), store, clock=clock)
    engine.migrate()
    n = make_notifier(notifications(am_url=am_url), store, clock=clock)
    start = clock.now
    for v in (0.2, 0.2, 0.2, 0.2, 0.01):
        store.write_samples(clock.now, [Sample("shop_payment_failure_ratio", v, labels={"target": "shop"})])
        engine.evaluate()
        n.route(), n.dispatch()
        clock.advance(15)
    n.close()
    store.close()
    return start, start + 60


def test_alertmanager_reports_a_resolved_alert_from_its_first_crossing_to_its_resolve(
        tmp_path, webhook, notifying_alertmanager):
    start, resolved_at = _incident(tmp_path, notifying_alertmanager.url)
    body = _wait(lambda: next((b for b in webhook.delivered if b.get("status") == "resolved"), None), timeout=20)
    [alert] = body["alerts"]
    assert alert["labels"]["alertname"] == "payment_failure_ratio" and alert["labels"]["severity"] == "critical"
    assert abs(_epoch(alert["startsAt"]) - start) < 0.001  # the first crossing, not the firing 30 s later
    assert abs(_epoch(alert["endsAt"]) - resolved_at) < 0.001


def test_the_forward_of_a_resolve_carries_the_true_start_and_the_resolve_time(tmp_path, webhook):
    start, resolved_at = _incident(tmp_path, webhook.url)  # the local server stands where Alertmanager would
    fired, resolved = ([a] for [a] in webhook.delivered)
    assert _epoch(fired[0]["startsAt"]) == pytest.approx(start, abs=0.001)
    assert _epoch(resolved[0]["startsAt"]) == pytest.approx(start, abs=0.001)
    assert _epoch(resolved[0]["endsAt"]) == pytest.approx(resolved_at, abs=0.001)
    assert set(resolved[0]) == set(fired[0]) == {"labels", "annotations", "startsAt", "endsAt", "generatorURL"}
    assert resolved[0]["annotations"]["value"] == "value 1.0 % (warning > 5.0 %, critical > 10.0 %)"
