"""The shared transport of channels that POST JSON over HTTP (Slack, Alertmanager).

Failures say whether a retry can help (healthchecks.io's ``TransportError``):
timeouts, connection errors, 429 and 5xx are transient, retried with backoff
and not before the server's ``Retry-After``; any other 4xx is permanent (a
wrong URL, a revoked webhook, a rejected body do not heal by themselves), so
the row is dead-lettered at once instead of paging nobody for hours.
"""
from __future__ import annotations

import time
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar

import requests

from alerts.notify.transport import Transport, TransportError


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - (time.time() if now is None else now))
    except (TypeError, ValueError):
        return None


class HttpTransport(Transport):
    """POST a JSON body to ``url``; raise :class:`TransportError` unless the answer is 2xx."""

    service: ClassVar[str] = "HTTP"  # who answers, in error messages: "Slack answered 404 ..."
    endpoint: ClassVar[str] = "endpoint"  # what is reached: "Slack webhook timed out"

    def __init__(self, url: str, timeout: float, session: requests.Session | None = None) -> None:
        self.url = url
        self.timeout = timeout
        self.session = session or requests.Session()

    def post_json(self, body: Any) -> requests.Response:
        try:
            r = self.session.post(self.url, json=body, timeout=self.timeout)
        except requests.Timeout:
            raise TransportError(f"{self.service} {self.endpoint} timed out") from None
        except requests.RequestException as exc:
            raise TransportError(f"{self.service} {self.endpoint} unreachable: {exc.__class__.__name__}") from None
        if r.status_code < 300:
            return r
        detail = r.text[:200].strip()
        wait = retry_after(r.headers.get("Retry-After"))
        if r.status_code == 429:
            raise TransportError(f"{self.service} rate-limited the {self.endpoint} (429 {detail})", retry_after=wait)
        raise TransportError(f"{self.service} answered {r.status_code} {detail}",
                             permanent=400 <= r.status_code < 500, retry_after=wait)

    def close(self) -> None:
        self.session.close()
