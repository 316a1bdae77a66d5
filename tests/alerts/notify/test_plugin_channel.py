"""A channel added from outside alerts/notify: one class and one ``register`` call, no other edit.

``webhook_log`` POSTs one line per alert to a log collector (here the real local
webhook server of conftest.py). It is the example of docs/extending.md.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from pydantic import Field
from sqlalchemy import select

from alerts.notify.channels.base import Channel, ChannelContext
from alerts.notify.channels.http import HttpTransport
from alerts.notify.channels.registry import channels, register, unregister
from alerts.notify.config import NotificationsConfig
from alerts.notify.schema import outbox
from alerts.notify.transport import Notification
from composition.config import parse_config
from core.durations import Duration
from core.errors import ConfigError
from tests.alerts.notify.conftest import drain, make_notifier, record_event


class WebhookLogChannel(Channel):
    description: ClassVar[str] = "Post one line per alert to a log collector."

    url: str = Field(description="Where the lines are POSTed.")
    timeout: Duration = Field(5.0, description="HTTP timeout of one attempt.")
    resolves: bool = Field(True, description="Also log resolves.")

    def transport(self, ctx: ChannelContext) -> WebhookLogTransport:
        return WebhookLogTransport(self.url, self.timeout, ctx.session)

    def send_resolved_for(self, configured: bool) -> bool:
        return configured and self.resolves


class WebhookLogTransport(HttpTransport):
    service: ClassVar[str] = "Log collector"

    def notify(self, notification: Notification) -> None:
        self.post_json({"receiver": notification.receiver,
                        "lines": [f"{i.headline}: {i.summary}" for i in notification.items]})


@pytest.fixture
def webhook_log() -> Iterator[None]:
    register("webhook_log", WebhookLogChannel)
    yield
    unregister("webhook_log")


def _yaml(channel: str) -> str:
    return f"alerting:\n  notifications:\n    receivers:\n      - name: log\n        webhook_log: {channel}\n"


def _config(url: str, **channel: Any) -> NotificationsConfig:
    return NotificationsConfig.model_validate({
        "receivers": [{"name": "log", "webhook_log": {"url": url, **channel}}],
        "retry": {"initial_backoff": 0.05, "max_backoff": 0.2, "max_attempts": 6}})


def _rows(db: Any) -> list[Any]:
    with db.engine.connect() as conn:
        return conn.execute(select(outbox).order_by(outbox.c.id)).all()


def test_a_registered_channel_is_read_from_yaml_under_its_key(webhook_log):
    [recv] = parse_config(_yaml("{url: 'http://logs.example/in', timeout: 2s}")).alerting.notifications.receivers
    assert recv.channel == "webhook_log" and isinstance(recv.settings, WebhookLogChannel)
    assert recv.settings.url == "http://logs.example/in" and recv.settings.timeout == 2.0


def test_a_registered_channels_settings_are_checked_with_the_usual_messages(webhook_log):
    with pytest.raises(ConfigError) as exc:
        parse_config(_yaml("{timeout: 2}"))
    assert exc.value.problems == [
        "config.yaml:5 alerting.notifications.receivers[0].webhook_log.url: required key is missing",
        "config.yaml:5 alerting.notifications.receivers[0].webhook_log.timeout: 2 is not a duration (use 15s, 5m, 1h)"]


def test_an_event_is_routed_and_delivered_through_the_real_dispatcher(webhook_log, webhook, db):
    n = make_notifier(_config(webhook.url), db)
    record_event(db, "firing")
    drain(n, lambda: webhook.delivered)
    [body] = webhook.delivered
    assert body == {"receiver": "log",
                    "lines": ["[FIRING] payment_failure_ratio (critical): Payment failures at 12% on shop-db"]}
    [row] = _rows(db)
    assert (row.channel, row.status, row.attempts) == ("webhook_log", "sent", 1)


def test_the_channels_own_rule_decides_that_resolves_are_not_sent(webhook_log, webhook, db):
    n = make_notifier(_config(webhook.url, resolves=False), db)
    record_event(db, "firing")
    drain(n, lambda: webhook.delivered)
    record_event(db, "resolved")
    n.route(), n.dispatch()
    assert [r.kind for r in _rows(db)] == ["firing"] and len(webhook.delivered) == 1


def test_the_shared_http_transport_retries_a_503_and_dead_letters_a_404(webhook_log, webhook, db):
    n = make_notifier(_config(webhook.url), db)
    webhook.script = [503]
    record_event(db, "firing")
    drain(n, lambda: webhook.delivered)
    assert [r.status for r in webhook.requests] == [503, 200] and _rows(db)[0].attempts == 2
    webhook.script = [404]
    record_event(db, "resolved")
    drain(n, lambda: _rows(db)[-1].status == "dead")
    assert _rows(db)[-1].last_error == "Log collector answered 404 no_service"


def test_without_the_registry_line_the_key_is_an_unknown_key():
    assert "webhook_log" not in channels()
    with pytest.raises(ConfigError) as exc:
        parse_config(_yaml("{url: 'http://logs.example/in'}"))
    assert exc.value.problems == ["config.yaml:5 alerting.notifications.receivers[0].webhook_log: unknown key "
                                  "'webhook_log' (a receiver takes name and one of slack, email, alertmanager, sink)"]


@pytest.mark.parametrize("key", ["name", "settings", "Webhook", "web-hook", "x" * 21])
def test_a_key_that_cannot_be_a_receiver_field_is_refused(key):
    with pytest.raises(ValueError, match="cannot be a channel key"):
        register(key, WebhookLogChannel)


def test_a_taken_key_is_refused_rather_than_replaced():
    with pytest.raises(ValueError, match="'slack' is already registered"):
        register("slack", WebhookLogChannel)
