"""Alert history retention: delete what is older than ``alerting.history_retention``.

What goes, once older than the cutoff (now - retention):

- ``alert_transitions``: changed before the cutoff.
- ``alert_events``: raised and routed before the cutoff; an event still to be
  routed stays, whatever its age.
- ``outbox``: sent or dead-lettered before the cutoff, with its
  ``delivery_attempts``; pending and sending rows stay, whatever their age.
- ``sink_messages``: stored before the cutoff.
- ``silences``: ended before the cutoff.
- ``alert_state``: ok since before the cutoff (its last change; a row that never
  changed, its last write) and no event of it still to be routed; pending,
  firing, stale and flapping alerts stay. An alert whose series still exists
  gets a fresh ok row at the next evaluation.
- ``acks``: made before the cutoff, of alerts whose row is gone.
- ``notify_alerts``: closed for its receiver before the cutoff, or, when the
  configured ``receivers`` are given, of a receiver no longer configured and
  last updated before the cutoff (nothing will ever be sent to it again).
- ``notify_groups``: closed (or of a receiver no longer configured), last
  scheduled and notified before the cutoff, with no ``notify_alerts`` row and
  no pending or sending outbox row in the group.

Like sample retention (store/rollup.py), deletes run in transactions of at most
``CHUNK`` rows, so SQLite's write lock is never held for long. Each DELETE
repeats its conditions: a row that changed between the id query and the delete
(an alert firing again, a dead letter requeued) stays. Each table keeps its
newest row, whatever its age, so SQLite never hands a deleted id out again.

    counts = prune(store, retention=90 * 86400, now=time.time())
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from sqlalchemy import Table, and_, delete, exists, func, not_, or_, select, tuple_
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ColumnElement

from alerts.notify.schema import delivery_attempts, notify_alerts, notify_groups, outbox, sink_messages
from alerts.schema import acks, alert_events, alert_state, alert_transitions, silences, writer_of
from core.durations import format_duration
from store.engine import Writer

log = logging.getLogger("lookout.alerts")

CHUNK = 5000
PRUNE_SECONDS = 3600.0
FINAL = ("sent", "dead")
UNFINISHED = ("pending", "sending")
Then = Callable[[Connection, list[int]], None]  # runs in a chunk's transaction with the ids it deleted


def prune(store: Any, retention: float, now: float, *, routing_lock: AbstractContextManager[Any] | None = None,
          chunk: int = CHUNK, receivers: Iterable[str] | None = None) -> dict[str, int]:
    """Delete alert history older than ``retention`` seconds; rows deleted per table.

    ``routing_lock`` is held while closed ``notify_alerts``/``notify_groups`` rows
    are deleted: the router reads such a row and then updates it without
    compare-and-set, so the two must not interleave (wiring passes the lock its
    route job holds).
    """
    cutoff = now - retention
    writer = writer_of(store)
    ev, st = alert_events, alert_state
    out: dict[str, int] = {}

    def run(table: Table, cond: ColumnElement[bool], then: Then | None = None) -> None:
        out[table.name] = _delete_by_id(writer, table, cond, chunk, then)

    run(alert_transitions, alert_transitions.c.at < cutoff)
    run(ev, and_(ev.c.processed_at.is_not(None), ev.c.processed_at < cutoff, ev.c.at < cutoff))
    attempts = 0

    def with_attempts(conn: Connection, outbox_ids: list[int]) -> None:
        nonlocal attempts
        n = conn.execute(delete(delivery_attempts).where(delivery_attempts.c.outbox_id.in_(outbox_ids))).rowcount
        attempts += max(n or 0, 0)

    run(outbox, and_(outbox.c.status.in_(FINAL),
                     func.coalesce(outbox.c.sent_at, outbox.c.dead_at, outbox.c.created_at) < cutoff), with_attempts)
    out[delivery_attempts.name] = attempts
    run(sink_messages, sink_messages.c.created_at < cutoff)
    run(silences, silences.c.ends_at < cutoff)
    unrouted = exists().where(ev.c.alert_id == st.c.id, ev.c.processed_at.is_(None))
    run(st, and_(st.c.state == "ok", st.c.inner_state == "ok",
                 func.coalesce(st.c.last_change, st.c.last_eval) < cutoff, not_(unrouted)))
    run(acks, and_(acks.c.at < cutoff, not_(exists().where(st.c.id == acks.c.alert_id))))

    with routing_lock if routing_lock is not None else nullcontext():
        na, g = notify_alerts, notify_groups
        known = sorted(receivers) if receivers is not None else None
        na_done = not_(na.c.open) if known is None else or_(not_(na.c.open), na.c.receiver.not_in(known))
        g_done = not_(g.c.open) if known is None else or_(not_(g.c.open), g.c.receiver.not_in(known))
        out[na.name] = _delete_notify_alerts(writer, and_(na_done, na.c.updated_at < cutoff), chunk)
        in_group = exists().where(na.c.receiver == g.c.receiver, na.c.group_key == g.c.group_key)
        queued = exists().where(outbox.c.receiver == g.c.receiver, outbox.c.group_key == g.c.group_key,
                                outbox.c.status.in_(UNFINISHED))
        run(g, and_(g_done, g.c.last_due_at < cutoff, g.c.last_notified_at < cutoff,
                    not_(in_group), not_(queued)))

    if any(out.values()):
        log.info("pruned alert history older than %s: %s", format_duration(retention),
                 ", ".join(f"{n} {name}" for name, n in out.items() if n))
    return out


def _delete_by_id(writer: Writer, table: Table, cond: ColumnElement[bool], chunk: int, then: Then | None) -> int:
    # The newest row stays: SQLite (these tables have no AUTOINCREMENT) numbers a
    # new row max(id) + 1, so deleting the newest would hand its id out again, and
    # ids are referenced: outbox.event_id (unique per receiver), alert ids in acks
    # and outbox rows, /api/sink?since_id= polls by id.
    with writer.engine.connect() as conn:
        newest = conn.execute(select(func.max(table.c.id))).scalar()
    if newest is None:
        return 0
    cond = and_(cond, table.c.id < newest)
    deleted = 0
    while True:
        with writer.begin() as conn:
            ids = list(conn.execute(select(table.c.id).where(cond).order_by(table.c.id).limit(chunk)).scalars())
            if not ids:
                return deleted
            gone = list(conn.execute(delete(table).where(table.c.id.in_(ids), cond).returning(table.c.id)).scalars())
            if gone and then is not None:
                then(conn, gone)
        deleted += len(gone)
        if len(ids) < chunk:
            return deleted


def _delete_notify_alerts(writer: Writer, cond: ColumnElement[bool], chunk: int) -> int:
    na = notify_alerts
    deleted = 0
    while True:
        with writer.begin() as conn:
            keys = [tuple(k) for k in conn.execute(select(na.c.receiver, na.c.alert_key).where(cond).limit(chunk))]
            if not keys:
                return deleted
            n = conn.execute(delete(na).where(tuple_(na.c.receiver, na.c.alert_key).in_(keys), cond)).rowcount
        deleted += max(n or 0, 0)
        if len(keys) < chunk:
            return deleted
