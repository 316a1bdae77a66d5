"""ENGINE's alerting tables, and ``migrate`` that creates them and NOTIFY's.

``alert_state`` holds one row per alert instance (rule + series labels) and
is only ever updated with compare-and-set on ``version``; ``alert_transitions``
is the history of every state change; ``alert_events`` the notifiable ones,
written in the same transaction as the state change, consumed by NOTIFY.
Times are float epoch seconds.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
    select,
    text,
)
from sqlalchemy.engine import Engine

from alerts.metadata import metadata
from store.engine import Writer, insert_for

SCHEMA_VERSION = 1
_PG_LOCK = 0x414C5254  # "ALRT"

alert_state = Table(
    "alert_state", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("alert_key", String(1000), nullable=False, unique=True),
    Column("rule", String(200), nullable=False, index=True),
    Column("labels", Text, nullable=False),       # JSON: series + rule labels + alertname, severity
    Column("series_labels", Text, nullable=False),  # JSON: the series' own labels
    Column("state", String(10), nullable=False),  # ok|pending|firing|stale|flapping
    Column("inner_state", String(10), nullable=False),  # beneath flapping
    Column("severity", String(10)),
    Column("value", Float),
    Column("pending_since", Float),
    Column("firing_since", Float),
    Column("clear_since", Float),
    Column("flapping_since", Float),
    Column("flaps", Text, nullable=False, default="[]"),  # JSON [[at, event, severity], ...]
    Column("last_change", Float),
    Column("last_eval", Float),
    Column("annotations", Text, nullable=False, default="{}"),
    Column("thresholds", Text, nullable=False, default="{}"),
    Column("silenced_by", Integer),
    Column("suppressed_by", String(200)),
    Column("muted_reason", Text),
    Column("notified", Boolean, nullable=False, default=False),  # the open episode was sent unmuted
    Column("acked_by", String(200)),
    Column("acked_at", Float),
    Column("version", Integer, nullable=False, default=0),
)

alert_transitions = Table(
    "alert_transitions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("alert_id", Integer, nullable=False),
    Column("alert_key", String(1000), nullable=False),
    Column("rule", String(200), nullable=False),
    Column("at", Float, nullable=False),
    Column("from_state", String(10), nullable=False),
    Column("to_state", String(10), nullable=False),
    Column("from_severity", String(10)),
    Column("to_severity", String(10)),
    Column("value", Float),
    Column("event", String(30)),
)
Index("ix_alert_transitions_alert", alert_transitions.c.alert_id, alert_transitions.c.at)
Index("ix_alert_transitions_at", alert_transitions.c.at)

alert_events = Table(
    "alert_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("alert_id", Integer, nullable=False),
    Column("alert_key", String(1000), nullable=False),
    Column("event", String(30), nullable=False),
    Column("severity", String(10)),
    Column("previous_severity", String(10)),
    Column("value", Float),
    Column("at", Float, nullable=False),
    Column("payload", Text, nullable=False),
    Column("muted", Boolean, nullable=False, default=False),
    Column("muted_reason", Text),
    Column("suppressed_by", String(200)),
    Column("processed_at", Float),
)
Index("ix_alert_events_unprocessed", alert_events.c.processed_at, alert_events.c.id)
Index("ix_alert_events_alert", alert_events.c.alert_id, alert_events.c.id)

silences = Table(
    "silences", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("matchers", Text, nullable=False),  # JSON [{name, op, value}, ...]
    Column("starts_at", Float, nullable=False),
    Column("ends_at", Float, nullable=False),
    Column("author", String(200), nullable=False),
    Column("comment", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expired_at", Float),  # set when expired early through the API
)

acks = Table(
    "acks", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("alert_id", Integer, nullable=False, index=True),
    Column("alert_key", String(1000), nullable=False),
    Column("who", String(200), nullable=False),
    Column("at", Float, nullable=False),
    Column("severity", String(10)),
    Column("comment", Text),
)

# The latest evaluation of each promise (promises/evaluate.py Status as JSON), saved by
# the cycle that evaluated the promise's alert: cards, /api/promises and the report
# read it, so they show the numbers the alert was decided on.
promise_status = Table(
    "promise_status", metadata,
    Column("promise_id", String(200), primary_key=True),
    Column("alert_key", String(1000), nullable=False),
    Column("at", Float, nullable=False),
    Column("status", Text, nullable=False),
)

alerts_meta = Table(
    "alerts_meta", metadata,
    Column("key", String(100), primary_key=True),
    Column("value", Text, nullable=False),
)

TABLES = (alert_state, alert_transitions, alert_events, silences, acks, promise_status, alerts_meta)


def writer_of(store: Any) -> Writer:
    """The store's write-transaction helper (one lock per process on SQLite)."""
    w = getattr(store, "writer", None) or getattr(store, "_writer", None)
    return w if w is not None else Writer(store.engine)


def migrate(engine: Engine, writer: Writer | None = None) -> int:
    """Create ENGINE's and NOTIFY's tables if missing; idempotent, safe from two processes."""
    # Imported here, not at the top: importing any alerts.notify module runs its package
    # __init__, which loads the notifier, which reads ENGINE's tables from this module.
    from alerts.notify.schema import TABLES as NOTIFY_TABLES

    writer = writer or Writer(engine)
    with writer.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})
        metadata.create_all(conn, tables=[*TABLES, *NOTIFY_TABLES], checkfirst=True)
        version = conn.execute(select(alerts_meta.c.value).where(alerts_meta.c.key == "schema_version")).scalar()
        if version is None or int(version) < SCHEMA_VERSION:
            stmt = insert_for(conn, alerts_meta).values(key="schema_version", value=str(SCHEMA_VERSION))
            conn.execute(stmt.on_conflict_do_update(index_elements=[alerts_meta.c.key],
                                                    set_={"value": stmt.excluded.value}))
    return SCHEMA_VERSION
