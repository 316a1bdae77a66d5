"""The Router: alert_events -> outbox rows, and repeats. Everything durable, nothing sent here.

Each event is handled in one transaction that first marks it processed with
compare-and-set (``processed_at IS NULL``) and then writes its outbox rows:
either both happen or neither, and of two routers only one gets the event.
Repeats are claimed the same way on ``notify_groups.version``. Which
receivers get an event, and with which timing, is decided in routing.py.
"""
from __future__ import annotations

import hashlib
import json
import logging
import uuid
from typing import Any

from sqlalchemy import and_, insert, select, update
from sqlalchemy.engine import Connection

from alerts.notify.config import NotificationsConfig
from alerts.notify.routing import Delivery, deliveries_for, group_key
from alerts.notify.schema import notify_alerts, notify_groups, outbox, pending_row
from alerts.notify.transport import CLOSING
from alerts.schema import alert_events, alert_state
from alerts.statemachine import episode_start

log = logging.getLogger("lookout.notify")

REPEATABLE_STATES = ("firing", "stale", "flapping")
BATCH = 500


def _json(v: Any) -> Any:
    if v is None:
        return {}
    return json.loads(v) if isinstance(v, str) else v


def event_item(ev: Any) -> dict[str, Any]:
    """What a message needs from an alert_events row, kept in the outbox row."""
    p = _json(ev.payload)
    return {"alert_id": ev.alert_id, "alert_key": ev.alert_key, "rule": p.get("rule", ""),
            "labels": p.get("labels") or {}, "annotations": p.get("annotations") or {},
            "thresholds": p.get("thresholds") or {}, "severity": ev.severity,
            "previous_severity": ev.previous_severity, "value": ev.value, "at": ev.at,
            "firing_since": p.get("firing_since"), "started_at": p.get("started_at"),
            "extra": {k: v for k, v in p.items() if k in ("transitions", "timeline", "suppressed_count",
                                                           "suppressed", "metric", "series", "message")}}


def state_item(st: Any, now: float) -> dict[str, Any]:
    return {"alert_id": st.id, "alert_key": st.alert_key, "rule": st.rule, "labels": _json(st.labels),
            "annotations": _json(st.annotations), "thresholds": _json(st.thresholds),
            "severity": st.severity, "previous_severity": None, "value": st.value, "at": now,
            "firing_since": st.firing_since,
            "started_at": episode_start(st.inner_state, st.pending_since, st.firing_since, st.last_change),
            "extra": {"state": st.state}}


def thread_token(receiver: str, gk: str, now: float) -> str:
    h = hashlib.sha256(f"{receiver}\x00{gk}".encode()).hexdigest()[:16]
    return f"{h}.{int(now)}.{uuid.uuid4().hex[:8]}"


