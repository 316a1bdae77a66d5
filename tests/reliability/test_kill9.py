"""kill -9 of Lookout mid-incident (while pending, then while firing) and restart."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

from tests.reliability.conftest import free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]
FOR_SECONDS = 8


class Flippable:
    """A tiny HTTP service whose answer the test flips between 200 and 500."""

    def __init__(self) -> None:
        self.status = 200
        outer = self

        class H(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(outer.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *a) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/health"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


def _row(db: Path) -> tuple | None:
    try:
        with sqlite3.connect(db, timeout=5) as c:
            return c.execute("select state, pending_since, firing_since from alert_state "
                             "where rule = 'shop_api_failing'").fetchone()
    except sqlite3.Error:
        return None


def _state(db: Path) -> str | None:
    row = _row(db)
    return row[0] if row else None


def test_kill_9_while_pending_and_while_firing_pages_once_and_still_resolves(tmp_path, webhook):
    shop = Flippable()
    db = tmp_path / "lookout.db"
    cfg = tmp_path / "lookout.yaml"
    cfg.write_text(f"""
store: {{url: "sqlite:///{db}"}}
targets:
  - name: shop-api
    kind: http
    interval: 1s
    timeout: 0.8s
    probes: [{{name: health, url: "{shop.url}", expect_status: [200]}}]
alerting:
  evaluation_interval: 1s
  rules:
    - name: shop_api_failing
      expr: {{metric: lookout_http_probe_success, agg: last, window: 30s}}
      op: "<"
      critical: 1
      for: {FOR_SECONDS}s
      annotations: {{summary: "shop-api health failing"}}
  notifications:
    receivers: [{{name: slack, slack: {{webhook_url: "${{SLACK_URL}}", min_interval: 0s}}}}]
    retry: {{initial_backoff: 0.2s, max_backoff: 1s}}
""")
    env = {**os.environ, "SLACK_URL": webhook.url, "LOOKOUT_SECRET_KEY": "k" * 32}
    port = free_port()
    procs: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        p = subprocess.Popen([sys.executable, "app.py", "--config", str(cfg), "--port", str(port)], cwd=ROOT,
                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(p)

        def healthy():
            try:
                return requests.get(f"http://127.0.0.1:{port}/api/health", timeout=1).ok
            except requests.RequestException:
                return False
        wait_until(healthy, 30, "Lookout answering")
        return p

    def kill9(p: subprocess.Popen) -> None:
        p.send_signal(signal.SIGKILL)
        p.wait(10)
        with sqlite3.connect(db) as c:
            assert c.execute("pragma integrity_check").fetchone()[0] == "ok"

    try:
        app = start()
        time.sleep(3)
        shop.status = 500
        wait_until(lambda: _state(db) == "pending", 15, "the alert pending")
        stored_pending = _row(db)[1]
        kill9(app)  # mid-pending: the for-timer lives in the store
        time.sleep(2)
        restarted = time.time()
        app = start()
        wait_until(lambda: len(webhook.delivered) >= 1, FOR_SECONDS + 20, "the firing message after restart")
        state, _, firing_since = _row(db)
        assert state == "firing"
        # The timer carried on from before the kill: it did not start again at the restart.
        assert stored_pending + FOR_SECONDS <= firing_since < restarted + FOR_SECONDS
        kill9(app)  # mid-firing
        app = start()
        time.sleep(5)  # several evaluation and dispatch cycles of the new process
        assert len(webhook.requests) == 1  # not paged twice
        shop.status = 200
        wait_until(lambda: len(webhook.delivered) >= 2, 30, "the resolved message")
        time.sleep(2)
        heads = [m["text"].split("\n")[0] for m in webhook.delivered]
        assert [h.split(" ")[0] for h in heads] == ["[FIRING]", "[RESOLVED]"] and heads[0].endswith("(critical)")
        assert len(webhook.requests) == 2
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
                p.wait(30)
        shop.httpd.shutdown()
