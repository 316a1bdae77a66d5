"""Store calls with a deadline, for answers that must come back whatever the store does.

``/api/health`` is what a load balancer and an on-call engineer ask when
something is wrong, so it must answer within a second even when the store
hangs (SIGSTOP, a stuck failover, a partition without RST) instead of
refusing. Python cannot interrupt a blocked driver call: the call runs on a
daemon thread and the caller stops waiting at the deadline. At most
``limit`` such calls may still hang at once; past that the caller is told at
once, so a store that hangs cannot pile up threads.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Late(Exception):
    """The store did not answer within the deadline."""


class Outcome(Generic[T]):
    def __init__(self) -> None:
        self.done = threading.Event()
        self.value: T | None = None
        self.error: BaseException | None = None


class Bounded:
    def __init__(self, limit: int = 4) -> None:
        self.limit = limit
        self._running = 0
        self._lock = threading.Lock()

    def call(self, fn: Callable[[], T], timeout: float) -> T:
        """``fn()``, or :class:`Late` after ``timeout`` seconds (or at once while ``limit`` calls hang)."""
        with self._lock:
            if self._running >= self.limit:
                raise Late(f"{self._running} earlier store calls have not returned")
            self._running += 1
        out: Outcome[T] = Outcome()

        def run() -> None:
            try:
                out.value = fn()
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                out.error = exc
            finally:
                with self._lock:
                    self._running -= 1
                out.done.set()

        threading.Thread(target=run, name="lookout-bounded-store-call", daemon=True).start()
        if not out.done.wait(timeout):
            raise Late(f"no answer within {timeout:g}s")
        if out.error is not None:
            raise out.error
        return out.value  # type: ignore[return-value]  # set when fn returned
