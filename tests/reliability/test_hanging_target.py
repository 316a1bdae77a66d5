"""A target that accepts the TCP connection and never answers is cut off at its timeout."""
from __future__ import annotations

import itertools
import socket
import threading
import time

import pytest

from core.samples import Batch
from tests.reliability.conftest import wait_until

TIMEOUT = 1.0


class Tarpit:
    """Accepts every connection and never sends a byte."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(100)
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        self.running = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def close(self) -> None:
        self.running = False
        self.sock.close()
        for c in self.held:
            c.close()


@pytest.fixture
def tarpit():
    t = Tarpit()
    yield t
    t.close()


def test_hanging_postgres_redis_and_http_targets_time_out_and_never_delay_the_others(tmp_path, tarpit, make_runtime):
    rt = make_runtime(f"""
store: {{url: "sqlite:///{tmp_path / 'lookout.db'}"}}
targets:
  - {{name: hung-pg, kind: postgres, dsn: "postgresql://postgres@127.0.0.1:{tarpit.port}/postgres",
     interval: 2s, timeout: 1s}}
  - {{name: hung-redis, kind: redis, url: "redis://127.0.0.1:{tarpit.port}/0", interval: 2s, timeout: 1s}}
  - {{name: hung-http, kind: http, interval: 2s, timeout: 1s, probes: [{{name: h, url: "http://127.0.0.1:{tarpit.port}/"}}]}}
  - {{name: healthy, kind: process, interval: 1s, timeout: 0.5s}}
""")
    batches: list[Batch] = []
    rt.pipeline.add_listener(batches.append)
    t0 = time.time()
    wait_until(lambda: sum(1 for b in batches if b.target.startswith("hung")) >= 9, 20, "three rounds of hung targets")
    elapsed = time.time() - t0
    hung = [b for b in batches if b.target.startswith("hung")]
    assert {b.target for b in hung} == {"hung-pg", "hung-redis", "hung-http"}
    for b in hung:
        if b.kind == "http":  # a failed probe is a sample of a working collector, not a down target
            probe = [s.value for s in b.samples if s.name == "lookout_http_probe_success"]
            assert probe == [0.0], b
        else:
            assert not b.up and b.error, b
        assert b.duration < TIMEOUT + 0.5, (b.target, b.duration, b.error)  # cut off at its timeout
    healthy = [b for b in batches if b.target == "healthy"]
    assert all(b.up for b in healthy)
    # Collected once a second throughout, whatever the hung targets do.
    assert len(healthy) >= int(elapsed) - 2, (len(healthy), elapsed)
    gaps = [b.started_at - a.started_at for a, b in itertools.pairwise(healthy)]
    assert max(gaps) < 2.0, gaps
