"""``python app.py report --since 7d [--format html|md] [--out FILE]``: the claims report.

Reads the store named by the config (a running Lookout's, or a copy of it)
and writes the report to ``--out`` or standard output. Bad input is a usage
error naming the parameter (exit 2); a store that cannot be read exits 1.
"""
from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from core.durations import format_duration, parse_duration
from core.masking import mask
from report import html, markdown
from report.build import MIN_SINCE, build
from report.context import ReportConfig
from report.model import Report
from store import Store

FORMATS = ("html", "md")
DEFAULT_SINCE = "7d"


def parse_since(text: str) -> float:
    """The report's period in seconds; ValueError naming ``since`` when it is not a duration of 1h or more."""
    try:
        seconds = parse_duration(text)
    except ValueError as exc:
        raise ValueError(f"since: {exc}") from None
    if seconds < MIN_SINCE:
        raise ValueError(f"since: {text!r} is too short: the report needs at least {format_duration(MIN_SINCE)}")
    return seconds


def parse_format(text: str) -> str:
    if text not in FORMATS:
        raise ValueError(f"format: {text!r} is not one of {', '.join(FORMATS)}")
    return text


def _since_arg(text: str) -> float:
    try:
        return parse_since(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("since: ")) from None


def add_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("report", "python app.py report [--since 7d] [--format html|md] [--out FILE]")
    g.add_argument("--since", type=_since_arg, default=DEFAULT_SINCE, metavar="DURATION",
                   help="the report's period, ending now (default: %(default)s)")
    g.add_argument("--format", choices=FORMATS, help="html (default) or md; md when --out ends in .md")
    g.add_argument("--out", metavar="FILE", help="write the report here (default: standard output)")


def render(report: Report, fmt: str, out: Path | None = None) -> str:
    return html.render(report) if fmt == "html" else markdown.render(report, out)


def run(config: ReportConfig, args: argparse.Namespace, clock: Callable[[], float] = time.time) -> int:
    url = config.store_url()
    shown = mask(url, config.secret_values)
    u = make_url(url)
    if u.get_backend_name() == "sqlite" and u.database not in (None, "", ":memory:") \
            and not Path(u.database or "").exists():
        print(f"store: {shown} does not exist (has Lookout run with this config?)", file=sys.stderr)
        return 1
    out = Path(args.out) if args.out else None
    fmt = args.format or ("md" if out is not None and out.suffix.lower() == ".md" else "html")
    store = Store(url, retention=config.store.retention, clock=clock)
    try:
        report = build(config.promises, store, clock(), float(args.since))
    except SQLAlchemyError as exc:
        print(f"store: cannot read {shown}: {getattr(exc, 'orig', None) or exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    text = render(report, fmt, out)
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        print(f"{out}: claims report, last {format_duration(report.since)}, {len(report.promises)} promises",
              file=sys.stderr)
    return 0
