"""A local sink: what Slack and email would have received, kept as rows.

The demo has no Slack workspace and no mail server, yet a newcomer should see
the messages an on-call engineer would get. A ``sink`` receiver renders each
notification with the real builders (``slack.build_payload`` and
``email.build_message``, so the sink shows exactly what would be sent) and
stores the result in ``sink_messages``; :func:`messages` reads them back for
``/demo/notifications`` and ``/api/sink`` (demo/sink_page.py).

    receivers:
      - name: demo-sink
        sink: {}          # keep: 500, email_to: [oncall@example.com]
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field
from sqlalchemy import and_, delete, func, select

from alerts.notify.channels.base import Begin, Channel, ChannelContext
from alerts.notify.channels.email import SmtpConfig, build_message
from alerts.notify.channels.slack import build_payload
from alerts.notify.schema import sink_messages
from alerts.notify.transport import Notification, Transport, TransportError

if TYPE_CHECKING:
    from alerts.notify.config import NotificationsConfig

MAX_LIMIT = 500
_HEADERS = ("From", "To", "Date", "Message-ID", "In-Reply-To", "References", "Auto-Submitted")


class SinkChannel(Channel):
    """A local sink (the demo's): stores what Slack and email would have received, shown at /demo/notifications."""

    description: ClassVar[str] = "Keep messages locally, shown at /demo/notifications (the demo's receiver)."

    keep: int = Field(500, ge=1, le=100_000, description="Messages kept per sink receiver; older ones are deleted.")
    email_to: list[str] = Field(default_factory=lambda: ["oncall@example.com"],
                                description="Recipients shown in the rendered email (nothing is sent).")

    def transport(self, ctx: ChannelContext) -> SinkTransport:
        return SinkTransport(ctx.receiver, self, ctx.begin, ctx.notifications.smtp)


def render(n: Notification, smtp: SmtpConfig, to: list[str]) -> dict[str, Any]:
    """The row for one notification: Slack's webhook body and the email's parts."""
    msg = build_message(n, smtp, to)
    text_part, html_part = msg.get_body(("plain",)), msg.get_body(("html",))
    latest = n.latest()
    return {
        "title": n.title,
        "kinds": ",".join(sorted({i.kind for i in n.items}))[:300],
        "rules": json.dumps(sorted({i.rule for i in latest})),
        "alert_keys": json.dumps([i.alert_key for i in latest if i.alert_key]),
        "slack": json.dumps(build_payload(n)),
        "email_subject": str(msg["Subject"]),
        "email_headers": json.dumps({h: str(msg[h]) for h in _HEADERS if msg[h] is not None}),
        "email_text": text_part.get_content() if text_part is not None else "",
        "email_html": html_part.get_content() if html_part is not None else "",
    }


class SinkTransport(Transport):
    def __init__(self, receiver: str, cfg: SinkChannel, begin: Begin, smtp: SmtpConfig | None = None) -> None:
        self.receiver = receiver
        self.cfg = cfg
        self.begin = begin
        # The email as the configured SMTP sender would write it, else a placeholder sender.
        self.smtp = smtp or SmtpConfig.model_validate({"host": "localhost", "from": "lookout@localhost"})

    def notify(self, notification: Notification) -> None:
        try:
            row = render(notification, self.smtp, list(self.cfg.email_to))
        except Exception as exc:  # noqa: BLE001 - what cannot be rendered now will not render on a retry
            raise TransportError(f"sink cannot render the message: {exc.__class__.__name__}: {exc}",
                                 permanent=True) from None
        t = sink_messages
        with self.begin() as conn:
            seen = conn.execute(select(t.c.id).where(and_(t.c.receiver == self.receiver,
                                                          t.c.message_id == notification.message_id))).first()
            if seen is not None:  # a retry of a batch already stored (crash between store and bookkeeping)
                return
            conn.execute(t.insert().values(receiver=self.receiver, created_at=notification.now,
                                           message_id=notification.message_id, **row))
            count = conn.execute(select(func.count()).select_from(t).where(t.c.receiver == self.receiver)).scalar()
            if count > self.cfg.keep:
                cutoff = conn.execute(select(t.c.id).where(t.c.receiver == self.receiver).order_by(t.c.id.desc())
                                      .offset(self.cfg.keep).limit(1)).scalar()
                conn.execute(delete(t).where(and_(t.c.receiver == self.receiver, t.c.id <= cutoff)))


def receiver_names(cfg: NotificationsConfig) -> list[str]:
    """The names of the sink receivers in the config (the demo page lists them)."""
    return [r.name for r in cfg.receivers if isinstance(r.settings, SinkChannel)]


def transports(cfg: NotificationsConfig, begin: Begin) -> dict[str, Transport]:
    """A transport for every sink receiver in the config (the notifier builds these itself)."""
    return {r.name: r.settings.transport(ChannelContext(r.name, cfg, begin))
            for r in cfg.receivers if isinstance(r.settings, SinkChannel)}


def messages(engine: Any, limit: int = 100, receiver: str | None = None,
             since_id: int | None = None) -> list[dict[str, Any]]:
    """Stored messages, newest first, at most ``limit`` (bounded by MAX_LIMIT)."""
    t = sink_messages
    q = select(t).order_by(t.c.id.desc()).limit(max(1, min(MAX_LIMIT, limit)))
    if receiver:
        q = q.where(t.c.receiver == receiver)
    if since_id is not None:
        q = q.where(t.c.id > since_id)
    with engine.connect() as conn:
        rows = conn.execute(q).all()
    return [{"id": r.id, "receiver": r.receiver, "created_at": r.created_at, "message_id": r.message_id,
             "title": r.title, "kinds": r.kinds.split(",") if r.kinds else [], "rules": json.loads(r.rules),
             "alert_keys": json.loads(r.alert_keys),
             "slack": json.loads(r.slack),
             "email": {"subject": r.email_subject, "headers": json.loads(r.email_headers),
                       "text": r.email_text, "html": r.email_html}}
            for r in rows]
