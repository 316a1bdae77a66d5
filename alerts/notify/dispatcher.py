"""Delivers due outbox rows: claim (compare-and-set), send, record, retry or dead-letter.

Order: per receiver, rows go out in creation order. The oldest unfinished row
of a receiver is its head; while the head waits (backoff, Retry-After,
group_wait) nothing later of that receiver is sent, so a resolve never
overtakes its firing. Due rows of the head's group ride along in one message.

Delivery is at-least-once. A row is claimed (``status='sending'``, a lease,
``version+1`` where the version is unchanged) in one transaction, sent, and
then marked sent in another. A process that dies between Slack's 200 and that
commit leaves the row 'sending'; after the lease it is sent again. Slack
incoming webhooks have no idempotency key, so that crash window (milliseconds)
can duplicate one Slack message; the alternative, marking sent before
sending, would lose pages instead. Email retries keep the same Message-ID (clients
drop the copy); Alertmanager deduplicates by label set.
"""
from __future__ import annotations

import json
import logging
import os
import socket
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import and_, insert, or_, select, update

from alerts.notify.config import NotificationsConfig
from alerts.notify.routing import group_key
from alerts.notify.schema import delivery_attempts, outbox, pending_row
from alerts.notify.transport import Item, Notification, Transport, TransportError

log = logging.getLogger("lookout.notify")

MAX_ROWS_PER_MESSAGE = 100
MAX_MESSAGES_PER_RECEIVER = 20  # per dispatch() call; the job runs again a second later


class _Lost(Exception):
    """Another dispatcher claimed the row first."""


