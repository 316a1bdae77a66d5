"""The Notifier facade: routing, the durable outbox, the dispatcher and the channels.

    notifier = Notifier(config, store)
    notifier.route()     # unprocessed alert_events + due repeats -> outbox rows
    notifier.dispatch()  # deliver due outbox rows once (retries are bookkept in the rows)

Both are safe to run from several processes at once (compare-and-set) and
after a crash (rows left 'sending' are retried once their lease ends).
Nothing here does I/O at construction.
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import requests
from sqlalchemy import select

from alerts.notify.channels.base import ChannelContext
from alerts.notify.channels.email import SmtpFactory
from alerts.notify.config import NotificationsConfig
from alerts.notify.dispatcher import Dispatcher, requeue
from alerts.notify.links import AckSigner, dashboard_url, image_url, secret_from_env
from alerts.notify.router import Router
from alerts.notify.schema import outbox
from alerts.notify.transport import Item, Transport
from alerts.schema import writer_of

LINK_BEFORE = 1800.0  # dashboard/graph range starts this long before the alert fired
LINK_AFTER = 300.0


class Notifier:
    def __init__(self, config: Any, store: Any, clock: Callable[[], float] = time.time,
                 session: requests.Session | None = None, smtp_factory: SmtpFactory | None = None,
                 *, public_url: str | None = None, env: dict[str, str] | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if isinstance(config, NotificationsConfig):
            self.cfg, rules, server = config, [], None
        else:
            alerting = getattr(config, "alerting", None)
            self.cfg = getattr(alerting, "notifications", None) or NotificationsConfig()
            rules, server = list(getattr(alerting, "rules", []) or []), getattr(config, "server", None)
        self.public_url = public_url or getattr(server, "public_url", None)
        self._metrics = {r.name: next(iter(r.exprs())).metric for r in rules if hasattr(r, "exprs")}
        self.store = store
        self.clock = clock
        begin = writer_of(store).begin
        self.signer = AckSigner(secret_from_env(self.cfg.ack_secret_env, env), self.cfg.ack_link_ttl, clock=clock)
        # One transport per receiver, built by its channel (channels/registry.py says which class).
        self.transports: dict[str, Transport] = {
            r.name: r.settings.transport(ChannelContext(r.name, self.cfg, begin, session, smtp_factory))
            for r in self.cfg.receivers}
        domain = self.cfg.smtp.message_id_domain if self.cfg.smtp else "lookout.local"
        self.router = Router(self.cfg, begin, store.engine)
        self.dispatcher = Dispatcher(self.cfg, begin, store.engine, self.transports, self._links, clock,
                                     domain=domain, sleep=sleep)
        self._begin = begin

    # -- the two jobs -----------------------------------------------------------
    def route(self, now: float | None = None) -> int:
        """Turn unprocessed alert_events and due repeats into outbox rows; returns rows written."""
        return self.router.route(self.clock() if now is None else now)

    def dispatch(self, now: float | None = None) -> int:
        """Deliver due outbox rows once; returns rows delivered."""
        return self.dispatcher.dispatch(now)

    # -- links ------------------------------------------------------------------
    def ack_link(self, alert_id: int, who: str, alert_key: str | None = None) -> str:
        token = self.signer.sign(alert_id, alert_key, who)
        base = (self.public_url or "").rstrip("/")
        return f"{base}/ack/{token}"

    def verify_ack_token(self, token: str, alert_id: int | None = None) -> tuple[int, str]:
        """(alert_id, who), or AckLinkError if invalid, expired or minted for another alert."""
        return self.signer.verify(token, alert_id)

    def _links(self, item: Item, now: float) -> dict[str, str]:
        links: dict[str, str] = {}
        if item.annotations.get("runbook_url"):
            links["runbook"] = item.annotations["runbook_url"]
        metric = item.payload.get("metric") or self._metrics.get(item.rule)
        since = item.since or item.at
        start, end = since - LINK_BEFORE, (item.at if item.closing else now) + LINK_AFTER
        series = {k: v for k, v in item.labels.items() if k not in ("alertname",)}
        for key, url in (("dashboard", dashboard_url(self.public_url, item.alert_id, metric, series, start, end)),
                         ("image", image_url(self.public_url, metric, series, start, end))):
            if url:
                links[key] = url
        if (item.alert_id is not None and not item.closing and item.kind != "dead_letter"
                and self.signer.enabled and self.public_url):
            links["ack"] = self.ack_link(item.alert_id, "link", item.alert_key)
        return links

    # -- dashboard / API ----------------------------------------------------------
    def outbox_rows(self, status: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
        q = select(outbox).order_by(outbox.c.id.desc()).limit(limit)
        if status:
            q = q.where(outbox.c.status == status)
        with self.store.engine.connect() as conn:
            rows = conn.execute(q).all()
        out = []
        for r in rows:
            p = json.loads(r.payload)
            out.append({"id": r.id, "receiver": r.receiver, "channel": r.channel, "kind": r.kind,
                        "status": r.status, "rule": p.get("rule"), "labels": p.get("labels"),
                        "alert_id": r.alert_id, "event_id": r.event_id, "created_at": r.created_at,
                        "due_at": r.due_at, "attempts": r.attempts, "last_error": r.last_error,
                        "sent_at": r.sent_at, "dead_at": r.dead_at, "message_id": r.message_id})
        return out

    def requeue(self, outbox_id: int) -> bool:
        return requeue(self._begin, outbox_id, self.clock())

    def close(self) -> None:
        for t in self.transports.values():
            t.close()
