from __future__ import annotations

import time

from collectors.process import ProcessCollector, ProcessTarget
from composition.pipeline import Pipeline
from composition.scheduler import Scheduler
from exporter.snapshot import Snapshot
from store import Store
from tests.collectors.test_framework import Hanging, Healthy, Raising, target


def test_a_slow_or_failing_target_never_delays_or_stops_another(sqlite_store_url):
    store = Store(sqlite_store_url)
    store.migrate()
    pipeline = Pipeline(store, Snapshot())
    healthy = Healthy(target("ok", "healthy", timeout=0.4))   # every 1.6 s
    hanging = Hanging(target("hang", "hanging", timeout=0.4))
    raising = Raising(target("bad", "raising", timeout=0.4))
    sched = Scheduler([healthy, hanging, raising], pipeline, store)
    sched.start()
    try:
        time.sleep(5.2)
    finally:
        t0 = time.perf_counter()
        sched.shutdown()
        shutdown_took = time.perf_counter() - t0
    [ok] = store.raw("demo_value", {"target": "ok"}, 0, time.time() + 1)
    # Runs at 0, 1.6, 3.2, 4.8 s: the hung neighbour costs it nothing.
    assert len(ok.points) >= 3
    status = {s.target: s for s in store.target_status()}
    assert status["ok"].up and status["ok"].last_error is None
    assert not status["hang"].up and status["hang"].last_error == "timed out after 0.4s"
    assert not status["bad"].up and "ConnectionRefusedError" in status["bad"].last_error
    assert shutdown_took < 2.0
    assert not sched.running
    store.close()


def test_a_heartbeat_is_written_when_the_scheduler_starts(sqlite_store_url):
    store = Store(sqlite_store_url)
    store.migrate()
    sched = Scheduler([ProcessCollector(ProcessTarget(name="self", interval=30))], Pipeline(store, Snapshot()),
                      store, worker_id="w1")
    sched.start()
    try:
        deadline = time.time() + 5
        while time.time() < deadline and not (store.workers() and store.latest("lookout_target_up")):
            time.sleep(0.1)
        [w] = store.workers()
        assert w.worker_id == "w1" and w.role == "all"
        [up] = store.latest("lookout_target_up", {"target": "self"})
        assert up[2] == 1.0
    finally:
        sched.shutdown()
        store.close()
