"""The reusable collection threads: reuse, hung calls, idle exit, fork."""
from __future__ import annotations

import os
import threading
import time

from collectors import workers


def _run(fn, timeout: float = 5.0) -> None:
    assert workers.submit(fn).wait(timeout)


def test_a_thread_that_finished_a_call_runs_the_next_one():
    seen: list[threading.Thread] = []
    _run(lambda: seen.append(threading.current_thread()))
    _run(lambda: seen.append(threading.current_thread()))
    assert seen[0] is seen[1] and seen[0].daemon and seen[0].name == "collect"
    assert seen[0] is not threading.main_thread()


def test_a_hung_call_keeps_its_thread_and_delays_no_other():
    release, started = threading.Event(), threading.Event()
    seen: list[threading.Thread] = []

    def hang():
        seen.append(threading.current_thread())
        started.set()
        release.wait(10)
    hung = workers.submit(hang)
    assert started.wait(5)
    _run(lambda: seen.append(threading.current_thread()), timeout=1.0)
    assert seen[0] is not seen[1] and not hung.is_set()
    release.set()
    assert hung.wait(5)
    deadline = time.monotonic() + 5  # the hung thread comes back as an idle one
    while time.monotonic() < deadline and workers.idle_count() < 2:
        time.sleep(0.01)
    assert workers.idle_count() >= 2


def test_a_raising_call_does_not_kill_its_thread():
    seen: list[threading.Thread] = []

    def boom():
        seen.append(threading.current_thread())
        raise RuntimeError("collector bug")
    assert workers.submit(boom).wait(5)
    _run(lambda: seen.append(threading.current_thread()))
    assert seen[0] is seen[1] and seen[0].is_alive()


def test_an_idle_thread_exits_after_idle_exit(monkeypatch):
    monkeypatch.setattr(workers, "IDLE_EXIT", 0.2)
    seen: list[threading.Thread] = []
    _run(lambda: seen.append(threading.current_thread()))
    seen[0].join(5)
    assert not seen[0].is_alive()
    _run(lambda: seen.append(threading.current_thread()))  # a new one is started
    assert seen[1] is not seen[0]


def test_a_forked_child_runs_calls_on_threads_of_its_own():
    _run(lambda: None)  # the parent has an idle thread, which the child does not inherit
    assert workers.idle_count() >= 1
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        ok = workers.submit(lambda: None).wait(5)
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
