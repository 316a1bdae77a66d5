"""Forward to an existing Alertmanager: ``POST /api/v2/alerts``.

Alertmanager identifies an alert by its label set, so posting the same
alert again is idempotent (a retry after a crash is harmless). A firing
alert carries ``endsAt`` = now + 4 resend intervals, as Prometheus does: if
Lookout stops re-sending, Alertmanager resolves it by itself. A resolve
carries ``endsAt`` = the time it resolved.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

import requests

from alerts.notify.config import AlertmanagerChannel
from alerts.notify.slack import _retry_after
from alerts.notify.transport import Item, Notification, Transport, TransportError


def _iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, tz=dt.UTC).isoformat().replace("+00:00", "Z")


def am_alert(item: Item, now: float, resend: float) -> dict[str, Any]:
    labels = {"alertname": item.rule, **{k: str(v) for k, v in item.labels.items()}}
    annotations = {k: str(v) for k, v in item.annotations.items() if v}
    annotations["value"] = item.threshold_text()
    out: dict[str, Any] = {"labels": labels, "annotations": annotations,
                           "startsAt": _iso(item.firing_since or item.at)}
    out["endsAt"] = _iso(item.at if item.closing else now + 4 * resend)
    if item.links.get("dashboard"):
        out["generatorURL"] = item.links["dashboard"]
    return out


class AlertmanagerTransport(Transport):
    channel = "alertmanager"

    def __init__(self, cfg: AlertmanagerChannel, session: requests.Session | None = None) -> None:
        self.cfg = cfg
        self.session = session or requests.Session()

    def notify(self, notification: Notification) -> None:
        # Several rows of one alert in a batch: only its latest state counts.
        latest: dict[str, Item] = {}
        for item in notification.items:
            if item.kind == "dead_letter":
                continue
            latest[item.alert_key or str(item.outbox_id)] = item
        if not latest:
            return
        body = [am_alert(i, notification.now, self.cfg.resend_interval) for i in latest.values()]
        url = self.cfg.url.rstrip("/") + "/api/v2/alerts"
        try:
            r = self.session.post(url, json=body, timeout=self.cfg.timeout)
        except requests.Timeout:
            raise TransportError("Alertmanager timed out") from None
        except requests.RequestException as exc:
            raise TransportError(f"Alertmanager unreachable: {exc.__class__.__name__}") from None
        if r.status_code < 300:
            return
        raise TransportError(f"Alertmanager answered {r.status_code} {r.text[:200].strip()}",
                             permanent=400 <= r.status_code < 500 and r.status_code != 429,
                             retry_after=_retry_after(r.headers.get("Retry-After")))

    def close(self) -> None:
        self.session.close()
