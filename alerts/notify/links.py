"""Signed acknowledgement links and dashboard/graph links for messages.

An ack token is ``itsdangerous.URLSafeTimedSerializer`` over
``{"a": alert_id, "k": alert_key, "w": who}``: changing the alert id breaks
the signature, and :func:`verify` with ``alert_id`` refuses a token minted
for another alert. Tokens expire after ``ack_link_ttl``. The signing key
comes from the env var named by ``ack_secret_env``; without it messages
carry no ack link (and verification fails), rather than a forgeable one.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from urllib.parse import quote, urlencode

from itsdangerous import BadSignature, SignatureExpired, Signer, TimestampSigner, URLSafeTimedSerializer

SALT = "lookout.alert-ack"


class AckLinkError(Exception):
    """The token is invalid, expired or for another alert; ``reason`` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def secret_from_env(env_name: str, env: dict[str, str] | None = None) -> str | None:
    value = (os.environ if env is None else env).get(env_name)
    return value or None


class AckSigner:
    def __init__(self, secret: str | None, ttl: float, clock: Callable[[], float] | None = None) -> None:
        self.secret = secret
        self.ttl = ttl
        self._clock = clock

    @property
    def enabled(self) -> bool:
        return bool(self.secret)

    def _serializer(self) -> URLSafeTimedSerializer:
        if not self.secret:
            raise AckLinkError("ack links are disabled: the signing key env var is not set")
        return _Serializer(self.secret, salt=SALT, clock=self._clock)

    def sign(self, alert_id: int, alert_key: str | None, who: str) -> str:
        return self._serializer().dumps({"a": int(alert_id), "k": alert_key, "w": who})

    def verify(self, token: str, alert_id: int | None = None) -> tuple[int, str]:
        try:
            # Token ages are whole seconds: age > ttl exactly when age > int(ttl).
            data = self._serializer().loads(token, max_age=int(self.ttl))
        except SignatureExpired:
            raise AckLinkError("this acknowledgement link has expired") from None
        except BadSignature:
            raise AckLinkError("this acknowledgement link is not valid") from None
        if alert_id is not None and int(data["a"]) != int(alert_id):
            raise AckLinkError("this acknowledgement link is for another alert")
        return int(data["a"]), str(data.get("w") or "ack link")


class _Serializer(URLSafeTimedSerializer):
    """Takes the notifier's clock so tests can travel in time."""

    def __init__(self, secret: str, salt: str, clock: Callable[[], float] | None = None) -> None:
        super().__init__(secret, salt=salt)
        self._clock = clock

    def make_signer(self, salt: str | bytes | None = None) -> Signer:
        signer = super().make_signer(salt)
        if self._clock is not None and isinstance(signer, TimestampSigner):
            clock = self._clock
            signer.get_timestamp = lambda: int(clock())  # type: ignore[method-assign]
        return signer


def dashboard_url(public_url: str | None, alert_id: int | None, metric: str | None,
                  labels: dict[str, str], start: float, end: float) -> str | None:
    """The alerts page focused on this alert and its panel at [start, end]."""
    if not public_url:
        return None
    q: dict[str, object] = {"from": int(start), "to": int(end)}
    if alert_id is not None:
        q["alert"] = alert_id
    if metric:
        q["metric"] = metric
    q.update({f"label.{k}": v for k, v in sorted(labels.items()) if k != "severity"})
    return f"{public_url.rstrip('/')}/alerts?{urlencode(q, quote_via=quote)}"


def image_url(public_url: str | None, metric: str | None, labels: dict[str, str],
              start: float, end: float) -> str | None:
    """PNG of the series around the alert (rendered by /api/render)."""
    if not public_url or not metric:
        return None
    q: dict[str, object] = {"metric": metric, "from": int(start), "to": int(end)}
    q.update({f"label.{k}": v for k, v in sorted(labels.items()) if k != "severity"})
    return f"{public_url.rstrip('/')}/api/render?{urlencode(q, quote_via=quote)}"
