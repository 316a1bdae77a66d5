"""Fixtures for alerting tests: an engine factory and readers of what the engine wrote.

``store`` (migrated, on SQLite and on PostgreSQL) and ``clock`` (a FakeClock at T0) come from
tests/conftest.py.
"""
from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from alerts.config import AlertingConfig
from alerts.engine import AlertEngine
from alerts.schema import alert_events, alert_state, alert_transitions
from core.samples import Sample
from store import Store
from tests.support import T0, FakeClock  # noqa: F401 - test modules import T0 from here


def alerting(*rules: dict[str, Any], **extra: Any) -> AlertingConfig:
    return AlertingConfig.model_validate({"rules": list(rules), **extra})


def rule(name: str = "high", metric: str = "m", **kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"name": name, "expr": {"metric": metric, "window": 60.0}, "warning": 1.0,
                            "critical": 2.0}
    base.update(kw)
    return base


@pytest.fixture
def make_engine(store: Store, clock: FakeClock):
    def make(config: AlertingConfig) -> AlertEngine:
        engine = AlertEngine(config, store, clock=clock)
        engine.migrate()
        return engine
    return make


def put(store: Store, clock: FakeClock, value: float, name: str = "m", **labels: str) -> None:
    store.write_samples(clock.now, [Sample(name, value, labels=labels or {"target": "db"})])


def events(store: Store) -> list[Any]:
    with store.engine.connect() as conn:
        return conn.execute(select(alert_events).order_by(alert_events.c.id)).all()


def kinds(store: Store, unmuted_only: bool = False) -> list[str]:
    return [e.event for e in events(store) if not (unmuted_only and e.muted)]


def payload(event: Any) -> dict[str, Any]:
    return json.loads(event.payload)


def states(store: Store) -> list[Any]:
    with store.engine.connect() as conn:
        return conn.execute(select(alert_state).order_by(alert_state.c.id)).all()


def transitions(store: Store) -> list[Any]:
    with store.engine.connect() as conn:
        return conn.execute(select(alert_transitions).order_by(alert_transitions.c.id)).all()
