"""Signed acknowledgement links and the Flask routes behind them."""
from __future__ import annotations

import time

import pytest
from flask import Flask

from alerts.notify import web
from alerts.notify.links import AckLinkError
from tests.alerts.notify.conftest import make_notifier, notifications, record_event


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def test_an_ack_link_verifies_to_its_alert_and_who(db, webhook):
    n = make_notifier(notifications(webhook), db)
    token = n.ack_link(42, "slack:oncall").rsplit("/", 1)[1]
    assert n.verify_ack_token(token) == (42, "slack:oncall")


def test_an_expired_ack_link_is_refused(db, webhook):
    clock = Clock()
    n = make_notifier(notifications(webhook, ack_link_ttl=3600.0), db, clock=clock)
    token = n.ack_link(42, "x").rsplit("/", 1)[1]
    clock.now += 3601
    with pytest.raises(AckLinkError, match="expired"):
        n.verify_ack_token(token)


def test_an_ack_link_cannot_be_replayed_for_another_alert(db, webhook):
    n = make_notifier(notifications(webhook), db)
    token = n.ack_link(42, "x").rsplit("/", 1)[1]
    with pytest.raises(AckLinkError, match="another alert"):
        n.verify_ack_token(token, alert_id=43)
    forged = n.ack_link(43, "x").rsplit("/", 1)[1]
    payload_of_43, sig_of_42 = forged.split(".")[0], token.split(".", 1)[1]
    with pytest.raises(AckLinkError, match="not valid"):
        n.verify_ack_token(f"{payload_of_43}.{sig_of_42}")


def test_a_link_signed_with_another_key_is_refused(db, webhook):
    other = make_notifier(notifications(webhook), db, env={"LOOKOUT_SECRET_KEY": "another-key"})
    n = make_notifier(notifications(webhook), db)
    with pytest.raises(AckLinkError, match="not valid"):
        n.verify_ack_token(other.ack_link(42, "x").rsplit("/", 1)[1])


def test_without_the_signing_key_messages_carry_no_ack_link(db, webhook):
    n = make_notifier(notifications(webhook), db, env={})
    record_event(db, "firing")
    n.route(), n.dispatch()
    assert "/ack/" not in str(webhook.delivered[0])


def test_get_shows_a_confirmation_and_post_acknowledges(db, webhook):
    n = make_notifier(notifications(webhook), db)
    acked: list[tuple[int, str]] = []
    app = Flask("t")
    web.init_app(app, n, ack=lambda alert_id, who: acked.append((alert_id, who)))
    client = app.test_client()
    token = n.ack_link(7, "link").rsplit("/", 1)[1]
    page = client.get(f"/ack/{token}")
    assert page.status_code == 200 and b"Acknowledge alert #7?" in page.data and acked == []
    done = client.post(f"/ack/{token}", data={"who": "alice"})
    assert done.status_code == 200 and acked == [(7, "alice")]
    assert client.get("/ack/garbage").status_code == 400


def test_the_outbox_api_lists_rows_and_dead_letters(db, webhook):
    webhook.script = [404]
    n = make_notifier(notifications(webhook), db)
    record_event(db, "firing")
    n.route(), n.dispatch()
    app = Flask("t")
    web.init_app(app, n, ack=lambda *a: None)
    body = app.test_client().get("/api/outbox?status=dead").get_json()
    assert body["dead"] == 1 and body["rows"][0]["last_error"].startswith("Slack answered 404")
    assert app.test_client().post(f"/api/outbox/{body['rows'][0]['id']}/retry").status_code == 200
    n.dispatch()
    assert len(webhook.delivered) == 1
