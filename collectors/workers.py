"""Reusable daemon threads on which collections run under their timeout.

``Collector.run()`` waits for ``collect()`` at most the target's timeout, so
``collect()`` runs on another thread. Starting a fresh thread for every call
cost 0.1-0.4 ms of a 2-3 ms PostgreSQL poll (docs/BENCHMARKS.md); here a thread
that has finished a call waits for the next one instead.

- A call that hangs keeps its thread (Python cannot kill one); the next call
  takes another idle thread or starts a new one, so a hung target never
  delays another. The hung thread rejoins the idle ones if it ever returns.
- Idle threads exit after ``IDLE_EXIT`` seconds, and the most recently used
  is reused first, so the count follows how many collections really overlap
  (at most the scheduler's pool, plus hung calls), not the number of targets.
- A forked child starts with no idle threads (their threads do not exist
  there).
"""
from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable

IDLE_EXIT = 60.0  # seconds an idle thread waits for work before it exits

_idle: list[queue.SimpleQueue] = []  # inboxes of idle threads, most recently idle last
_lock = threading.Lock()


def submit(fn: Callable[[], None]) -> threading.Event:
    """Run ``fn`` on an idle thread (or a new one); the event is set when it returns.

    ``fn`` must not raise: wrap it so its outcome is recorded where the
    caller looks (``collectors.base._call_with_timeout`` does).
    """
    done = threading.Event()
    with _lock:
        inbox = _idle.pop() if _idle else None
    if inbox is None:
        inbox = queue.SimpleQueue()
        threading.Thread(target=_serve, args=(inbox,), name="collect", daemon=True).start()
    inbox.put((fn, done))
    return done


def idle_count() -> int:
    with _lock:
        return len(_idle)


def _serve(inbox: queue.SimpleQueue) -> None:
    while True:
        try:
            fn, done = inbox.get(timeout=IDLE_EXIT)
        except queue.Empty:
            with _lock:
                if any(q is inbox for q in _idle):
                    _idle[:] = [q for q in _idle if q is not inbox]
                    return
            continue  # taken from the idle list just now: its job is on the way
        try:
            fn()
        except BaseException:  # noqa: BLE001 - fn records its own errors; this thread must live on
            pass
        done.set()
        fn = done = None  # do not keep the last job alive while idle
        with _lock:
            _idle.append(inbox)


def _forget_after_fork() -> None:
    global _lock
    _lock = threading.Lock()
    _idle.clear()


os.register_at_fork(after_in_child=_forget_after_fork)
