"""``kind: process``: Lookout's own process (CPU, memory, fds, threads).

Names follow the Prometheus client conventions for process metrics, with the
``lookout_`` prefix because the process is Lookout itself.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import psutil
from pydantic import Field

from collectors.base import Collector
from core.samples import Sample
from core.targets import TargetBase


class ProcessTarget(TargetBase):
    """Lookout's own CPU, memory, open files and threads."""

    kind: Literal["process"] = "process"
    pid: int | None = Field(None, description="Process to watch; empty: Lookout itself.")


class ProcessCollector(Collector):
    kind = "process"

    def __init__(self, target: ProcessTarget, **kw) -> None:
        super().__init__(target, **kw)
        self.proc: psutil.Process | None = None

    def collect(self) -> Iterable[Sample]:
        if self.proc is None:  # here, not in __init__: a missing pid is a collection error
            self.proc = psutil.Process(self.target.pid)
        p = self.proc
        with p.oneshot():
            cpu = p.cpu_times()
            mem = p.memory_info()
            yield Sample("lookout_process_cpu_seconds_total", cpu.user + cpu.system, kind="counter",
                         help="User and system CPU time spent by the process.")
            yield Sample("lookout_process_resident_memory_bytes", mem.rss, help="Resident set size.")
            yield Sample("lookout_process_virtual_memory_bytes", mem.vms, help="Virtual memory size.")
            yield Sample("lookout_process_threads", p.num_threads(), help="Number of OS threads.")
            try:
                yield Sample("lookout_process_open_fds", p.num_fds(), help="Number of open file descriptors.")
            except AttributeError:  # Windows has handles, not fds
                pass
            yield Sample("lookout_process_start_time_seconds", p.create_time(),
                         help="Start time of the process since the Unix epoch.")