class Router:
    def __init__(self, cfg: NotificationsConfig, begin: Any, engine: Any) -> None:
        self.cfg = cfg
        self.begin = begin
        self.engine = engine

    # -- events ---------------------------------------------------------------
    def route(self, now: float) -> int:
        with self.engine.connect() as conn:
            events = conn.execute(select(alert_events).where(alert_events.c.processed_at.is_(None))
                                  .order_by(alert_events.c.id).limit(BATCH)).all()
        n = 0
        for ev in events:
            try:
                n += self._route_event(ev, now)
            except Exception:
                log.exception("routing alert event %s failed; will retry", ev.id)
        return n + self.repeats(now)

    def _route_event(self, ev: Any, now: float) -> int:
        item = event_item(ev)
        with self.begin() as conn:
            won = conn.execute(update(alert_events).where(and_(alert_events.c.id == ev.id,
                                                               alert_events.c.processed_at.is_(None)))
                               .values(processed_at=now)).rowcount
            if won != 1:
                return 0
            n = 0
            for delivery in deliveries_for(self.cfg, item["rule"], item["labels"]):
                n += self._enqueue(conn, delivery, ev.event, item, now, event_id=ev.id, muted=bool(ev.muted))
            return n

    def _enqueue(self, conn: Connection, d: Delivery, kind: str, item: dict[str, Any], now: float,
                 event_id: int | None, muted: bool = False) -> int:
        r = d.receiver.name
        gk, gl = group_key(item["rule"], item["labels"], d.group_by)
        closing = kind in CLOSING
        na = conn.execute(select(notify_alerts).where(and_(notify_alerts.c.receiver == r,
                                                           notify_alerts.c.alert_key == item["alert_key"]))).first()
        was_open = bool(na and na.open)
        if closing and not was_open:
            return 0  # this receiver never heard it fire: nothing to resolve
        send = not muted and (d.send_resolved or not closing)
        if not muted or closing:
            # A muted resolve still closes the alert for the receiver (silently).
            self._mark_alert(conn, na, r, gk, item, kind, now, open_=not closing)
        if not send:
            self._close_group_if_empty(conn, r, gk)
            return 0
        g = conn.execute(select(notify_groups).where(and_(notify_groups.c.receiver == r,
                                                          notify_groups.c.group_key == gk))).first()
        opens_thread = g is None or not g.open
        if g is None:
            due = now + d.group_wait
            token = thread_token(r, gk, now)
            conn.execute(insert(notify_groups).values(
                receiver=r, group_key=gk, group_labels=json.dumps(gl, sort_keys=True), opened_at=now,
                thread_id=token, last_due_at=due, last_notified_at=now, open=True,
                repeat_interval=d.repeat_interval, ack_stops_repeats=d.ack_stops_repeats, version=0))
        else:
            if opens_thread:
                due, token = now + d.group_wait, thread_token(r, gk, now)
            else:
                # Join a batch still waiting, else wait group_interval after the last one.
                due = g.last_due_at if g.last_due_at >= now else max(now, g.last_due_at + d.group_interval)
                token = g.thread_id
            conn.execute(update(notify_groups).where(notify_groups.c.id == g.id).values(
                open=True, thread_id=token, last_due_at=due, last_notified_at=now,
                opened_at=now if opens_thread else g.opened_at, repeat_interval=d.repeat_interval,
                ack_stops_repeats=d.ack_stops_repeats, version=g.version + 1))
        payload = {**item, "group_labels": gl, "thread": token, "opens_thread": opens_thread}
        conn.execute(insert(outbox).values(pending_row(
            r, d.receiver.channel, gk, kind, payload, now, due, alert_id=item["alert_id"],
            alert_key=item["alert_key"], event_id=event_id)))
        if closing:
            self._close_group_if_empty(conn, r, gk)
        return 1

    def _mark_alert(self, conn: Connection, na: Any, r: str, gk: str, item: dict[str, Any], kind: str, now: float,
                    open_: bool) -> None:
        values = {"alert_id": item["alert_id"], "group_key": gk, "open": open_, "last_kind": kind,
                  "updated_at": now}
        if na is None:
            conn.execute(insert(notify_alerts).values(receiver=r, alert_key=item["alert_key"], **values))
        else:
            conn.execute(update(notify_alerts).where(and_(notify_alerts.c.receiver == r,
                                                          notify_alerts.c.alert_key == item["alert_key"]))
                         .values(**values))

    def _close_group_if_empty(self, conn: Connection, r: str, gk: str) -> None:
        still = conn.execute(select(notify_alerts.c.alert_key).where(and_(
            notify_alerts.c.receiver == r, notify_alerts.c.group_key == gk, notify_alerts.c.open)).limit(1)).first()
        if still is None:
            conn.execute(update(notify_groups).where(and_(notify_groups.c.receiver == r,
                                                          notify_groups.c.group_key == gk))
                         .values(open=False))

    # -- repeats --------------------------------------------------------------
    def repeats(self, now: float) -> int:
        """'Still firing since ...' for open groups quiet for repeat_interval, unless acked or muted."""
        with self.engine.connect() as conn:
            groups = conn.execute(select(notify_groups).where(and_(
                notify_groups.c.open, notify_groups.c.last_notified_at + notify_groups.c.repeat_interval <= now))
            ).all()
        known = {r.name for r in self.cfg.receivers}
        n = 0
        for g in groups:
            if g.receiver not in known:
                continue
            with self.begin() as conn:
                won = conn.execute(update(notify_groups).where(and_(
                    notify_groups.c.id == g.id, notify_groups.c.version == g.version))
                    .values(last_notified_at=now, version=g.version + 1)).rowcount
                if won != 1:
                    continue
                q = (select(alert_state).join(notify_alerts, notify_alerts.c.alert_key == alert_state.c.alert_key)
                     .where(and_(notify_alerts.c.receiver == g.receiver, notify_alerts.c.group_key == g.group_key,
                                 notify_alerts.c.open, alert_state.c.state.in_(REPEATABLE_STATES),
                                 alert_state.c.silenced_by.is_(None), alert_state.c.suppressed_by.is_(None)))
                     .order_by(alert_state.c.id))
                if g.ack_stops_repeats:
                    q = q.where(alert_state.c.acked_at.is_(None))
                channel = self.cfg.receiver(g.receiver).channel
                due = max(now, g.last_due_at)
                for st in conn.execute(q).all():
                    payload = {**state_item(st, now), "group_labels": _json(g.group_labels),
                               "thread": g.thread_id, "opens_thread": False}
                    conn.execute(insert(outbox).values(pending_row(
                        g.receiver, channel, g.group_key, "repeat", payload, now, due, alert_id=st.id,
                        alert_key=st.alert_key)))
                    n += 1
        return n
