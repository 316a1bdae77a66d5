"""Command line of ``discover`` (being built: see issue 16)."""
from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("discover")
    g.add_argument("--postgres", metavar="DSN", help="discover: PostgreSQL to probe")
    g.add_argument("--redis", metavar="URL", help="discover: Redis to probe")
    g.add_argument("--app", metavar="URL", help="discover: base URL of the application")
    g.add_argument("--pgbouncer", metavar="DSN", help="discover: PgBouncer admin console")
    g.add_argument("--out", dest="discover_out", metavar="FILE", help="discover: write the config here")


def run(args: argparse.Namespace) -> int:
    raise SystemExit("discover: not built yet")
