"""Findings -> a commented config.yaml that check-config accepts as written.

Values are written by PyYAML (it quotes what needs quoting: ``$[0].status``, ``"5.."``); the
layout and the comments are ours. No secret is ever written: passwords are ``${ENV}``.
"""
from __future__ import annotations

import datetime as dt

from discover import proposals
from discover.findings import Findings
from discover.targets_text import API, BUSINESS, CACHE, DB, POOL, targets
from discover.yamltext import block, flow


def render(f: Findings, *, now: dt.datetime | None = None) -> str:
    now = now or dt.datetime.now(dt.UTC)
    out = [f"# Lookout starter configuration, written by `python app.py discover` on {now:%Y-%m-%d %H:%M} UTC.",
           "#", "# What discover found (+) and could not find (-), and why:"]
    out += [f"#   {'+' if ok else '-'} {part}: {text}" for part, ok, text in f.notes.lines]
    out += ["#"]
    if f.env:
        out += ["# Set these environment variables before starting (this file holds no secret):"]
        out += [f"#   {name:<20} {what}" for name, what in f.env.items()]
        out += ["#"]
    out += ["# Next: python app.py check-config --config THIS_FILE, then python app.py --config THIS_FILE.",
            "# Every key: docs/configuration.md; every metric name: python app.py metrics.", "",
            "server:", "  host: 127.0.0.1", "  port: 8050", "",
            "store:", "  url: sqlite:///data/lookout.db   # PostgreSQL for production: postgresql+psycopg://...", "",
            "demo:", "  enabled: false", "", "targets:",
            "  - name: lookout", "    kind: process", ""]
    out += targets(f)
    out += _alerting(f) + _promises(f)
    return "\n".join(out).rstrip() + "\n"


def _alerting(f: Findings) -> list[str]:
    out = ["# Alert rules: the defaults of alerts/default_rules.yaml (production windows) for what was found.",
           "alerting:", "  evaluation_interval: 15s"]
    deps = []
    if f.postgres is not None:
        dependents = [n for n, on in ((POOL, True), (API, f.app is not None),
                                      (BUSINESS, f.postgres.payments is not None)) if on]
        deps.append({"target": DB, "dependents": dependents})
    if f.redis is not None and f.app is not None:
        deps.append({"target": CACHE, "dependents": [API]})
    if deps:
        out += ["  # A target that is down mutes the alerts of what depends on it.", "  dependencies:"]
        out += [f"    - {flow(d)}" for d in deps]
    out.append("  rules:")
    for rule, why in proposals.rules(f):
        out.append(f"    # {rule['name']}: {why}")
        lines = block([rule], 4)
        out += lines
    out += ["  notifications:",
            "    # Alerts are kept locally (shown at /demo/notifications) until you add a real receiver:",
            "    #   - name: oncall-slack",
            '    #     slack: {webhook_url: "${SLACK_WEBHOOK_URL}"}',
            "    receivers:", "      - name: local", "        sink: {}", ""]
    return out


def _promises(f: Findings) -> list[str]:
    over = proposals.promises(f)
    out = ["# Promises (service-level objectives): the shipped ones (docs/promises.md), adjusted to what was found.",
           "promises:", "  include_defaults: true"]
    if over:
        out.append("  objectives:")
        for item, why in over:
            out.append(f"    # {item['id']}: {why}")
            out += block([item], 4)
    return out
