"""Slack incoming webhooks: Block Kit inside a coloured attachment, with a text fallback.

Limits (api.slack.com/reference/block-kit): 50 blocks per message, 3000
characters per section text, 150 per header, 40 000 for ``text``. Past
them the message says what it left out instead of being rejected.
Incoming webhooks have no idempotency key: see dispatcher.py for the trade-off.
"""
from __future__ import annotations

from typing import Any

import requests

from alerts.notify.config import SlackChannel
from alerts.notify.transport import Item, Notification, Transport, TransportError

MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_HEADER = 150
MAX_TEXT = 40_000
_ITEM_BLOCKS = 4  # section + fields + context + actions


def cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    note = " \u2026 (truncated)"
    return text[: limit - len(note)] + note


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def item_blocks(item: Item, now: float) -> list[dict[str, Any]]:
    body = f"*{_esc(item.headline)}*\n{_esc(item.summary)}"
    if item.annotations.get("description"):
        body += f"\n{_esc(item.annotations['description'])}"
    labels = ", ".join(f"`{k}={_esc(v)}`" for k, v in item.shown_labels())
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": cut(body, MAX_SECTION)}},
        {"type": "section", "fields": [
            {"type": "mrkdwn", "text": cut(f"*Value*\n{_esc(item.threshold_text())}", 2000)},
            {"type": "mrkdwn", "text": cut(f"*When*\n{item.since_text(now)}", 2000)},
        ]},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": cut(f"Labels: {labels}" if labels else
                                                                        "No labels", 3000)}]},
    ]
    buttons = [(k, t) for k, t in (("runbook", "Runbook"), ("dashboard", "Dashboard"),
                                   ("image", "Graph"), ("ack", "Acknowledge")) if item.links.get(k)]
    if buttons:
        blocks.append({"type": "actions", "elements": [
            {"type": "button", "text": {"type": "plain_text", "text": t},
             "url": item.links[k][:3000], **({"style": "primary"} if k == "ack" else {})}
            for k, t in buttons]})
    return blocks


def fallback_text(n: Notification) -> str:
    lines = [n.title]
    for i in n.items:
        lines.append(f"- {i.headline}: {i.summary}; {i.threshold_text()}; {i.since_text(n.now)}")
    return cut("\n".join(lines), MAX_TEXT)


def build_payload(n: Notification) -> dict[str, Any]:
    """The webhook body: header and one block group per item, within 50 blocks."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": cut(n.title, MAX_HEADER)}}]
    shown = 0
    for item in n.items:
        ib = item_blocks(item, n.now)
        # Keep room for the divider and the "not shown" note.
        if len(blocks) + len(ib) + 2 > MAX_BLOCKS:
            break
        if shown:
            blocks.append({"type": "divider"})
        blocks.extend(ib)
        shown += 1
    if shown < len(n.items):
        more = f"\u2026 and {len(n.items) - shown} more alert(s) not shown (Slack's 50-block limit)"
        if n.dashboard_url:
            more += f": <{n.dashboard_url}|see all in Lookout>"
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": more}]})
    worst = next((i for i in n.items if not i.closing and i.severity == "critical"), n.items[0])
    colour = worst.colour if not all(i.closing for i in n.items) else n.items[0].colour
    image = next((i.links["image"] for i in n.items if i.links.get("image")), None)
    attachment: dict[str, Any] = {"color": colour, "blocks": blocks, "fallback": cut(n.title, 300)}
    if image and shown == len(n.items) and len(n.items) == 1:
        blocks.append({"type": "image", "image_url": image[:3000], "alt_text": cut(n.title, 2000)})
    return {"text": fallback_text(n), "attachments": [attachment]}


class SlackTransport(Transport):
    channel = "slack"

    def __init__(self, cfg: SlackChannel, session: requests.Session | None = None) -> None:
        self.cfg = cfg
        self.session = session or requests.Session()

    def notify(self, notification: Notification) -> None:
        try:
            r = self.session.post(self.cfg.webhook_url, json=build_payload(notification),
                                  timeout=self.cfg.timeout)
        except requests.Timeout:
            raise TransportError("Slack webhook timed out") from None
        except requests.RequestException as exc:
            raise TransportError(f"Slack webhook unreachable: {exc.__class__.__name__}") from None
        if r.status_code < 300:
            return
        detail = r.text[:200].strip()
        if r.status_code == 429:
            raise TransportError(f"Slack rate-limited the webhook (429 {detail})",
                                 retry_after=_retry_after(r.headers.get("Retry-After")))
        raise TransportError(f"Slack answered {r.status_code} {detail}", permanent=400 <= r.status_code < 500,
                             retry_after=_retry_after(r.headers.get("Retry-After")))

    def close(self) -> None:
        self.session.close()


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        import time
        from email.utils import parsedate_to_datetime
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None
