"""NOTIFY's tables, on the shared ``alerts.metadata`` (``alerts.schema.migrate`` creates them).

- ``outbox``: one row per (alert event or repeat, receiver), written before any
  attempt. ``status`` pending -> sending (claimed with compare-and-set on
  ``version``, leased until ``lease_until``) -> sent | dead. A row still
  'sending' after its lease belonged to a dispatcher that died: it is retried.
- ``delivery_attempts``: every attempt with its outcome, for the dashboard.
- ``notify_groups``: per (receiver, group key) timing state: when the group
  opened, its email thread id, when it was last notified (repeats).
- ``notify_alerts``: per (receiver, alert) whether the receiver was told the
  alert is open, so a resolve goes only where the firing went.
- ``sink_messages``: what a ``sink`` receiver (the demo's) would have sent to
  Slack (the webhook's JSON body) and by email (subject, text and HTML), one
  row per delivery; shown at ``/demo/notifications`` and ``/api/sink``.
"""
from __future__ import annotations

import json
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
    UniqueConstraint,
)

from alerts.metadata import metadata

outbox = Table(
    "outbox", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("receiver", String(200), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("group_key", Text, nullable=False),
    Column("alert_id", Integer),
    Column("alert_key", Text),
    Column("event_id", Integer),  # alert_events.id; NULL for repeats and self-alerts
    Column("kind", String(30), nullable=False),  # firing|escalated|...|repeat|dead_letter
    Column("payload", Text, nullable=False),  # JSON: what the message says about this alert
    Column("created_at", Float, nullable=False),
    Column("due_at", Float, nullable=False),  # next attempt not before
    Column("status", String(10), nullable=False, default="pending"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("claimed_by", String(200)),
    Column("lease_until", Float),
    Column("last_error", Text),
    Column("sent_at", Float),
    Column("dead_at", Float),
    Column("message_id", String(300)),
    Column("version", Integer, nullable=False, default=0),
    UniqueConstraint("event_id", "receiver", name="uq_outbox_event_receiver"),
)
ix_outbox_receiver = Index("ix_outbox_receiver_status", outbox.c.receiver, outbox.c.status, outbox.c.id)
ix_outbox_status = Index("ix_outbox_status_due", outbox.c.status, outbox.c.due_at)

delivery_attempts = Table(
    "delivery_attempts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("outbox_id", Integer, nullable=False, index=True),
    Column("receiver", String(200), nullable=False),
    Column("started_at", Float, nullable=False),
    Column("duration", Float, nullable=False),
    Column("outcome", String(10), nullable=False),  # ok|transient|permanent
    Column("error", Text),
    Column("dispatcher", String(200)),
)

notify_groups = Table(
    "notify_groups", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("receiver", String(200), nullable=False),
    Column("group_key", Text, nullable=False),
    Column("group_labels", Text, nullable=False),
    Column("opened_at", Float, nullable=False),
    Column("thread_id", String(300), nullable=False),
    Column("last_due_at", Float, nullable=False),  # latest batch scheduled (group_interval)
    Column("last_notified_at", Float, nullable=False),  # repeat_interval counts from here
    Column("open", Boolean, nullable=False, default=True),
    Column("repeat_interval", Float, nullable=False),
    Column("ack_stops_repeats", Boolean, nullable=False, default=True),
    Column("version", Integer, nullable=False, default=0),
    UniqueConstraint("receiver", "group_key", name="uq_notify_groups"),
)

notify_alerts = Table(
    "notify_alerts", metadata,
    Column("receiver", String(200), primary_key=True),
    Column("alert_key", String(1000), primary_key=True),
    Column("alert_id", Integer),
    Column("group_key", Text, nullable=False),
    Column("open", Boolean, nullable=False),
    Column("last_kind", String(30), nullable=False),
    Column("updated_at", Float, nullable=False),
)

sink_messages = Table(
    "sink_messages", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("receiver", String(200), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("message_id", String(300), nullable=False),  # a retried batch keeps it: stored once
    Column("title", Text, nullable=False),
    Column("kinds", String(300), nullable=False),  # the items' kinds, comma-separated: firing,resolved
    Column("rules", Text, nullable=False),  # JSON list of rule names
    Column("alert_keys", Text, nullable=False),  # JSON list
    Column("slack", Text, nullable=False),  # JSON: the webhook body the slack transport would POST
    Column("email_subject", Text, nullable=False),
    Column("email_headers", Text, nullable=False),  # JSON: From, To, Message-ID, In-Reply-To, ...
    Column("email_text", Text, nullable=False),
    Column("email_html", Text, nullable=False),
)
ix_sink_receiver = Index("ix_sink_messages_receiver", sink_messages.c.receiver, sink_messages.c.id)

TABLES = (outbox, delivery_attempts, notify_groups, notify_alerts, sink_messages)


def pending_row(receiver: str, channel: str, group_key: str, kind: str, payload: dict[str, Any], now: float,
                due: float, alert_id: int | None = None, alert_key: str | None = None,
                event_id: int | None = None) -> dict[str, Any]:
    """The values of a new outbox row, not yet attempted (router and dispatcher both write them)."""
    return {"receiver": receiver, "channel": channel, "group_key": group_key, "alert_id": alert_id,
            "alert_key": alert_key, "event_id": event_id, "kind": kind, "payload": json.dumps(payload, default=str),
            "created_at": now, "due_at": due, "status": "pending", "attempts": 0, "version": 0}
