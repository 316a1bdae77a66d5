"""Routing, grouping, repeats, acks and muting: what goes into the outbox and what does not."""
from __future__ import annotations

import json
import time

from sqlalchemy import select

from alerts.notify.schema import outbox
from tests.alerts.notify.conftest import (
    ack,
    drain,
    make_notifier,
    notifications,
    record_event,
)


def _kinds(db, receiver=None):
    with db.engine.connect() as conn:
        q = select(outbox).order_by(outbox.c.id)
        if receiver:
            q = q.where(outbox.c.receiver == receiver)
        return [r.kind for r in conn.execute(q)]


def test_repeat_interval_produces_still_firing_since(db, webhook):
    n = make_notifier(notifications(webhook, repeat_interval=60.0), db)
    t0 = time.time()
    record_event(db, "firing", at=t0, firing_since=t0)
    n.route(now=t0)
    n.dispatch(now=t0)
    assert n.route(now=t0 + 30) == 0
    assert n.route(now=t0 + 61) == 1
    assert n.route(now=t0 + 62) == 0  # the next one counts from this repeat
    n.dispatch(now=t0 + 62)
    texts = [b["text"] for b in webhook.delivered]
    assert texts[1].startswith("[STILL FIRING] payment_failure_ratio (critical)\n")
    assert "since " in texts[1] and "(1m02s)" in texts[1]
    assert _kinds(db) == ["firing", "repeat"]


def test_an_ack_stops_repeats_until_the_severity_changes(db, webhook):
    n = make_notifier(notifications(webhook, repeat_interval=60.0), db)
    t0 = time.time()
    alert_id = record_event(db, "firing", severity="warning", at=t0, firing_since=t0)
    n.route(now=t0)
    ack(db, alert_id, at=t0 + 10)
    assert n.route(now=t0 + 61) == 0
    assert n.route(now=t0 + 200) == 0
    record_event(db, "escalated", severity="critical", previous_severity="warning", at=t0 + 300, firing_since=t0)
    assert n.route(now=t0 + 300) == 1
    assert n.route(now=t0 + 361) == 1  # the ack was cleared by the escalation
    assert _kinds(db) == ["firing", "escalated", "repeat"]


def test_muted_events_are_not_sent_and_their_resolve_neither(db, webhook):
    n = make_notifier(notifications(webhook), db)
    record_event(db, "firing", muted=True)
    record_event(db, "resolved", muted=False, value=0.0)
    n.route(), n.dispatch()
    assert _kinds(db) == [] and webhook.requests == []


def test_group_by_puts_two_alerts_into_one_message(db, webhook):
    n = make_notifier(notifications(webhook, group_by=["rule"], group_wait=0.3), db)
    record_event(db, "firing", labels={"target": "db-a"})
    n.route(), n.dispatch()
    record_event(db, "firing", labels={"target": "db-b"})
    assert n.dispatch() == 0  # group_wait: still collecting
    drain(n, lambda: len(webhook.delivered) == 1)
    time.sleep(0.3)
    n.route(), n.dispatch()
    assert len(webhook.requests) == 1
    body = json.dumps(webhook.delivered[0])
    assert webhook.delivered[0]["text"].startswith("[FIRING:2] payment_failure_ratio\n")
    assert "db-a" in body and "db-b" in body


def test_routes_send_critical_to_slack_and_warnings_only_to_email(db, webhook, smtp):
    cfg = notifications(webhook, smtp, routes=[{"match": {"severity": "critical"}, "receivers": ["slack", "mail"]},
                                              {"match_re": {"severity": "warn.*"}, "receivers": ["mail"]}])
    n = make_notifier(cfg, db)
    record_event(db, "firing", severity="warning", labels={"target": "db-w"})
    record_event(db, "firing", severity="critical", labels={"target": "db-c"})
    n.route()
    assert _kinds(db, "slack") == ["firing"] and _kinds(db, "mail") == ["firing", "firing"]


def test_send_resolved_false_keeps_the_resolve_out_of_that_route(db, webhook):
    n = make_notifier(notifications(webhook, send_resolved=False), db)
    record_event(db, "firing")
    record_event(db, "resolved", value=0.0)
    n.route()
    assert _kinds(db) == ["firing"]


def test_two_routers_never_turn_one_event_into_two_rows(db, webhook):
    a = make_notifier(notifications(webhook), db)
    b = make_notifier(notifications(webhook), db)
    for i in range(5):
        record_event(db, "firing", labels={"target": f"db-{i}"})
    assert a.route() + b.route() == 5
    assert len(_kinds(db)) == 5
