"""``python app.py metrics [--kind KIND] [--format md | --json]``: the metric catalogue.

Every metric each collector kind can produce (collectors/catalogue.py) and the ones the
config's targets add (its SQL queries' metrics, the series its application scrapes
re-export), with type, unit, labels, family, default interval and help.
docs/metrics.md is this output in Markdown (scripts/metrics_reference.py).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from collections.abc import Iterable

from collectors.catalogue import KINDS, Catalogue, Metric
from composition.config import Config
from core.durations import format_duration

KIND_TITLES = {"*": "Every target", "postgres": "`kind: postgres`", "pool": "`kind: pool`",
               "redis": "`kind: redis`", "http": "`kind: http`", "sql": "`kind: sql`",
               "process": "`kind: process`", "lookout": "Lookout itself"}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--kind", choices=[k for k in KINDS if k != "lookout"] + ["lookout"],
                   help="metrics: only this collector kind (postgres, pool, redis, http, sql, process, lookout)")
    # --format (html|md) is the report's option; metrics reads its `md` too.
    p.add_argument("--json", action="store_true", help="metrics: print the catalogue as JSON")


def run(config: Config | None, args: argparse.Namespace) -> int:
    catalogue = Catalogue(config.targets if config is not None else ())
    metrics = catalogue.of_kind(getattr(args, "kind", None))
    if getattr(args, "json", False):
        text = json.dumps([m.as_dict() for m in metrics], indent=1) + "\n"
    elif getattr(args, "format", None) == "md":
        text = markdown(metrics)
    else:
        text = table(metrics, width=shutil.get_terminal_size((160, 24)).columns)
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:  # `| head`: the reader has what it wanted
        sys.stdout = open(os.devnull, "w")  # so the flush at exit is quiet
    return 0


def interval_text(m: Metric) -> str:
    return "every poll" if m.interval is None else format_duration(m.interval)


def labels_text(m: Metric) -> str:
    text = ", ".join(m.labels)
    if m.open_labels:
        text = (text + ", " if text else "") + "(its own)"
    return text


def _by_kind(metrics: Iterable[Metric]) -> dict[str, list[Metric]]:
    out: dict[str, list[Metric]] = {}
    for m in metrics:
        out.setdefault(m.kind, []).append(m)
    order = ["*", *KINDS]
    return {k: out[k] for k in sorted(out, key=lambda k: order.index(k) if k in order else len(order))}


def table(metrics: Iterable[Metric], width: int = 160) -> str:
    """Plain text, one block per kind: name, type, unit, labels, family, interval, help."""
    head = ("metric", "type", "unit", "labels", "family", "interval", "help")
    lines: list[str] = []
    for kind, ms in _by_kind(metrics).items():
        rows = [(m.name, m.type, m.unit, labels_text(m), m.family, interval_text(m),
                 m.help + (f" [{m.origin}]" if m.origin else "")) for m in ms]
        widths = [max(len(r[i]) for r in [head, *rows]) for i in range(6)]
        lines.append(f"{KIND_TITLES.get(kind, kind).replace('`', '')} ({len(rows)})")
        for r in [head, *rows]:
            left = "  ".join(c.ljust(widths[i]) for i, c in enumerate(r[:6]))
            room = max(20, width - len(left) - 2)
            text = r[6] if len(r[6]) <= room else r[6][:room - 1] + "…"
            lines.append(f"  {left}  {text}".rstrip())
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def markdown(metrics: Iterable[Metric], level: str = "##") -> str:
    """One section and table per kind (docs/metrics.md)."""
    parts: list[str] = []
    for kind, ms in _by_kind(metrics).items():
        parts.append(f"{level} {KIND_TITLES.get(kind, kind)}\n")
        parts.append("| metric | type | unit | labels | family | interval | help |")
        parts.append("|---|---|---|---|---|---|---|")
        for m in ms:
            help_ = (m.help + (f" ({m.origin})" if m.origin else "")).replace("|", "\\|")
            parts.append(f"| `{m.name}` | {m.type} | {m.unit} | {labels_text(m)} | {m.family} | "
                         f"{interval_text(m)} | {help_} |")
        parts.append("")
    return "\n".join(parts).rstrip() + "\n"


if __name__ == "__main__":  # pragma: no cover - a convenience, the entry point is app.py
    sys.exit(run(None, argparse.Namespace(kind=None, json=False, format=None)))
