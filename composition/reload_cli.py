"""``python app.py reload``: ask a running Lookout to reload its config (being built: see issue 16)."""
from __future__ import annotations

import argparse

from composition.config import Config


def run(config: Config, args: argparse.Namespace) -> int:
    raise SystemExit("reload: not built yet")
