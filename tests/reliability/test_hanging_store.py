"""The store is a PostgreSQL that hangs (SIGSTOP: connections stay open, nothing answers).

Collection goes on, /api/health answers within a second and says the store is
unavailable, every batch is written back once it resumes, and no alert pages
for the gap.
"""
from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psutil

from api.health import health
from core.samples import Batch
from tests.reliability.conftest import TARGET_DOWN, slack_receiver, wait_until

HANG_SECONDS = 15.0


def _config(store_url: str) -> str:
    return f"""
store: {{url: "{store_url}"}}
targets:
  - {{name: self-a, kind: process, interval: 1s, timeout: 0.5s}}
  - {{name: self-b, kind: process, interval: 1s, timeout: 0.5s}}
""" + TARGET_DOWN + SHORT_WINDOW + slack_receiver()


# A rule window (5 s) much shorter than the hang (15 s): before evaluation waited for the
# backlog, such a gap paged "no data" and "resolved" for targets that were up throughout.
SHORT_WINDOW = """    - name: target_down_short
      expr: {metric: lookout_target_up, agg: min, window: 5s}
      op: "<"
      critical: 1
      for: 0s
      annotations: {summary: "Target {labels[target]} is down (5 s window)"}
"""


def _postgres_processes(pgdata) -> list[psutil.Process]:
    pid = int((pgdata / "postmaster.pid").read_text().split()[0])
    main = psutil.Process(pid)
    return [main, *main.children(recursive=True)]


@contextmanager
def frozen(pgdata) -> Iterator[None]:
    procs = _postgres_processes(pgdata)
    for p in procs:
        os.kill(p.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for p in procs:
            try:
                os.kill(p.pid, signal.SIGCONT)
            except ProcessLookupError:
                pass


def test_a_hanging_store_loses_nothing_and_health_answers_at_once(embedded_pg, make_runtime, webhook):
    url = f"postgresql+psycopg://postgres@127.0.0.1:{embedded_pg.port}/postgres"
    rt = make_runtime(_config(url), env={"SLACK_URL": webhook.url})
    handled: list[Batch] = []
    handle = rt.pipeline.handle

    def recording(batch: Batch, interval: float | None = None) -> None:
        handled.append(batch)
        handle(batch, interval)

    rt.pipeline.handle = recording  # type: ignore[method-assign]
    wait_until(lambda: len(handled) >= 4 and rt.pipeline.backlog() == 0, 15, "first collections written")

    slowest = 0.0
    with frozen(embedded_pg.pgdata):
        frozen_at = time.time()
        saw_fail = None
        while time.time() - frozen_at < HANG_SECONDS:
            t0 = time.monotonic()
            body, code = health(rt)
            slowest = max(slowest, time.monotonic() - t0)
            if code == 503 and saw_fail is None:
                saw_fail = time.time() - frozen_at
                assert body["checks"]["store"]["status"] == "fail"
                assert "store unavailable" in body["checks"]["store"]["error"]
            time.sleep(0.5)
        during = [b for b in handled if b.started_at >= frozen_at]
        assert rt.pipeline.backlog() > 0

    assert slowest < 1.0, f"/api/health took {slowest:.2f}s while the store hung"
    assert saw_fail is not None and saw_fail < 7.0  # the writer's 5 s deadline and one interval
    # Two targets at 1 s: collection never waited for the store.
    assert len(during) >= 2 * HANG_SECONDS * 0.8, len(during)

    wait_until(lambda: rt.pipeline.backlog() == 0 and rt.pipeline.store_available, 30, "backlog written back")
    for b in during:
        got = rt.store.raw("lookout_target_up", {"target": b.target}, b.started_at - 0.001, b.started_at + 0.001)
        assert [round(p[0], 3) for sp in got for p in sp.points] == [round(b.started_at, 3)], b
    assert rt.pipeline.buffer.stats().dropped_batches == 0
    time.sleep(3)  # several evaluation cycles after the backlog landed
    assert webhook.requests == []  # no page, no "no data", no resolve for targets that were up
