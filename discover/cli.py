"""Command line of ``discover`` (being built: see issue 16). ``--out FILE`` is shared with report."""
from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("discover")
    g.add_argument("--postgres", metavar="DSN", help="discover: PostgreSQL to probe")
    g.add_argument("--redis", metavar="URL", help="discover: Redis to probe")
    g.add_argument("--app", metavar="URL", help="discover: base URL of the application")
    g.add_argument("--pgbouncer", metavar="DSN", help="discover: PgBouncer admin console")


def run(args: argparse.Namespace) -> int:
    raise SystemExit("discover: not built yet")
