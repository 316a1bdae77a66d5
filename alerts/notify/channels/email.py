"""Email over SMTP: one transaction for all recipients, threaded per alert group.

The subject says the state first, as Alertmanager's does: ``[Lookout]
[FIRING] payment_failure_ratio (team=payments)``, then ``[RESOLVED] ...``; a
person scanning the inbox must tell a page from its all-clear. Every message
of the group carries ``References``/``In-Reply-To`` pointing at the group's
thread id, and the first one *is* the thread id, so clients that thread by
those headers (Thunderbird, Apple Mail, Outlook) keep the group together;
Gmail, which also wants the same subject, shows a resolve as its own
conversation: the price of a subject that says the state. ``Message-ID`` is
derived from the outbox rows, so a retry after a crash resends the same
Message-ID and clients collapse the duplicate. The title is said once: the
heading of the message, not again above the alert it describes.
"""
from __future__ import annotations

import html
import logging
import smtplib
import ssl
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import formatdate
from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field

from alerts.notify.channels.base import Channel, ChannelContext
from alerts.notify.transport import Item, Notification, Transport, TransportError
from core.configmodel import ConfigModel
from core.durations import Duration

if TYPE_CHECKING:
    from alerts.notify.config import NotificationsConfig

log = logging.getLogger("lookout.notify.email")


class SmtpConfig(ConfigModel):
    """The ``notifications.smtp`` section: the mail server every email receiver sends through."""

    host: str = Field(description="SMTP server host name.")
    port: int = Field(587, ge=1, le=65535, description="SMTP server port.")
    security: Literal["starttls", "tls", "none"] = Field(
        "starttls", description="starttls (port 587), tls = implicit TLS (port 465), none (local relay only).")
    username: str | None = Field(None, description="SMTP user name; no login without it.")
    password: str | None = Field(None, description="As `${ENV}`.")
    from_: str = Field("lookout@localhost", alias="from", description="From address of every message.")
    ca_file: str | None = Field(None, description="CA bundle to verify the server (default: system CAs).")
    timeout: Duration = Field(10.0, description="Timeout of one SMTP conversation.")
    message_id_domain: str = Field("lookout.local", description="Right-hand side of Message-IDs.")

    model_config = ConfigModel.model_config | {"populate_by_name": True}


SmtpFactory = Callable[[SmtpConfig], smtplib.SMTP]


class EmailChannel(Channel):
    description: ClassVar[str] = "Email through the `smtp` section."

    to: list[str] = Field(min_length=1, description="Recipients; one SMTP transaction for all of them.")

    def transport(self, ctx: ChannelContext) -> EmailTransport:
        smtp = ctx.notifications.smtp
        assert smtp is not None  # check_config refused the config otherwise
        return EmailTransport(self, smtp, ctx.smtp_factory)

    def check_config(self, notifications: NotificationsConfig) -> None:
        if notifications.smtp is None:
            raise ValueError("an email receiver needs the smtp section")


def subject(n: Notification) -> str:
    """``[Lookout] [FIRING] payment_failure_ratio (team=payments)``: the state, the rules, the group."""
    rules = sorted({i.rule for i in n.items})
    labels = ", ".join(f"{k}={v}" for k, v in sorted(n.group_labels.items()) if k not in ("alertname", "rule"))
    return f"[Lookout] {n.state_tag} {', '.join(rules)}" + (f" ({labels})" if labels else "")


def _text_item(i: Item, now: float, headline: str | None) -> str:
    lines = ([headline] if headline else []) + [i.summary]
    if i.annotations.get("description"):
        lines.append(i.annotations["description"])
    lines += [f"Value: {i.threshold_text()}", f"When: {i.since_text(now)}",
              "Labels: " + ", ".join(f"{k}={v}" for k, v in i.shown_labels())]
    for key, name in (("runbook", "Runbook"), ("dashboard", "Dashboard"), ("image", "Graph"),
                      ("ack", "Acknowledge")):
        if i.links.get(key):
            lines.append(f"{name}: {i.links[key]}")
    return "\n".join(lines)


