"""What the reload tests share: a small HTTP app that counts its requests, configs, waiting."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask, jsonify
from werkzeug.serving import make_server


class CountingApp:
    """A real HTTP server with ``/health``; ``hits`` counts the requests it answered."""

    def __init__(self) -> None:
        self.hits = 0
        self._lock = threading.Lock()
        app = Flask(__name__)

        @app.get("/health")
        def health() -> Any:
            with self._lock:
                self.hits += 1
            return jsonify(status="ok")

        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(5)


def http_target(name: str, app: CountingApp, interval: str = "1s") -> str:
    return f"  - {{name: {name}, kind: http, interval: {interval}, url: '{app.url}/health'}}\n"


def redis_target(name: str, url: str, interval: str = "1s") -> str:
    return f"  - {{name: {name}, kind: redis, interval: {interval}, url: '{url}'}}\n"


def write_config(path: Path, store_url: str, targets: list[str], extra: str = "") -> Path:
    path.write_text(f"store: {{url: '{store_url}'}}\ntargets:\n{''.join(targets)}{extra}")
    return path


def wait_for(check: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    """Polls ``check`` until it returns something true; fails naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)
