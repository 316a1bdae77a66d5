"""Forward to an existing Alertmanager: ``POST /api/v2/alerts``.

Alertmanager identifies an alert by its label set, so posting the same
alert again is idempotent (a retry after a crash is harmless). A firing
alert carries ``endsAt`` = now + 4 resend intervals, as Prometheus does: if
Lookout stops re-sending, Alertmanager resolves it by itself. A resolve
carries ``endsAt`` = the time it resolved. ``startsAt`` is when the value
first crossed (the event's ``started_at``), on the resolve too: the event
keeps the start the state machine clears, so Alertmanager's notifications of a
resolved alert show the incident's real span.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

import requests
from pydantic import Field

from alerts.notify.channels.base import Channel, ChannelContext
from alerts.notify.channels.http import HttpTransport
from alerts.notify.transport import Item, Notification
from core.durations import Duration


class AlertmanagerChannel(Channel):
    description: ClassVar[str] = "Forward to an Alertmanager."
    # Alertmanager forgets alerts it stops hearing about: acks (which are for people)
    # must not stop the re-sends, it re-sends on its own clock, and it always gets the resolve.
    ack_stops_repeats: ClassVar[bool] = False

    url: str = Field(description="Base URL of Alertmanager, e.g. http://alertmanager:9093.")
    timeout: Duration = Field(10.0, description="HTTP timeout of one attempt.")
    resend_interval: Duration = Field(
        60.0, description="Firing alerts are re-sent this often (Alertmanager resolves alerts it stops hearing about).")

    def transport(self, ctx: ChannelContext) -> AlertmanagerTransport:
        return AlertmanagerTransport(self, ctx.session)

    def repeat_interval_for(self, configured: float) -> float:
        return self.resend_interval

    def send_resolved_for(self, configured: bool) -> bool:
        return True


def _iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, tz=dt.UTC).isoformat().replace("+00:00", "Z")


def am_alert(item: Item, now: float, resend: float) -> dict[str, Any]:
    labels = {"alertname": item.rule, **{k: str(v) for k, v in item.labels.items()}}
    annotations = {k: str(v) for k, v in item.annotations.items() if v}
    annotations["value"] = item.threshold_text()
    out: dict[str, Any] = {"labels": labels, "annotations": annotations,
                           "startsAt": _iso(item.since or item.at)}
    out["endsAt"] = _iso(item.at if item.closing else now + 4 * resend)
    if item.links.get("dashboard"):
        out["generatorURL"] = item.links["dashboard"]
    return out


class AlertmanagerTransport(HttpTransport):
    service: ClassVar[str] = "Alertmanager"
    endpoint: ClassVar[str] = "API"

    def __init__(self, cfg: AlertmanagerChannel, session: requests.Session | None = None) -> None:
        super().__init__(cfg.url.rstrip("/") + "/api/v2/alerts", cfg.timeout, session)
        self.cfg = cfg

    def notify(self, notification: Notification) -> None:
        # Several rows of one alert in a batch: only its latest state counts.
        latest: dict[str, Item] = {}
        for item in notification.items:
            if item.kind == "dead_letter":
                continue
            latest[item.alert_key or str(item.outbox_id)] = item
        if latest:
            self.post_json([am_alert(i, notification.now, self.cfg.resend_interval) for i in latest.values()])
