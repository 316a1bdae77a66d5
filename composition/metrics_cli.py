"""``python app.py metrics [--kind KIND]``: the metric catalogue (being built: see issue 16)."""
from __future__ import annotations

import argparse

from composition.config import Config


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--kind", help="metrics: only this collector kind (postgres, redis, http, pool, sql, process)")


def run(config: Config | None, args: argparse.Namespace) -> int:
    raise SystemExit("metrics: not built yet")