def _html_item(i: Item, now: float, headline: str | None) -> str:
    e = html.escape
    rows = "".join(f"<tr><th align='left'>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in (
        ("Value", i.threshold_text()), ("When", i.since_text(now)),
        ("Labels", ", ".join(f"{k}={v}" for k, v in i.shown_labels()))))
    links = " | ".join(f"<a href='{e(i.links[k])}'>{t}</a>" for k, t in (
        ("runbook", "Runbook"), ("dashboard", "Dashboard"), ("image", "Graph"), ("ack", "Acknowledge"))
        if i.links.get(k))
    desc = f"<p>{e(i.annotations['description'])}</p>" if i.annotations.get("description") else ""
    return (f"<div style='border-left:6px solid {i.colour};padding-left:10px;margin-bottom:16px'>"
            + (f"<h3 style='margin:0'>{e(headline)}</h3>" if headline else "")
            + f"<p>{e(i.summary)}</p>{desc}"
            f"<table>{rows}</table><p>{links}</p></div>")


def build_message(n: Notification, cfg: SmtpConfig, to: list[str]) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = subject(n)
    msg["From"] = cfg.from_
    msg["To"] = ", ".join(to)
    msg["Date"] = formatdate(n.created_at, usegmt=True)
    msg["Message-ID"] = n.message_id
    if n.message_id != n.thread_id:
        msg["In-Reply-To"] = n.thread_id
        msg["References"] = n.thread_id
    # RFC 3834: auto-responders must not answer, and filters can tell a machine sent it.
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Lookout-Group"] = n.group_key[:900]
    text = n.title + "\n\n" + "\n\n".join(_text_item(i, n.now, n.item_headline(i)) for i in n.items)
    msg.set_content(text + "\n\n-- \nSent by Lookout.\n")
    body = "".join(_html_item(i, n.now, n.item_headline(i)) for i in n.items)
    msg.add_alternative(f"<html><body><h2>{html.escape(n.title)}</h2>{body}"
                        f"<p style='color:#888'>Sent by Lookout.</p></body></html>", subtype="html")
    return msg


def default_smtp_factory(cfg: SmtpConfig) -> smtplib.SMTP:
    context = ssl.create_default_context(cafile=cfg.ca_file)
    if cfg.security == "tls":
        return smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout, context=context)
    smtp = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout)
    if cfg.security == "starttls":
        smtp.starttls(context=context)
    return smtp


class EmailTransport(Transport):
    def __init__(self, channel: EmailChannel, smtp: SmtpConfig, factory: SmtpFactory | None = None) -> None:
        self.to = list(channel.to)
        self.smtp = smtp
        self.factory = factory or default_smtp_factory

    def notify(self, notification: Notification) -> None:
        msg = build_message(notification, self.smtp, self.to)
        try:
            conn = self.factory(self.smtp)
            try:
                if self.smtp.username:
                    conn.login(self.smtp.username, self.smtp.password or "")
                refused = conn.send_message(msg, from_addr=self.smtp.from_, to_addrs=self.to)
            finally:
                try:
                    conn.quit()
                except (smtplib.SMTPException, OSError):
                    conn.close()
        except smtplib.SMTPAuthenticationError as exc:
            raise TransportError(f"SMTP authentication failed ({exc.smtp_code})", permanent=True) from None
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [c for c, _ in exc.recipients.values()]
            raise TransportError(f"SMTP refused every recipient ({codes})",
                                 permanent=all(c >= 500 for c in codes)) from None
        except smtplib.SMTPResponseException as exc:
            raise TransportError(f"SMTP error {exc.smtp_code}: {exc.smtp_error[:200]!r}",
                                 permanent=exc.smtp_code >= 500) from None
        except ssl.SSLCertVerificationError as exc:
            raise TransportError(f"SMTP TLS certificate rejected: {exc.verify_message}", permanent=True) from None
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            raise TransportError(f"SMTP server {self.smtp.host}:{self.smtp.port} unreachable: "
                                 f"{exc.__class__.__name__}: {exc}") from None
        if refused:
            # Accepted for the others: retrying would duplicate it for them.
            log.warning("SMTP refused some recipients of %s: %s", notification.message_id, sorted(refused))
