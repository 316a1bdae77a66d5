"""The demo's notification pages: ``GET /api/sink`` (JSON) and ``GET /demo/notifications`` (HTML).

The page shows each stored message as it would look: the Slack message drawn
from its Block Kit blocks (header, fields, colour bar, buttons as links) and
the email's subject, headers and HTML body. Everything is escaped; the email
body runs in an iframe with an empty ``sandbox`` (no script, no forms, no
navigation), and a Content-Security-Policy forbids scripts on the page itself.
It reloads itself every 15 s with a meta refresh: no JavaScript. The messages
come from the sink channel's query function (``sink.messages``), never its table.

    init_app(app, store.engine, receivers=["demo-sink"])
"""
from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, jsonify, request
from flask.typing import ResponseReturnValue

from alerts.notify.channels import sink
from alerts.notify.transport import fmt_time
from core import params

CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; "
       "form-action 'none'; frame-ancestors 'self'")
_LINK = re.compile(r"<([^|>]+)(?:\|([^>]*))?>")  # Slack's <url|text>; raw < > are escaped in Slack text
_BOLD = re.compile(r"\*([^*\n]+)\*")
_CODE = re.compile(r"`([^`\n]+)`")
_COLOUR = re.compile(r"^#[0-9A-Fa-f]{3,8}$")
_STYLE = """
body{font-family:system-ui,sans-serif;margin:0 auto;max-width:72em;padding:1em;color:#1d1c1d;background:#f4f4f6}
.msg{background:#fff;border:1px solid #ddd;border-radius:6px;margin:1em 0;padding:.8em}
.meta{color:#666;font-size:.85em}.cols{display:flex;gap:1em;flex-wrap:wrap}.cols>div{flex:1 1 30em;min-width:0}
.slack{display:flex;border:1px solid #e0e0e0;border-radius:4px}.bar{width:5px;border-radius:4px 0 0 4px}
.blocks{padding:.5em .8em;flex:1;min-width:0}.blocks h4{margin:.2em 0}
.fields{display:grid;grid-template-columns:1fr 1fr;gap:.3em 1em}
.ctx{color:#616061;font-size:.85em}.btn{display:inline-block;border:1px solid #bbb;border-radius:4px;padding:.1em .6em;
margin:.2em .3em 0 0;text-decoration:none;color:#1d1c1d}.primary{background:#007a5a;color:#fff;border-color:#007a5a}
code{background:#f6f6f6;border:1px solid #e8e8e8;border-radius:3px;padding:0 .2em;font-size:.9em}
iframe{width:100%;height:18em;border:1px solid #e0e0e0;background:#fff}.hdr{font-size:.85em;color:#444}
h3.label{font-size:.8em;text-transform:uppercase;color:#888;margin:.4em 0}
"""


def _safe_url(url: str) -> str | None:
    return url if url.startswith(("http://", "https://", "/")) and not url.startswith("//") else None


def mrkdwn(text: str) -> str:
    """Slack mrkdwn -> safe HTML: *bold*, `code`, <url|text>, newlines."""
    out, pos = [], 0
    for m in _LINK.finditer(text):
        out.append(_inline(text[pos:m.start()]))
        url, label = html.unescape(m.group(1)), html.unescape(m.group(2) or m.group(1))
        safe = _safe_url(url)
        out.append(f"<a href='{html.escape(safe)}' rel='noreferrer'>{html.escape(label)}</a>" if safe
                   else html.escape(label))
        pos = m.end()
    out.append(_inline(text[pos:]))
    return "".join(out).replace("\n", "<br>")


