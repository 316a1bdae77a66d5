"""Fixtures: a real store, real SMTP / Alertmanager servers, and an event writer that writes
alert_state + alert_events rows the way ENGINE does (the contract in alerts/schema.py).
The Slack ``webhook`` fixture is tests/conftest.py's."""
from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import insert, select, update

from alerts.notify import Notifier
from alerts.notify.config import NotificationsConfig
from alerts.schema import alert_events, alert_state, migrate, writer_of
from store.engine import Writer, create_store_engine
from tests.alerts.notify.servers import (
    Alertmanager,
    SmtpServer,
    WebhookServer,
    self_signed_cert,
)

SECRET_ENV = {"LOOKOUT_SECRET_KEY": "test-signing-key-0123456789"}
PUBLIC_URL = "https://lookout.example.com"
THRESHOLDS = {"op": ">", "warning": 0.05, "critical": 0.1, "clear": 0.04}


class Store:
    """The part of store.Store the notifier uses (engine + writer), on a real SQLite file.

    Kept apart from ``store.Store`` so these tests do not depend on every collector
    module importing cleanly (store imports composition.config, which imports the registry);
    the end-to-end tests use the real Store.
    """

    def __init__(self, url: str) -> None:
        self.engine = create_store_engine(url)
        self.writer = Writer(self.engine)

    def close(self) -> None:
        self.engine.dispose()


@pytest.fixture
def db(tmp_path) -> Iterator[Store]:
    """Named ``db``: tests/alerts/conftest.py's ``store`` is ENGINE's (parametrized, fake clock)."""
    s = Store(f"sqlite:///{tmp_path / 'lookout.db'}")
    migrate(s.engine, writer_of(s))
    yield s
    s.close()


@pytest.fixture(scope="session")
def cert(tmp_path_factory) -> tuple:
    return self_signed_cert(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def smtp(cert) -> Iterator[SmtpServer]:
    server = SmtpServer(cert=cert[0], key=cert[1])
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def alertmanager(tmp_path_factory) -> Iterator[Alertmanager]:
    am = Alertmanager(tmp_path_factory.mktemp("alertmanager"))
    yield am
    am.stop()


def notifications(webhook: WebhookServer | None = None, smtp: SmtpServer | None = None,
                  am_url: str | None = None, **extra: Any) -> NotificationsConfig:
    receivers: list[dict[str, Any]] = []
    if webhook is not None:
        receivers.append({"name": "slack", "slack": {"webhook_url": webhook.url, "min_interval": 0.2}})
    if smtp is not None:
        receivers.append({"name": "mail", "email": {"to": ["oncall@example.com", "db-team@example.com"]}})
    if am_url is not None:
        receivers.append({"name": "am", "alertmanager": {"url": am_url, "resend_interval": 60.0}})
    data: dict[str, Any] = {"receivers": receivers,
                            "retry": {"initial_backoff": 0.05, "max_backoff": 1.0, "max_attempts": 6}}
    if smtp is not None:
        data["smtp"] = {"host": "127.0.0.1", "port": smtp.port, "security": "starttls", "username": smtp.user,
                        "password": smtp.password, "from": "lookout@example.com", "ca_file": str(smtp.cert),
                        "timeout": 5.0, "message_id_domain": "lookout.example.com"}
    data.update(extra)
    return NotificationsConfig.model_validate(data)


def make_notifier(cfg: NotificationsConfig, store: Store, **kw: Any) -> Notifier:
    return Notifier(cfg, store, public_url=kw.pop("public_url", PUBLIC_URL), env=kw.pop("env", SECRET_ENV), **kw)


def record_event(store: Store, event: str, *, rule: str = "payment_failure_ratio",
                 labels: dict[str, str] | None = None, severity: str | None = "critical",
                 previous_severity: str | None = None, value: float = 0.12, at: float | None = None,
                 firing_since: float | None = None, muted: bool = False, state: str | None = None) -> int:
    """Upsert alert_state and append one alert_events row in one transaction, as ENGINE does."""
    at = time.time() if at is None else at
    series = {"target": "shop-db", "team": "payments", **(labels or {})}
    full = {**series, "alertname": rule, **({"severity": severity} if severity else {})}
    key = rule + json.dumps(series, sort_keys=True, separators=(",", ":"))
    annotations = {"summary": f"Payment failures at {value:.0%} on shop-db",
                   "description": "Share of failed payments over 5m.",
                   "runbook_url": "https://runbooks.example.com/payments"}
    closing = event in ("resolved", "flapping_ended")
    state = state or ("ok" if closing else "firing")
    since = firing_since if firing_since is not None else at
    with writer_of(store).begin() as conn:
        row = conn.execute(select(alert_state).where(alert_state.c.alert_key == key)).first()
        values = {"rule": rule, "labels": json.dumps(full), "series_labels": json.dumps(series), "state": state,
                  "inner_state": state, "severity": severity,
                  "value": value, "firing_since": None if closing else since, "last_change": at, "last_eval": at,
                  "annotations": json.dumps(annotations), "thresholds": json.dumps(THRESHOLDS),
                  "silenced_by": 1 if muted else None}
        if row is None:
            alert_id = conn.execute(insert(alert_state).values(alert_key=key, version=0, **values)
                                    ).inserted_primary_key[0]
        else:
            alert_id = row.id
            if event == "escalated" or closing:
                values.update(acked_at=None, acked_by=None)
            conn.execute(update(alert_state).where(alert_state.c.id == alert_id)
                         .values(version=row.version + 1, **values))
        payload = {"rule": rule, "labels": full, "annotations": annotations, "thresholds": THRESHOLDS,
                   "firing_since": since, "value": value, "muted": muted,
                   "muted_reason": "silence 1" if muted else None}
        conn.execute(insert(alert_events).values(alert_id=alert_id, alert_key=key, event=event, severity=severity,
                                                 previous_severity=previous_severity, value=value, at=at,
                                                 payload=json.dumps(payload), muted=muted))
    return int(alert_id)


def ack(store: Store, alert_id: int, who: str = "alice", at: float | None = None) -> None:
    with writer_of(store).begin() as conn:
        conn.execute(update(alert_state).where(alert_state.c.id == alert_id)
                     .values(acked_by=who, acked_at=time.time() if at is None else at))


def drain(notifier: Notifier, until: Any, timeout: float = 15.0) -> None:
    """route + dispatch like the 1 s job does, faster, until ``until()`` is true."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        notifier.route()
        notifier.dispatch()
        if until():
            return
        time.sleep(0.02)
    raise AssertionError("condition not reached in time")
