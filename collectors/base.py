"""The Collector base class (samples and batches are in core.samples).

A collector turns one target into one :class:`Batch`. It knows nothing of the
store, alerts or dashboards. Kind-specific code implements only ``collect()``;
``run()`` (here, once for every kind) times it, enforces the target's timeout,
catches every error and always reports ``lookout_target_up`` and
``lookout_collect_duration_seconds`` with the error text.

Example::

    class Uptime(Collector):
        kind = "uptime"

        def collect(self) -> Iterable[Sample]:
            yield Sample("lookout_uptime_seconds", time.time() - START,
                         help="Seconds since start.")
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from collectors import workers
from core.samples import Batch, Sample


class CollectorError(Exception):
    """A clear, user-facing reason why a collection failed.

    ``permanent`` marks errors that retrying will not fix (bad credentials,
    a missing database); transient ones (timeouts, refused connections) are
    expected to clear by themselves.
    """

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class CollectorTimeout(CollectorError):
    pass


class Collector:
    """Base class: subclasses set ``kind`` and implement ``collect()``.

    ``target`` is the validated target config model (``composition.config.Target``);
    ``clock`` is injectable for tests. A collector instance lives as long as
    its target, so it may keep a connection and the previous poll's counters
    (to compute ratios from deltas) on ``self``.
    """

    kind: ClassVar[str] = ""
    # The peer exporter's own up series (``pg_up``, ``redis_up``), emitted on
    # every run so its dashboards and alerts work unchanged; see peer_up().
    up_metric: ClassVar[str | None] = None
    up_help: ClassVar[str] = ""

    def __init__(self, target: Any, *, clock: Callable[[], float] = time.time) -> None:
        self.target = target
        self.clock = clock
        # Filled by collect(): see Batch.documents and Batch.carried.
        self.documents: dict[str, Any] = {}
        self.carried: list[Sample] = []

    # -- to implement -------------------------------------------------------
    def collect(self) -> Iterable[Sample]:
        raise NotImplementedError

    def close(self) -> None:
        """Release connections; called on shutdown and after a timeout."""

    # -- the wrapper ---------------------------------------------------------
    @property
    def base_labels(self) -> dict[str, str]:
        return {"target": self.target.name, "kind": self.kind}

    def run(self) -> Batch:
        """Collect once, never raising. The batch always carries up and duration."""
        started = self.clock()
        t0 = time.perf_counter()
        self.documents, self.carried = {}, []
        batch = Batch(target=self.target.name, kind=self.kind, started_at=started)
        samples, error = _call_with_timeout(self._collect_list, self.target.timeout)
        batch.duration = time.perf_counter() - t0
        if error is None:
            batch.samples = _numbers(samples)
            batch.documents = dict(self.documents)
            batch.carried = _numbers(self.carried)
        else:
            batch.up = False
            batch.error = error
            if isinstance(error, str) and error.startswith("timed out"):
                # The hung call may still hold a connection: drop it so the
                # next run starts clean instead of queueing behind it.
                try:
                    self.close()
                except Exception:  # noqa: BLE001 - closing a broken client
                    pass
        batch.samples.extend(self._self_samples(batch))
        return batch

    def _collect_list(self) -> list[Sample]:
        return list(self.collect())

    def peer_up(self, batch: Batch) -> float:
        """Value of ``up_metric``: by default whether the collection succeeded."""
        return 1.0 if batch.up else 0.0

    def _self_samples(self, batch: Batch) -> list[Sample]:
        labels = self.base_labels
        out = []
        if self.up_metric and not any(s.name == self.up_metric for s in batch.samples):
            out.append(Sample(self.up_metric, self.peer_up(batch), help=self.up_help))
        return out + [
            Sample("lookout_target_up", 1.0 if batch.up else 0.0, labels,
                   help="1 if the last collection of the target succeeded, else 0."),
            Sample("lookout_collect_duration_seconds", batch.duration, labels,
                   help="Wall time of the last collection of the target."),
        ]


def _numbers(samples: list[Sample]) -> list[Sample]:
    """The samples whose value is a number and not NaN.

    A float is its own check (NaN != NaN): a PostgreSQL poll carries ~1,000
    samples of slow families; 34 us for them instead of 56 us (warm timeit).
    """
    return [s for s in samples if (s.value == s.value if type(s.value) is float else _is_number(s.value))]


def _is_number(value: object) -> bool:
    # NaN from a target is "no value", not a sample; +/-Inf are legal in
    # Prometheus exposition and kept.
    try:
        return not math.isnan(float(value))  # type: ignore[arg-type]  # anything else raises, caught
    except (TypeError, ValueError):
        return False


def _call_with_timeout(fn: Callable[[], list[Sample]], timeout: float) -> tuple[list[Sample], str | None]:
    """Run ``fn`` on a daemon thread (``collectors.workers``) and wait at most ``timeout`` seconds.

    Python cannot kill a thread, so a hung call is abandoned: its thread
    finishes or dies with the process, and the caller moves on with a
    "timed out" error. Collectors also set socket/statement timeouts of
    their own so abandoned threads end soon.
    """
    result: dict[str, Any] = {}

    def target() -> None:
        try:
            result["samples"] = fn()
        except CollectorError as exc:
            result["error"] = str(exc) or exc.__class__.__name__
        except Exception as exc:  # noqa: BLE001 - any failure becomes up=0 + text
            result["error"] = f"{exc.__class__.__name__}: {exc}"

    if not workers.submit(target).wait(timeout):
        return [], f"timed out after {timeout:g}s"
    if "error" in result:
        return [], result["error"]
    return result.get("samples", []), None