def _inline(text: str) -> str:
    # Slack escapes only & < >; undo that, then escape for HTML.
    escaped = html.escape(text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"))
    return _CODE.sub(r"<code>\1</code>", _BOLD.sub(r"<b>\1</b>", escaped))


def _text(obj: dict[str, Any]) -> str:
    t = str(obj.get("text", ""))
    return mrkdwn(t) if obj.get("type") == "mrkdwn" else html.escape(t).replace("\n", "<br>")


def block_html(b: dict[str, Any]) -> str:
    kind = b.get("type")
    if kind == "header":
        return f"<h4>{_text(b.get('text', {}))}</h4>"
    if kind == "section":
        parts = [f"<div>{_text(b['text'])}</div>"] if b.get("text") else []
        if b.get("fields"):
            parts.append("<div class='fields'>" + "".join(f"<div>{_text(f)}</div>" for f in b["fields"]) + "</div>")
        return "".join(parts)
    if kind == "context":
        return "<div class='ctx'>" + " ".join(_text(e) for e in b.get("elements", [])) + "</div>"
    if kind == "divider":
        return "<hr>"
    if kind == "actions":
        links = []
        for e in b.get("elements", []):
            url = _safe_url(str(e.get("url", "")))
            label = html.escape(str(e.get("text", {}).get("text", "")))
            cls = "btn primary" if e.get("style") == "primary" else "btn"
            links.append(f"<a class='{cls}' href='{html.escape(url)}' rel='noreferrer'>{label}</a>" if url
                         else f"<span class='{cls}'>{label}</span>")
        return "<div>" + "".join(links) + "</div>"
    if kind == "image":
        url = _safe_url(str(b.get("image_url", "")))
        alt = html.escape(str(b.get("alt_text", "graph")))
        return f"<div class='ctx'>Image: <a href='{html.escape(url)}'>{alt}</a></div>" if url else ""
    return f"<div class='ctx'>[{html.escape(str(kind))} block]</div>"


def slack_html(payload: dict[str, Any]) -> str:
    # The header (state and title) is a top-level block; the coloured attachments follow it.
    out = ["<div class='blocks'>" + "".join(block_html(b) for b in payload.get("blocks") or []) + "</div>"]
    for att in payload.get("attachments") or []:
        colour = att.get("color", "#ddd")
        colour = colour if _COLOUR.match(str(colour)) else "#ddd"
        blocks = "".join(block_html(b) for b in att.get("blocks", []))
        out.append(f"<div class='slack'><div class='bar' style='background:{colour}'></div>"
                   f"<div class='blocks'>{blocks}</div></div>")
    fallback = html.escape(str(payload.get("text", "")))
    return ("".join(out) + "<details class='ctx'><summary>Notification text (fallback)</summary>"
            f"<pre>{fallback}</pre></details>")


def email_html(email: dict[str, Any]) -> str:
    headers = "".join(f"<div><b>{html.escape(k)}:</b> {html.escape(v)}</div>"
                      for k, v in email.get("headers", {}).items() if k in ("From", "To", "Date", "In-Reply-To"))
    # srcdoc is an attribute: escaping makes it one string; sandbox="" runs the body with no rights at all.
    return (f"<div><b>Subject:</b> {html.escape(email.get('subject', ''))}</div><div class='hdr'>{headers}</div>"
            f"<iframe sandbox='' referrerpolicy='no-referrer' title='email body' "
            f"srcdoc=\"{html.escape(email.get('html', ''), quote=True)}\"></iframe>")


def page(messages: list[dict[str, Any]], receivers: list[str], fmt_time: Any) -> str:
    if not receivers:
        intro = ("<p>No <code>sink</code> receiver is configured: notifications go to the real channels "
                 "(see <code>alerting.notifications</code> in config.yaml).</p>")
    else:
        intro = (f"<p>What Lookout would have sent to Slack and by email, as it would look "
                 f"(receiver{'s' if len(receivers) > 1 else ''} {html.escape(', '.join(receivers))}; newest first; "
                 f"this page reloads every 15 s). Switch a demo scenario on to see one: "
                 f"<code>python app.py scenario payment_outage</code>. JSON: <a href='/api/sink'>/api/sink</a>.</p>")
    cards = []
    for m in messages:
        kinds = html.escape(", ".join(m["kinds"]))
        cards.append(
            f"<div class='msg'><div class='meta'>#{m['id']} · {html.escape(fmt_time(m['created_at']))} · "
            f"{kinds} · receiver {html.escape(m['receiver'])}</div>"
            f"<div class='cols'><div><h3 class='label'>Slack</h3>{slack_html(m['slack'])}</div>"
            f"<div><h3 class='label'>Email</h3>{email_html(m['email'])}</div></div></div>")
    if receivers and not cards:
        cards.append("<p class='meta'>Nothing yet: no alert has fired or resolved.</p>")
    return ("<!doctype html><html><head><meta charset='utf-8'><meta http-equiv='refresh' content='15'>"
            f"<title>Lookout: demo notifications</title><style>{_STYLE}</style></head><body>"
            f"<h1>Notifications (local sink)</h1>{intro}{''.join(cards)}</body></html>")


def init_app(app: Flask, engine: Any, receivers: list[str] | Callable[[], list[str]]) -> None:
    """``receivers``: the sink receivers' names, or a function giving them now (a reload may change them)."""
    names: Callable[[], list[str]] = receivers if callable(receivers) else (lambda: list(receivers))

    def limit_arg(default: int) -> int:
        return max(1, min(sink.MAX_LIMIT, int(request.args.get("limit", default))))

    @app.get("/api/sink")
    def sink_api() -> ResponseReturnValue:
        # Refused, never clamped: a 400 naming the parameter (core.params; ids fit the 32-bit column).
        try:
            limit = params.integer(request.args, "limit", 100, 1, sink.MAX_LIMIT)
            since_id = params.identifier(request.args, "since_id", lo=0)
            receiver = params.text(request.args, "receiver")
        except params.ParamError as exc:
            return jsonify(error=f"{exc.param} {exc.message}", param=exc.param), 400
        rows = sink.messages(engine, limit, receiver, since_id)
        return jsonify(receivers=names(), messages=rows)

    @app.get("/demo/notifications")
    def sink_page() -> ResponseReturnValue:
        try:
            limit = limit_arg(50)
        except ValueError:
            limit = 50
        body = page(sink.messages(engine, limit), names(), fmt_time)
        return Response(body, mimetype="text/html", headers={"Content-Security-Policy": CSP,
                                                             "X-Content-Type-Options": "nosniff"})
