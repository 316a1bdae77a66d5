"""What a person reads at 3 a.m.: units, one title, the state up front, since when and for how long.

Samples go through the real engine (fake clock) into the outbox and out to the local Slack
webhook and SMTP servers, so these check the messages as they arrive.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from alerts.config import AlertingConfig
from alerts.engine import AlertEngine
from alerts.notify.config import NotificationsConfig
from alerts.notify.transport import fmt_time
from core.samples import Sample
from store import Store
from tests.alerts.notify.conftest import drain, make_notifier, notifications, record_event
from tests.support import T0, FakeClock

FAILURES = {"name": "payment_failure_ratio", "expr": {"metric": "shop_payment_failure_ratio", "window": 60.0},
            "warning": 0.05, "critical": 0.1, "for": 30.0,
            "annotations": {"summary": "Payment failures at {value} on {labels[target]} (critical {critical})"}}
LATENCY = {"name": "http_p95_latency", "expr": {"metric": "http_p95_seconds", "window": 60.0},
           "warning": 0.5, "critical": 1.0, "annotations": {"summary": "p95 {value} on {labels[target]}"}}


class Lookout:
    """A store, an engine and a notifier on one fake clock, as one Lookout process holds them."""

    def __init__(self, url: str, rules: list[dict[str, Any]], cfg: NotificationsConfig, start: float = T0) -> None:
        self.clock = FakeClock(start)
        self.store = Store(url, clock=self.clock)
        self.store.migrate()
        self.engine = AlertEngine(AlertingConfig.model_validate({"rules": rules}), self.store, clock=self.clock)
        self.engine.migrate()
        self.notifier = make_notifier(cfg, self.store, clock=self.clock)

    def step(self, value: float | None, metric: str = "shop_payment_failure_ratio", advance: float = 15.0) -> None:
        """Collect ``value`` (None: nothing), evaluate, route and dispatch, then let ``advance`` seconds pass."""
        if value is not None:
            self.store.write_samples(self.clock.now, [Sample(metric, value, labels={"target": "shop"})])
        self.engine.evaluate()
        self.notifier.route()
        self.notifier.dispatch()
        self.clock.advance(advance)

    def close(self) -> None:
        self.notifier.close()
        self.store.close()


@pytest.fixture
def lookout(tmp_path, webhook, smtp) -> Iterator[Any]:
    made: list[Lookout] = []

    def make(*rules: dict[str, Any], start: float = T0) -> Lookout:
        made.append(Lookout(f"sqlite:///{tmp_path / 'lookout.db'}", list(rules), notifications(webhook, smtp), start))
        return made[-1]
    yield make
    for x in made:
        x.close()


def _slack_texts(body: dict[str, Any]) -> list[str]:
    """Every text a person reads in a Slack message (not the notification fallback, not URLs)."""
    out = [b["text"]["text"] for b in body.get("blocks", [])]
    for att in body["attachments"]:
        for b in att["blocks"]:
            if b.get("text"):
                out.append(b["text"]["text"])
            out += [f["text"] for f in b.get("fields", [])]
            out += [e["text"] for e in b.get("elements", []) if isinstance(e.get("text"), str)]
    return out


def _plain(msg: Any) -> str:
    return str(msg.get_body(("plain",)).get_content())


def _html(msg: Any) -> str:
    return str(msg.get_body(("html",)).get_content())


# -- units ------------------------------------------------------------------------------------

def test_slack_reads_values_and_thresholds_in_the_rules_unit(lookout, webhook):
    shop = lookout(FAILURES)
    for _ in range(3):
        shop.step(0.4051)
    [body] = webhook.delivered
    text = "\n".join(_slack_texts(body))
    assert "Payment failures at 40.5 % on shop (critical 10.0 %)" in text
    assert "value 40.5 % &gt; critical 10.0 % (warning &gt; 5.0 %)" in text  # Slack escapes > as &gt;
    assert not re.search(r"0\.4051|0\.1\b|0\.05\b", text), text


def test_email_reads_values_in_the_rules_unit_seconds_not_bare_floats(lookout, smtp):
    shop = lookout(LATENCY)
    shop.step(1.234, metric="http_p95_seconds")
    [msg] = smtp.messages
    for body in (_plain(msg), _html(msg)):
        assert "p95 1.23 s on shop" in body
        assert "value 1.23 s" in body and "critical 1.00 s" in body and "warning" in body
        assert "1.234" not in body and "nan" not in body.lower()


# -- one title, the state up front --------------------------------------------------------------

def test_a_slack_message_says_its_title_once_in_its_header(lookout, webhook):
    shop = lookout(FAILURES)
    for _ in range(3):
        shop.step(0.2)
    [body] = webhook.delivered
    assert body["blocks"] == [{"type": "header", "text": {"type": "plain_text",
                                                          "text": "[FIRING] payment_failure_ratio (critical)"}}]
    texts = _slack_texts(body)
    assert sum("payment_failure_ratio" in t for t in texts) == 1, texts
    first = body["attachments"][0]["blocks"][0]["text"]["text"]
    assert first == "Payment failures at 20.0 % on shop (critical 10.0 %)"  # no bold line repeating the title


def test_an_email_says_its_title_once(lookout, smtp):
    shop = lookout(FAILURES)
    for _ in range(3):
        shop.step(0.2)
    [msg] = smtp.messages
    html = _html(msg)
    assert html.count("[FIRING] payment_failure_ratio (critical)") == 1 and "<h3" not in html
    assert _plain(msg).count("[FIRING] payment_failure_ratio (critical)") == 1


def test_each_kind_of_event_says_its_own_state_in_the_subject_and_the_slack_header(db, webhook, smtp):
    n = make_notifier(notifications(webhook, smtp), db)
    steps = [("firing", "warning", None, "firing"), ("escalated", "critical", "warning", "firing"),
             ("deescalated", "warning", "critical", "firing"), ("stale", "warning", None, "stale"),
             ("resolved", None, "warning", None)]
    for i, (kind, severity, previous, state) in enumerate(steps, 1):
        record_event(db, kind, severity=severity, previous_severity=previous, state=state)
        drain(n, lambda i=i: len(webhook.delivered) == i and len(smtp.messages) == i)
    headers = [b["blocks"][0]["text"]["text"] for b in webhook.delivered]
    assert headers == ["[FIRING] payment_failure_ratio (warning)",
                       "[ESCALATED] payment_failure_ratio (warning \u2192 critical)",
                       "[DE-ESCALATED] payment_failure_ratio (critical \u2192 warning)",
                       "[NO DATA] payment_failure_ratio (warning)",
                       "[RESOLVED] payment_failure_ratio"]
    subjects = [m["Subject"].strip() for m in smtp.messages]
    assert [re.findall(r"\[[A-Z -]+\]", s)[0] for s in subjects] == [
        "[FIRING]", "[ESCALATED]", "[DE-ESCALATED]", "[NO DATA]", "[RESOLVED]"]
    assert all(s.startswith("[Lookout] ") and "payment_failure_ratio" in s for s in subjects)


# -- since when, for how long --------------------------------------------------------------------

def test_firing_says_since_the_first_crossing_and_the_resolve_how_long_it_lasted(lookout, webhook, smtp):
    shop = lookout(FAILURES)
    start = shop.clock.now
    for v in (0.2, 0.2, 0.2, 0.2, 0.01):  # pending at 0 s, firing at 30 s, resolved at 60 s
        shop.step(v)
    fired, resolved = webhook.delivered
    when = "\n".join(_slack_texts(fired))
    assert f"since {fmt_time(start)}" in when and f"firing since {fmt_time(start + 30)}" in when
    assert resolved["blocks"][0]["text"]["text"] == "[RESOLVED] payment_failure_ratio"
    lasted = f"lasted 1m00s, from {fmt_time(start)} to {fmt_time(start + 60)}"
    assert lasted in "\n".join(_slack_texts(resolved))
    assert "Resolved: Payment failures at 20.0 % on shop" in "\n".join(_slack_texts(resolved))
    mail = smtp.messages[1]
    assert mail["Subject"].strip().startswith("[Lookout] [RESOLVED]")
    assert f"When: {lasted}" in _plain(mail)


# -- never without a severity ---------------------------------------------------------------------

def test_a_no_data_notification_carries_a_severity_in_labels_header_and_body(lookout, webhook, smtp):
    shop = lookout(FAILURES)
    shop.step(0.01, advance=120)  # fine, then nothing for two minutes: past the 60 s window
    shop.step(None)
    [body] = webhook.delivered
    assert body["blocks"][0]["text"]["text"] == "[NO DATA] payment_failure_ratio (warning)"
    assert "`severity=warning`" in json.dumps(body)
    assert "severity=warning" in _plain(smtp.messages[0])
    assert "severity=," not in _plain(smtp.messages[0]) and not _plain(smtp.messages[0]).count("severity=\n")
