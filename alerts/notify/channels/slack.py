"""Slack incoming webhooks: Block Kit inside a coloured attachment, with a text fallback.

Limits (api.slack.com/reference/block-kit): 50 blocks per message, 3000
characters per section text, 150 per header, 40 000 for ``text``. Past
them the message says what it left out instead of being rejected.
Incoming webhooks have no idempotency key: see dispatcher.py for the trade-off.

The title is said once, in the message's header block (``[FIRING] rule
(critical)``). That block is a top-level block so that Slack treats ``text``
as the notification fallback only: with attachments alone it would print
``text`` above them, a second title. The coloured attachment carries each
alert's summary, value, "when" and labels; an item repeats a headline only
when the message holds several.
"""
from __future__ import annotations

from typing import Any, ClassVar

import requests
from pydantic import Field

from alerts.notify.channels.base import Channel, ChannelContext
from alerts.notify.channels.http import HttpTransport
from alerts.notify.transport import Item, Notification
from core.durations import Duration


class SlackChannel(Channel):
    description: ClassVar[str] = "A Slack incoming webhook (give exactly one channel per receiver)."

    webhook_url: str = Field(description="Incoming webhook URL, as `${ENV}`.")
    timeout: Duration = Field(10.0, description="HTTP timeout of one attempt.")
    min_interval: Duration = Field(1.0, description="Slack accepts one message per second per webhook.")

    def transport(self, ctx: ChannelContext) -> SlackTransport:
        return SlackTransport(self, ctx.session)

    def min_send_interval(self) -> float:
        return self.min_interval


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


def item_blocks(item: Item, now: float, headline: str | None = None) -> list[dict[str, Any]]:
    body = (f"*{_esc(headline)}*\n" if headline else "") + _esc(item.summary)
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
    """The notification text (push, screen readers): the title, then a line per alert."""
    lines = [n.title]
    for i in n.items:
        head = n.item_headline(i)
        lines.append(f"- {head + ': ' if head else ''}{i.summary}; {i.threshold_text()}; {i.since_text(n.now)}")
    return cut("\n".join(lines), MAX_TEXT)


def build_payload(n: Notification) -> dict[str, Any]:
    """The webhook body: the header block, then one block group per item, within 50 blocks in all."""
    header = {"type": "header", "text": {"type": "plain_text", "text": cut(n.title, MAX_HEADER)}}
    blocks: list[dict[str, Any]] = []
    shown = 0
    for item in n.items:
        ib = item_blocks(item, n.now, n.item_headline(item))
        # Keep room for the header, the divider and the "not shown" note.
        if 1 + len(blocks) + len(ib) + 2 > MAX_BLOCKS:
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
    return {"text": fallback_text(n), "blocks": [header], "attachments": [attachment]}


class SlackTransport(HttpTransport):
    service: ClassVar[str] = "Slack"
    endpoint: ClassVar[str] = "webhook"

    def __init__(self, cfg: SlackChannel, session: requests.Session | None = None) -> None:
        super().__init__(cfg.webhook_url, cfg.timeout, session)
        self.cfg = cfg

    def notify(self, notification: Notification) -> None:
        self.post_json(build_payload(notification))