class Dispatcher:
    def __init__(self, cfg: NotificationsConfig, begin: Any, engine: Any, transports: dict[str, Transport],
                 build_links: Callable[[Item, float], dict[str, str]], clock: Callable[[], float],
                 domain: str = "lookout.local", sleep: Callable[[float], None] = time.sleep) -> None:
        self.cfg = cfg
        self.begin = begin
        self.engine = engine
        self.transports = transports
        self.build_links = build_links
        self.clock = clock
        self.domain = domain
        self.sleep = sleep
        self.me = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._last_send: dict[str, float] = {}  # receiver -> monotonic time of its last attempt

    def dispatch(self, now: float | None = None) -> int:
        sent = 0
        for recv in self.cfg.receivers:
            for _ in range(MAX_MESSAGES_PER_RECEIVER):
                t = self.clock() if now is None else now
                rows = self._claim(recv.name, t)
                if not rows:
                    break
                ok = self._deliver(recv.name, rows, t if now is not None else None)
                sent += len(rows) if ok else 0
                if not ok:
                    break
        return sent

    # -- claiming ---------------------------------------------------------------
    def _claim(self, receiver: str, now: float) -> list[Any]:
        unfinished = or_(outbox.c.status == "pending",
                         and_(outbox.c.status == "sending", outbox.c.lease_until <= now))
        try:
            with self.begin() as conn:
                head = conn.execute(select(outbox).where(and_(
                    outbox.c.receiver == receiver, outbox.c.status.in_(("pending", "sending"))))
                    .order_by(outbox.c.id).limit(1)).first()
                if head is None or head.due_at > now:
                    return []
                if head.status == "sending" and head.lease_until > now:
                    return []  # another dispatcher is on it
                rows = conn.execute(select(outbox).where(and_(
                    outbox.c.receiver == receiver, outbox.c.group_key == head.group_key, unfinished,
                    outbox.c.due_at <= now)).order_by(outbox.c.id).limit(MAX_ROWS_PER_MESSAGE)).all()
                mid = self._message_id(rows)
                for row in rows:
                    won = conn.execute(update(outbox).where(and_(outbox.c.id == row.id,
                                                                 outbox.c.version == row.version))
                                       .values(status="sending", claimed_by=self.me,
                                               lease_until=now + self.cfg.retry.lease,
                                               attempts=row.attempts + 1, version=row.version + 1,
                                               message_id=mid)).rowcount
                    if won != 1:
                        raise _Lost()
                return conn.execute(select(outbox).where(outbox.c.id.in_([r.id for r in rows]))
                                    .order_by(outbox.c.id)).all()
        except _Lost:
            return []

    def _message_id(self, rows: list[Any]) -> str:
        first = json.loads(rows[0].payload)
        thread = first.get("thread") or "none"
        if any(json.loads(r.payload).get("opens_thread") for r in rows):
            return f"<lookout.thread.{thread}@{self.domain}>"
        return rows[0].message_id or f"<lookout.{rows[0].id}.{thread}@{self.domain}>"

    # -- delivery -----------------------------------------------------------------
    def _deliver(self, receiver: str, rows: list[Any], fixed_now: float | None) -> bool:
        recv = self.cfg.receiver(receiver)
        now = self.clock() if fixed_now is None else fixed_now
        n = self._notification(receiver, rows, now)
        # The channel's own rate limit (Slack: one message per second per webhook).
        wait = self._last_send.get(receiver, -1e9) + recv.settings.min_send_interval() - time.monotonic()
        if wait > 0:
            self.sleep(wait)
        started = time.monotonic()
        error: TransportError | None = None
        try:
            self.transports[receiver].notify(n)
        except TransportError as exc:
            error = exc
        except Exception as exc:
            log.exception("transport %s crashed", receiver)
            error = TransportError(f"internal error: {exc.__class__.__name__}: {exc}")
        finally:
            self._last_send[receiver] = time.monotonic()
        self._record(receiver, rows, error, started, fixed_now)
        return error is None

    def _notification(self, receiver: str, rows: list[Any], now: float) -> Notification:
        items = []
        for r in rows:
            p = json.loads(r.payload)
            item = Item(outbox_id=r.id, kind=r.kind, alert_id=p.get("alert_id"), alert_key=p.get("alert_key"),
                        rule=p.get("rule", ""), labels=p.get("labels") or {}, annotations=p.get("annotations") or {},
                        thresholds=p.get("thresholds") or {}, severity=p.get("severity"),
                        previous_severity=p.get("previous_severity"), value=p.get("value"),
                        at=float(p.get("at") or r.created_at), firing_since=p.get("firing_since"),
                        payload=p.get("extra") or {}, started_at=p.get("started_at"))
            item.links = self.build_links(item, now)
            items.append(item)
        first = json.loads(rows[0].payload)
        thread = f"<lookout.thread.{first.get('thread') or 'none'}@{self.domain}>"
        return Notification(receiver=receiver, group_key=rows[0].group_key,
                            group_labels=first.get("group_labels") or {}, items=items,
                            message_id=rows[0].message_id, thread_id=thread, created_at=rows[0].created_at,
                            now=now, dashboard_url=items[0].links.get("dashboard"))

    def _record(self, receiver: str, rows: list[Any], error: TransportError | None, started: float,
                fixed_now: float | None) -> None:
        now = self.clock() if fixed_now is None else fixed_now
        duration = time.monotonic() - started
        policy = self.cfg.retry
        outcome = "ok" if error is None else "permanent" if error.permanent else "transient"
        dead: list[Any] = []
        with self.begin() as conn:
            for r in rows:
                conn.execute(insert(delivery_attempts).values(
                    outbox_id=r.id, receiver=receiver, started_at=now - duration, duration=duration,
                    outcome=outcome, error=None if error is None else error.message[:2000], dispatcher=self.me))
                mine = and_(outbox.c.id == r.id, outbox.c.version == r.version)
                if error is None:
                    values: dict[str, Any] = {"status": "sent", "sent_at": now, "lease_until": None,
                                              "last_error": None}
                elif error.permanent or r.attempts >= policy.max_attempts:
                    values = {"status": "dead", "dead_at": now, "lease_until": None, "last_error": error.message}
                    dead.append(r)
                else:
                    delay = max(policy.backoff(r.attempts), error.retry_after or 0.0)
                    values = {"status": "pending", "due_at": now + delay, "lease_until": None,
                              "last_error": error.message}
                conn.execute(update(outbox).where(mine).values(version=r.version + 1, **values))
            if dead:
                self._self_alert(conn, receiver, dead, error, now)
        if error is not None:
            log.warning("notification to %s failed (%s, attempt %d): %s", receiver, outcome,
                        rows[0].attempts, error.message)

    def _self_alert(self, conn: Any, receiver: str, dead: list[Any], error: TransportError | None,
                    now: float) -> None:
        """Tell every other receiver that ``receiver`` lost messages (never about a self-alert)."""
        originals = [r for r in dead if r.kind != "dead_letter"]
        if not originals:
            return
        rules = sorted({json.loads(r.payload).get("rule", "") for r in originals})
        msg = (f"Lookout could not deliver {len(originals)} notification(s) to {receiver} "
               f"({', '.join(rules)}): {error.message if error else 'unknown error'}. "
               "See /api/outbox?status=dead.")
        labels = {"receiver": receiver, "severity": "critical"}
        for other in self.cfg.receivers:
            if other.name == receiver:
                continue
            gk, gl = group_key("lookout_notification_failed", labels, ("rule", "receiver"))
            payload = {"alert_id": None, "alert_key": None, "rule": "lookout_notification_failed",
                       "labels": labels, "annotations": {"summary": msg}, "thresholds": {},
                       "severity": "critical", "previous_severity": None, "value": float(len(originals)),
                       "at": now, "firing_since": None,
                       "extra": {"message": msg, "outbox_ids": [r.id for r in originals]},
                       "group_labels": gl, "thread": f"dead.{receiver}", "opens_thread": False}
            conn.execute(insert(outbox).values(pending_row(other.name, other.channel, gk, "dead_letter", payload,
                                                           now, now)))
        log.error("dead-lettered %d notification(s) to %s: %s", len(originals), receiver,
                  error.message if error else "")


def requeue(begin: Any, outbox_id: int, now: float) -> bool:
    """Put a dead letter back in the queue (from the dashboard / API)."""
    with begin() as conn:
        return conn.execute(update(outbox).where(and_(outbox.c.id == outbox_id, outbox.c.status == "dead"))
                            .values(status="pending", due_at=now, attempts=0, dead_at=None,
                                    version=outbox.c.version + 1)).rowcount == 1

