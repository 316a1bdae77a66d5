"""The store is a PostgreSQL that goes away for a while: batches wait in memory and nothing is lost."""
from __future__ import annotations

import logging
import threading
import time

from api.health import health
from composition.buffer import WriteBuffer
from core.samples import Batch, Sample
from tests.reliability.conftest import TARGET_DOWN, wait_until

OUTAGE_SECONDS = 20.0


def _config(store_url: str) -> str:
    return f"""
store: {{url: "{store_url}"}}
targets:
  - {{name: self-a, kind: process, interval: 1s, timeout: 0.5s}}
  - {{name: self-b, kind: process, interval: 1s, timeout: 0.5s}}
""" + TARGET_DOWN


class Recorder:
    """Every batch the pipeline handled, in order."""

    def __init__(self) -> None:
        self.batches: list[Batch] = []
        self.lock = threading.Lock()

    def __call__(self, batch: Batch) -> None:
        with self.lock:
            self.batches.append(batch)

    def since(self, t: float) -> list[Batch]:
        with self.lock:
            return [b for b in self.batches if b.started_at >= t]


def test_a_store_outage_buffers_every_batch_reports_fail_and_writes_all_of_them_back(
        embedded_pg, make_runtime, caplog):
    caplog.set_level(logging.INFO)
    rt = make_runtime(_config(f"postgresql+psycopg://postgres@127.0.0.1:{embedded_pg.port}/postgres"))
    seen = Recorder()
    handle = rt.pipeline.handle  # every collection, whether or not the store took it yet

    def recording(batch: Batch, interval: float | None = None) -> None:
        seen(batch)
        handle(batch, interval)

    rt.pipeline.handle = recording  # type: ignore[method-assign]
    wait_until(lambda: len(seen.batches) >= 4, 15, "first collections")
    assert health(rt)[0]["checks"]["store"]["status"] == "pass"

    embedded_pg.stop()
    stopped = time.time()
    wait_until(lambda: rt.pipeline.buffer.stats().batches >= 4, 15, "batches buffered while the store is down")
    body, code = health(rt)
    assert code == 503 and body["status"] == "fail"
    assert body["checks"]["store"]["status"] == "fail"
    assert body["checks"]["store"]["error"].startswith("store unavailable: ")
    assert body["checks"]["store"]["buffered_batches"] >= 4
    time.sleep(max(0.0, OUTAGE_SECONDS - (time.time() - stopped)))
    assert rt.scheduler.running
    during = seen.since(stopped)
    assert len(during) >= OUTAGE_SECONDS  # two targets at 1 s: collection never stopped
    assert rt.snapshot is not None and rt.pipeline.store_state()["available"] is False

    embedded_pg.start()
    wait_until(lambda: rt.pipeline.buffer.stats().batches == 0 and rt.pipeline.store_available, 30,
               "buffer flushed after the store came back")
    assert health(rt)[0]["checks"]["store"]["status"] == "pass"
    for b in during:
        stored = rt.store.raw("lookout_target_up", {"target": b.target}, b.started_at - 0.001, b.started_at + 0.001)
        assert [round(p[0], 3) for sp in stored for p in sp.points] == [round(b.started_at, 3)], b
    assert rt.pipeline.buffer.stats().dropped_batches == 0
    messages = [r.getMessage() for r in caplog.records if r.name == "lookout.pipeline"]
    assert sum("store is unavailable, buffering" in m for m in messages) == 1  # once per state change
    assert sum("store is available again" in m for m in messages) == 1
    assert not [r for r in caplog.records if r.name.startswith("lookout") and r.exc_info]  # clear lines, no tracebacks
    # Evaluation waited for the backlog instead of judging windows with a gap: said once each way.
    wait_until(lambda: any("alert evaluation resumes" in r.getMessage() for r in caplog.records), 5,
               "evaluation resumed")
    assert sum("alert evaluation waits" in r.getMessage() for r in caplog.records) == 1
    assert sum("alert evaluation resumes" in r.getMessage() for r in caplog.records) == 1


def _batch(i: int) -> Batch:
    return Batch(target="t", kind="k", started_at=1000.0 + i, samples=[Sample("m", float(i))])


def test_the_buffer_drops_its_oldest_batches_past_the_count_bound_and_counts_them():
    buf = WriteBuffer(max_batches=3, max_bytes=10**9)
    for i in range(5):
        buf.append(_batch(i), 15.0)
    stats = buf.stats()
    assert (stats.batches, stats.dropped_batches, stats.dropped_samples) == (3, 2, 2)
    assert buf.peek()[0].started_at == 1002.0  # the newest three are kept, oldest first


def test_the_buffer_drops_its_oldest_batches_past_the_byte_bound():
    one = WriteBuffer().append(_batch(0), None) or 0  # noqa: F841 - size of one batch below
    from composition.buffer import estimate_bytes
    size = estimate_bytes(_batch(0))
    buf = WriteBuffer(max_batches=1000, max_bytes=size * 2)
    for i in range(10):
        buf.append(_batch(i), None)
    assert buf.stats().batches == 2 and buf.stats().dropped_batches == 8
    assert buf.stats().bytes <= size * 2
