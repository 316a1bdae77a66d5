from __future__ import annotations

import threading
import time
from collections.abc import Iterable

from collectors.base import Collector, CollectorError
from collectors.process import ProcessCollector, ProcessTarget
from core.samples import Sample
from core.targets import TargetBase


class Healthy(Collector):
    kind = "healthy"

    def collect(self) -> Iterable[Sample]:
        yield Sample("demo_value", 42.0, {"x": "1"}, help="a value")


class Raising(Collector):
    kind = "raising"

    def collect(self) -> Iterable[Sample]:
        yield Sample("half_done", 1.0)
        raise ConnectionRefusedError("connection refused on 127.0.0.1:1")


class Hanging(Collector):
    kind = "hanging"

    def __init__(self, target, **kw):
        super().__init__(target, **kw)
        self.release = threading.Event()
        self.closed = False

    def collect(self) -> Iterable[Sample]:
        # Every call hangs anew; close() frees only the call in progress.
        self.release = threading.Event()
        self.release.wait(30)
        return [Sample("too_late", 1.0)]

    def close(self) -> None:
        self.closed = True
        self.release.set()


def target(name: str, kind: str, timeout: float = 0.5) -> TargetBase:
    return TargetBase(name=name, kind=kind, interval=timeout * 4, timeout=timeout)


def by_name(batch):
    return {s.name: s for s in batch.samples}


def test_a_healthy_collector_reports_up_and_duration():
    batch = Healthy(target("ok", "healthy")).run()
    s = by_name(batch)
    assert batch.up and batch.error is None
    assert s["demo_value"].value == 42.0
    assert s["lookout_target_up"].value == 1.0
    assert s["lookout_target_up"].labels == {"target": "ok", "kind": "healthy"}
    assert 0 <= s["lookout_collect_duration_seconds"].value < 0.5


def test_a_raising_collector_records_up_0_with_its_error_and_no_partial_samples():
    batch = Raising(target("bad", "raising")).run()
    s = by_name(batch)
    assert not batch.up
    assert batch.error == "ConnectionRefusedError: connection refused on 127.0.0.1:1"
    assert s["lookout_target_up"].value == 0.0
    assert "half_done" not in s


def test_a_collector_error_keeps_its_message_plain():
    class Clear(Collector):
        kind = "clear"

        def collect(self):
            raise CollectorError("password authentication failed for user lookout", permanent=True)

    batch = Clear(target("c", "clear")).run()
    assert batch.error == "password authentication failed for user lookout"


def test_a_hanging_collector_is_cut_off_at_its_timeout_and_closed():
    c = Hanging(target("hang", "hanging", timeout=0.3))
    t0 = time.perf_counter()
    batch = c.run()
    elapsed = time.perf_counter() - t0
    assert not batch.up and batch.error == "timed out after 0.3s"
    assert elapsed < 2.0
    assert c.closed
    assert "too_late" not in by_name(batch)


def test_nan_values_are_dropped_and_infinities_kept():
    class Odd(Collector):
        kind = "odd"

        def collect(self):
            return [Sample("a", float("nan")), Sample("b", float("inf")), Sample("c", 1.0)]

    names = set(by_name(Odd(target("o", "odd")).run()))
    assert {"b", "c"} <= names and "a" not in names


def test_side_by_side_the_healthy_one_is_unaffected():
    collectors = [Healthy(target("ok", "healthy", 0.5)), Raising(target("bad", "raising", 0.5)),
                  Hanging(target("hang", "hanging", 0.5))]
    results: dict[str, object] = {}
    threads = [threading.Thread(target=lambda c=c: results.__setitem__(c.target.name, c.run())) for c in collectors]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert time.perf_counter() - t0 < 2.0
    assert results["ok"].up and by_name(results["ok"])["demo_value"].value == 42.0
    assert not results["bad"].up and not results["hang"].up


def test_the_process_collector_reports_this_process():
    batch = ProcessCollector(ProcessTarget(name="self")).run()
    s = by_name(batch)
    assert batch.up, batch.error
    assert s["lookout_process_resident_memory_bytes"].value > 1e6
    assert s["lookout_process_threads"].value >= 1
    assert s["lookout_process_cpu_seconds_total"].kind == "counter"


def test_the_process_collector_reports_a_missing_pid_as_down():
    batch = ProcessCollector(ProcessTarget(name="gone", pid=2**22 + 7)).run()
    assert not batch.up and "NoSuchProcess" in batch.error
