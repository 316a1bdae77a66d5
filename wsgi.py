"""WSGI entry of a web replica: the dashboard and the JSON API, no scheduler, no demo.

    gunicorn -w 4 -b 127.0.0.1:8050 'wsgi:application'

The config file comes from ``LOOKOUT_CONFIG`` (default ``config.yaml``). Each
gunicorn worker builds its own app at import (``--role web`` starts nothing),
reads everything from the store, and keeps no state the others need.
"""
from __future__ import annotations

import os

from core.memory import freeze_startup_heap, limit_malloc_arenas

limit_malloc_arenas()  # before gunicorn's threads start: see docs/RELIABILITY.md, soak

from app import create_app  # noqa: E402
from composition.config import load_config  # noqa: E402
from core.logs import setup_logging  # noqa: E402

_config = load_config(os.environ.get("LOOKOUT_CONFIG", "config.yaml"))
setup_logging(_config.secret_values, os.environ.get("LOOKOUT_LOG_LEVEL", "INFO"))
application = create_app(_config, role="web")
freeze_startup_heap()  # full GCs skip what start-up built (core/memory.py)
