"""Command line of ``discover``: probe what is there, write a commented starter config.

    python app.py discover --postgres DSN --redis URL --app URL [--pgbouncer DSN] [--out FILE]

Prints what it found and what it could not find (and why) on standard error, and the config to
``--out`` (shared with the report command) or standard output. Exit status 0 when every part
given answered, 1 when one could not be reached (the config holds the rest), 2 with nothing to
probe.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

from core.masking import mask
from discover import http_app, postgres, redis
from discover.findings import Findings
from discover.render import render


def add_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("discover")
    g.add_argument("--postgres", metavar="DSN", help="discover: PostgreSQL to probe")
    g.add_argument("--redis", metavar="URL", help="discover: Redis to probe")
    g.add_argument("--app", metavar="URL", help="discover: base URL of the application")
    g.add_argument("--pgbouncer", metavar="DSN", help="discover: PgBouncer admin console")


def discover(*, postgres_dsn: str | None = None, redis_url: str | None = None, app_url: str | None = None,
             pgbouncer_dsn: str | None = None, timeout: float = 5.0) -> Findings:
    """Probe every part given; a part that cannot be reached is a note, never an exception."""
    found = Findings()
    if postgres_dsn:
        found.postgres = postgres.probe(postgres_dsn, found, timeout)
    if pgbouncer_dsn:
        found.pgbouncer = postgres.probe_pgbouncer(pgbouncer_dsn, found, timeout)
    if redis_url:
        found.redis = redis.probe(redis_url, found, timeout)
    if app_url:
        found.app = http_app.probe(app_url, found, min(timeout, 3.0))
    return found


def _passwords(*urls: str | None) -> list[str]:
    """Passwords given on the command line, so nothing printed can carry one."""
    out = []
    for url in urls:
        if url and "://" in url:
            pw = urlsplit(url).password
            if pw:
                out += [pw, unquote(pw)]
        elif url:
            out += [part.split("=", 1)[1] for part in url.split() if part.lower().startswith("password=")]
    return out


def run(args: argparse.Namespace) -> int:
    given = {"postgres": args.postgres, "redis": args.redis, "app": args.app, "pgbouncer": args.pgbouncer}
    if not any(given.values()):
        print("discover: give at least one of --postgres DSN, --redis URL, --app URL, --pgbouncer DSN",
              file=sys.stderr)
        return 2
    found = discover(postgres_dsn=args.postgres, redis_url=args.redis, app_url=args.app,
                     pgbouncer_dsn=args.pgbouncer)
    secrets = _passwords(*given.values())
    text = render(found)
    if any(len(s) >= 3 and s in text for s in secrets):  # a bug, never a config with a secret in it
        raise SystemExit("discover: refusing to write a config that contains a password")
    print(mask(found.notes.render(), secrets), file=sys.stderr)
    if found.env:
        print("set before starting: " + ", ".join(f"{k} ({v})" for k, v in found.env.items()), file=sys.stderr)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"wrote {args.out}; next: python app.py check-config --config {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    reached = {"postgres": found.postgres, "redis": found.redis, "app": found.app, "pgbouncer": found.pgbouncer}
    return 1 if any(given[k] and reached[k] is None for k in given) else 0
