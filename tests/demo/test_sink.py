"""The demo's local sink keeps exactly what Slack and email would get, and shows it safely."""
from __future__ import annotations

import json

import pytest
from flask import Flask
from pydantic import ValidationError

from alerts.notify.channels import sink
from alerts.notify.channels.email import build_message
from alerts.notify.channels.slack import build_payload
from alerts.notify.config import NotificationsConfig, Receiver, SmtpConfig
from alerts.notify.transport import Item, Notification
from alerts.schema import migrate, writer_of
from demo import sink_page
from store import Store

EVIL = "<script>alert(1)</script> & <img src=x onerror=alert(2)>"


def _item(kind: str = "firing", summary: str = "Payment failures at 31.0% on shop-business") -> Item:
    return Item(outbox_id=1, kind=kind, alert_id=7, alert_key="payment_failure_ratio{}", rule="payment_failure_ratio",
                labels={"target": "shop-business", "team": "payments", "severity": "critical"},
                annotations={"summary": summary, "runbook_url": "https://runbooks.example.com/payments"},
                thresholds={"op": ">", "warning": 0.05, "critical": 0.1}, severity="critical",
                previous_severity=None, value=0.31, at=1000.0, firing_since=940.0,
                links={"runbook": "https://runbooks.example.com/payments", "dashboard": "javascript:alert(3)"})


def _notification(item: Item, message_id: str = "<lookout.1.t@lookout.local>") -> Notification:
    return Notification(receiver="demo-sink", group_key="g", group_labels={"team": "payments"}, items=[item],
                        message_id=message_id, thread_id="<lookout.thread.t@lookout.local>", created_at=1000.0,
                        now=1000.0)


@pytest.fixture
def store(tmp_path):
    s = Store(f"sqlite:///{tmp_path / 'lookout.db'}")
    migrate(s.engine, writer_of(s))
    yield s
    s.close()


def _transport(store: Store, **sink_cfg) -> sink.SinkTransport:
    cfg = NotificationsConfig.model_validate({"receivers": [{"name": "demo-sink", "sink": sink_cfg}]})
    return sink.transports(cfg, writer_of(store).begin)["demo-sink"]


def test_a_receiver_takes_sink_as_its_one_channel():
    assert Receiver.model_validate({"name": "demo-sink", "sink": {}}).channel == "sink"
    with pytest.raises(ValidationError, match="exactly one of slack, email, alertmanager, sink"):
        Receiver.model_validate({"name": "x", "sink": {}, "slack": {"webhook_url": "https://hooks.example"}})


def test_the_sink_stores_the_slack_body_and_the_email_the_real_transports_would_send(store):
    n = _notification(_item())
    _transport(store).notify(n)
    [m] = sink.messages(store.engine)
    assert m["slack"] == json.loads(json.dumps(build_payload(n)))
    email = build_message(n, SmtpConfig(host="localhost", from_="lookout@localhost"), ["oncall@example.com"])
    subject = "[Lookout] [FIRING] payment_failure_ratio (team=payments)"
    assert m["email"]["subject"] == email["Subject"].strip() == subject
    assert m["email"]["html"] == email.get_body(("html",)).get_content()
    assert m["email"]["headers"]["In-Reply-To"] == "<lookout.thread.t@lookout.local>"
    assert m["kinds"] == ["firing"] and m["rules"] == ["payment_failure_ratio"]


def test_a_retried_batch_is_stored_once(store):
    t = _transport(store)
    t.notify(_notification(_item()))
    t.notify(_notification(_item()))
    assert len(sink.messages(store.engine)) == 1


def test_the_sink_keeps_only_its_newest_messages(store):
    t = _transport(store, keep=3)
    for i in range(5):
        t.notify(_notification(_item(summary=f"number {i}"), message_id=f"<m{i}>"))
    got = sink.messages(store.engine)
    assert [m["message_id"] for m in got] == ["<m4>", "<m3>", "<m2>"]


def _client(store: Store) -> object:
    app = Flask("t")
    sink_page.init_app(app, store.engine, ["demo-sink"])
    return app.test_client()


def test_the_api_lists_messages_newest_first_and_bounds_the_limit(store):
    t = _transport(store)
    t.notify(_notification(_item(), message_id="<a>"))
    t.notify(_notification(_item("resolved"), message_id="<b>"))
    client = _client(store)
    body = client.get("/api/sink").get_json()
    assert [m["kinds"] for m in body["messages"]] == [["resolved"], ["firing"]]
    assert len(client.get("/api/sink?limit=1").get_json()["messages"]) == 1
    assert client.get("/api/sink?limit=x").status_code == 400
    assert len(client.get("/api/sink?since_id=0").get_json()["messages"]) == 2
    for bad in ("9223372036854775808", "-1", "-99999999999999999999"):  # found by the OpenAPI fuzz test
        res = client.get(f"/api/sink?since_id={bad}")
        assert res.status_code == 400 and "since_id must be between 0 and" in res.get_json()["error"]


def test_the_page_draws_the_slack_message_and_the_email_with_everything_escaped(store):
    _transport(store).notify(_notification(_item(summary=EVIL)))
    res = _client(store).get("/demo/notifications")
    page = res.get_data(as_text=True)
    assert res.status_code == 200 and "script-src" not in res.headers["Content-Security-Policy"]
    assert "default-src 'none'" in res.headers["Content-Security-Policy"]
    assert "[FIRING] payment_failure_ratio (critical)" in page  # the Slack header block
    assert "background:#D00000" in page  # the critical colour bar
    assert "<a class='btn' href='https://runbooks.example.com/payments'" in page
    assert "href='javascript:" not in page  # an unsafe link is shown as text, not as a link
    assert "<script" not in page and "<img" not in page
    assert "&lt;script&gt;" in page
    assert "<iframe sandbox=''" in page and "Subject:</b> [Lookout] [FIRING] payment_failure_ratio" in page
