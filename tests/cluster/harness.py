"""Real processes for the cluster tests: workers and web replicas of app.py, a test
HTTP app with many endpoints, a webhook receiver, and reads of the store."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg
import requests

from tests.support import free_port

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b'{"status": "ok"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        n = int(self.headers.get("Content-Length") or 0)
        self.server.posts.append(self.rfile.read(n).decode())  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *_args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a probe that gave up (timeout) closed its socket: not the test's concern


def serve_http() -> ThreadingHTTPServer:
    """GET anything: 200 JSON; POST anything: recorded in ``server.posts`` (the webhook)."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.posts = []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server


@dataclass
class Proc:
    name: str
    port: int
    popen: subprocess.Popen
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def tail(self, n: int = 30) -> str:
        lines = self.log.read_text(errors="replace").splitlines()
        return f"--- {self.name} ---\n" + "\n".join(lines[-n:])

    def kill(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGKILL)
            self.popen.wait(10)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class Cluster:
    config: Path
    tmp: Path
    procs: dict[str, Proc] = field(default_factory=dict)

    def start(self, name: str, cmd: list[str]) -> Proc:
        port = free_port()
        log = self.tmp / f"{name}.log"
        env = {**os.environ, "LOOKOUT_CONFIG": str(self.config), "PYTHONUNBUFFERED": "1"}
        cmd = [c.replace("{port}", str(port)) for c in cmd]
        popen = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
                                 start_new_session=True)
        self.procs[name] = Proc(name, port, popen, log)
        return self.procs[name]

    def worker(self, name: str) -> Proc:
        return self.start(name, [PY, "app.py", "--config", str(self.config), "--role", "worker",
                                 "--host", "127.0.0.1", "--port", "{port}", "--log-level", "INFO"])

    def web(self, name: str, gunicorn: bool = False) -> Proc:
        if gunicorn:
            return self.start(name, [PY, "-m", "gunicorn", "-w", "2", "-b", "127.0.0.1:{port}",
                                     "wsgi:application"])
        return self.start(name, [PY, "app.py", "--config", str(self.config), "--role", "web",
                                 "--host", "127.0.0.1", "--port", "{port}"])

    def wait_http(self, proc: Proc, path: str, timeout: float = 60) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if proc.popen.poll() is not None:
                raise AssertionError(f"{proc.name} exited ({proc.popen.returncode})\n{proc.tail()}")
            try:
                if requests.get(proc.url + path, timeout=2).status_code < 500:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise AssertionError(f"{proc.name} did not answer {path}\n{proc.tail()}")

    def stop_all(self) -> None:
        for p in self.procs.values():
            p.stop()

    def logs(self) -> str:
        return "\n".join(p.tail() for p in self.procs.values())


def sample_times(dsn: str, metric: str = "lookout_target_up") -> dict[str, list[float]]:
    """target -> sorted sample timestamps (s) of ``metric``, read straight from the store."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT s.labels, p.ts FROM samples p JOIN series s ON s.id = p.series_id "
                            "WHERE s.name = %s ORDER BY p.ts", (metric,)).fetchall()
    out: dict[str, list[float]] = {}
    for labels, ts in rows:
        out.setdefault(json.loads(labels)["target"], []).append(ts / 1000)
    return out


def workers(dsn: str) -> dict[str, dict]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT worker_id, heartbeat_ts, info FROM workers").fetchall()
    return {w: {"heartbeat": hb / 1000, **json.loads(info)} for w, hb, info in rows}


def metrics_targets(url: str) -> set[str]:
    text = requests.get(url + "/metrics", timeout=5).text
    out = set()
    for line in text.splitlines():
        if line.startswith("#") or 'target="' not in line:
            continue
        out.add(line.split('target="', 1)[1].split('"', 1)[0])
    return out
