"""Attach the embedded demo to a Lookout process (role all only).

The demo's servers start before the first collection and stop after the
last; scenarios switch from the CLI (``--scenario``) and ``/api/demo``.
"""
from __future__ import annotations

from flask import Flask

from composition.runtime import Runtime
from demo import api


def attach(runtime: Runtime) -> None:
    cfg = runtime.config.demo
    # Only the all-in-one process runs the demo: with several --role worker
    # processes each would start its own embedded servers on the same ports.
    if not cfg.enabled or runtime.role != "all":
        return
    from demo.runner import Demo  # imports the embedded servers' packages: only when it runs

    demo = Demo(cfg, runtime.config.base_dir)
    runtime.demo = demo
    runtime.before_start.append(demo.start)
    runtime.after_stop.append(demo.stop)


def init_web(app: Flask, runtime: Runtime) -> None:
    api.init_app(app, lambda: runtime.demo)
