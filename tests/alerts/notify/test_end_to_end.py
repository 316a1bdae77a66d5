"""Samples in the store -> ENGINE's evaluate -> route/dispatch -> the Slack webhook server."""
from __future__ import annotations

import time
from types import SimpleNamespace

import pytest

from alerts.config import AlertingConfig
from alerts.engine import AlertEngine
from alerts.notify import Notifier
from core.samples import Sample
from store import Store
from tests.alerts.notify.conftest import PUBLIC_URL, SECRET_ENV


def _config(webhook, *, with_rule: bool = True, **timing: object) -> SimpleNamespace:
    rule = {"name": "payment_failure_ratio", "expr": {"metric": "shop_payment_failure_ratio", "window": 60.0},
            "warning": 0.05, "critical": 0.1, "annotations": {"summary": "Payment failures {value:.0%}"}}
    alerting = AlertingConfig.model_validate({
        "evaluation_interval": 1.0,
        "rules": [rule] if with_rule else [],
        "notifications": {"receivers": [{"name": "slack", "slack": {"webhook_url": webhook.url}}], **timing},
    })
    return SimpleNamespace(alerting=alerting, server=SimpleNamespace(public_url=PUBLIC_URL))


class Process:
    """What one Lookout process holds: a store, an engine, a notifier."""

    def __init__(self, url: str, cfg: SimpleNamespace) -> None:
        self.store = Store(url)
        self.store.migrate()
        self.engine = AlertEngine(cfg, self.store)
        self.engine.migrate()
        self.notifier = Notifier(cfg, self.store, env=SECRET_ENV)

    def cycle(self) -> None:
        self.engine.evaluate()
        self.notifier.route()
        self.notifier.dispatch()

    def push(self, value: float) -> None:
        self.store.write_samples(time.time(), [Sample("shop_payment_failure_ratio", value,
                                                      labels={"target": "shop"})])

    def kill(self) -> None:
        self.notifier.close()
        self.store.close()


def _head(body: dict) -> str:
    """The message's title: the first line of the notification text."""
    return str(body["text"]).split("\n")[0]


@pytest.fixture
def url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'lookout.db'}"


def test_a_sample_over_the_threshold_produces_exactly_one_slack_message(url, webhook):
    p = Process(url, _config(webhook))
    p.push(0.01)
    p.cycle()
    assert webhook.requests == []
    p.push(0.2)
    for _ in range(3):
        p.cycle()
    assert len(webhook.delivered) == 1
    assert webhook.delivered[0]["text"].startswith("[FIRING] payment_failure_ratio (critical)")
    assert "value 20.0 % > critical 10.0 %" in str(webhook.delivered[0])


def test_killed_and_restarted_mid_incident_sends_no_duplicate_and_still_the_resolve(url, webhook):
    cfg = _config(webhook)
    first = Process(url, cfg)
    first.push(0.2)
    first.cycle()
    assert len(webhook.delivered) == 1
    first.kill()
    second = Process(url, cfg)  # new store, engine and notifier on the same database
    second.push(0.3)
    time.sleep(0.01)
    for _ in range(3):
        second.cycle()
    assert len(webhook.requests) == 1
    second.push(0.0)
    for _ in range(2):
        second.cycle()
    assert [_head(b) for b in webhook.delivered] == ["[FIRING] payment_failure_ratio (critical)",
                                                     "[RESOLVED] payment_failure_ratio"]
    second.kill()


def test_a_rule_removed_mid_incident_resolves_in_slack_and_repeats_stop(url, webhook):
    first = Process(url, _config(webhook, repeat_interval=0.2))  # would repeat every cycle below
    first.push(0.2)
    first.cycle()
    assert [_head(b) for b in webhook.delivered] == ["[FIRING] payment_failure_ratio (critical)"]
    first.kill()
    second = Process(url, _config(webhook, with_rule=False, repeat_interval=0.2))  # the rule is gone
    for _ in range(4):
        second.cycle()
        time.sleep(0.25)
    assert [_head(b) for b in webhook.delivered] == ["[FIRING] payment_failure_ratio (critical)",
                                                     "[RESOLVED] payment_failure_ratio"]
    assert "removed from the configuration" in str(webhook.delivered[1])
    second.kill()
