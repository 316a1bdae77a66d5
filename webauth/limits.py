"""Failed credential checks per client: past a bound, refuse with 429 before checking anything.

One :class:`FailureLimiter` per app serves every credential check: the ``/login``
form, ``/metrics`` basic auth and bearer token, and API bearer tokens. Failures are
counted per (kind, client address), so a Prometheus with a stale token does not lock
people out of ``/login`` from the same address, and each kind gets its own
``MAX_FAILURES`` in ``WINDOW`` seconds. While a client is over the bound, every
credential it sends is refused with 429 and ``Retry-After`` *without being checked*:
a guess that happens to be right must not show as a 200 either, and no hash is
computed (a /metrics password is a werkzeug scrypt hash, ~50 ms of CPU a try).

The counts are per process, in memory: several web replicas each allow their own
``MAX_FAILURES``. Memory is bounded: at most ``MAX_CLIENTS`` addresses are tracked,
the least recently failed forgotten first.
"""
from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

MAX_FAILURES = 10
WINDOW = 300.0
MAX_CLIENTS = 10_000


class FailureLimiter:
    def __init__(self, max_failures: int = MAX_FAILURES, window: float = WINDOW,
                 clock: Callable[[], float] = time.monotonic, max_clients: int = MAX_CLIENTS) -> None:
        self.max_failures = max_failures
        self.window = window
        self.clock = clock
        self.max_clients = max_clients
        self._failures: OrderedDict[tuple[str, str], deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def retry_after(self, kind: str, client: str) -> int | None:
        """Seconds until ``client`` may try ``kind`` again, or None if it may now."""
        now = self.clock()
        with self._lock:
            recent = self._failures.get((kind, client))
            if recent is None:
                return None
            while recent and now - recent[0] > self.window:
                recent.popleft()
            if not recent:
                del self._failures[(kind, client)]
                return None
            if len(recent) < self.max_failures:
                return None
            return max(1, math.ceil(self.window - (now - recent[0])))

    def failed(self, kind: str, client: str) -> None:
        now = self.clock()
        with self._lock:
            key = (kind, client)
            recent = self._failures.pop(key, None) or deque(maxlen=self.max_failures)
            recent.append(now)
            self._failures[key] = recent  # most recently failed last
            while len(self._failures) > self.max_clients:
                self._failures.popitem(last=False)

    def succeeded(self, kind: str, client: str) -> None:
        with self._lock:
            self._failures.pop((kind, client), None)
