"""Forwarding to a real Alertmanager (Debian prometheus-alertmanager)."""
from __future__ import annotations

import datetime as dt
import time

from tests.alerts.notify.conftest import make_notifier, notifications, record_event


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
