"""``/api/health``: is Lookout itself working, and how are its targets.

Status, in the spirit of the IETF health-check draft (pass, warn, fail):
- fail (HTTP 503): Lookout cannot do its job: the store is not writable, or
  no scheduler is alive (in-process, or a worker heartbeat for web replicas).
- warn (HTTP 200): Lookout works but something it watches is down, stale, or
  failing its probes (the collection ran, an HTTP probe did not pass: the target
  lists ``failing_probes`` with probe and reason, see api.probes).
  A watched database being down is not Lookout failing: a load balancer must
  not take Lookout out of rotation exactly when it is needed most.
- pass (HTTP 200): everything collected recently.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from api import probes
from api.bounded import Bounded, Late
from api.context import ApiRuntime
from core.masking import mask
from core.targets import TargetBase
from store import TargetStatus

# A target is stale when its last success is older than this many intervals.
STALE_INTERVALS = 3
HEARTBEAT_STALE_SECONDS = 45.0
# Each store read of a health check gets this long; the whole answer stays under a second.
STORE_DEADLINE = 0.3
_bounded = Bounded()  # per process: at most a few health reads of a hanging store at once


def iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, tz=UTC).isoformat().replace("+00:00", "Z")


def health(runtime: ApiRuntime) -> tuple[dict[str, Any], int]:
    now = runtime.clock()
    secrets = runtime.config.secret_values
    checks: dict[str, dict[str, Any]] = {}

    checks["store"] = _store_check(runtime, secrets)
    store_error = checks["store"]["status"] == "fail"

    checks["scheduler"] = _scheduler_check(runtime, now)

    statuses: dict[str, TargetStatus] = {}
    failing: dict[str, list[dict[str, Any]]] = {}
    if not store_error:
        store = runtime.store
        try:
            # One bounded call for both reads: the answer stays within its second.
            rows, docs = _bounded.call(lambda: (store.target_status(), store.documents(key=probes.PROBES_DOC)),
                                       STORE_DEADLINE)
            statuses = {s.target: s for s in rows}
            failing = probes.failing_probes(docs, statuses, secrets)
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            checks["store"] = {**checks["store"], "status": "fail",
                               "error": "store unavailable: " + mask(f"{exc.__class__.__name__}: {exc}", secrets)}

    targets = [_target_entry(t, statuses.get(t.name), failing.get(t.name, []), now, secrets)
               for t in runtime.config.targets]
    worst = "pass"
    if any(t["status"] != "pass" for t in targets):
        worst = "warn"
    if any(c["status"] == "warn" for c in checks.values()):
        worst = "warn"
    if any(c["status"] == "fail" for c in checks.values()):
        worst = "fail"
    body = {"status": worst, "time": iso(now), "role": runtime.role, "checks": checks, "targets": targets}
    return body, 503 if worst == "fail" else 200


def _store_check(runtime: ApiRuntime, secrets: frozenset[str]) -> dict[str, Any]:
    """fail while the store takes no writes; warn while it is back but buffered batches still wait.

    The collecting process knows first (its writer marks a write that hangs);
    otherwise a tiny write transaction, bounded by STORE_DEADLINE, tells.
    """
    state = runtime.pipeline.store_state()
    error: str | None = None
    if not state["available"]:
        error = state["last_error"] or "writes are failing"
    else:
        try:
            error = _bounded.call(runtime.store.check_writable, STORE_DEADLINE)
        except Late as exc:
            error = f"the store did not answer: {exc}"
    check: dict[str, Any] = {"status": "fail" if error else "pass", "available": error is None}
    if error:
        check["error"] = "store unavailable: " + mask(error, secrets)
    check.update(buffered_batches=state["buffered_batches"], buffered_bytes=state["buffered_bytes"],
                 dropped_batches_total=state["dropped_batches_total"],
                 unavailable_since=iso(state["unavailable_since"]))
    if not error and state["buffered_batches"]:
        check["status"] = "warn"  # writable again: the next collection writes what waits
    return check


def _scheduler_check(runtime: ApiRuntime, now: float) -> dict[str, Any]:
    if runtime.scheduler is not None:
        ok = runtime.scheduler.running
        return {"status": "pass" if ok else "fail", "running": ok}
    # A web replica has no scheduler of its own: look for a live worker.
    try:
        beats = [w.heartbeat_ts for w in _bounded.call(runtime.store.workers, STORE_DEADLINE)]
    except Exception:  # noqa: BLE001 - the store check reports the cause
        beats = []
    age = now - max(beats) if beats else None
    ok = age is not None and age < HEARTBEAT_STALE_SECONDS
    return {"status": "pass" if ok else "fail", "running": ok,
            "last_heartbeat_age_seconds": None if age is None else round(age, 3)}


def _target_entry(target: TargetBase, status: TargetStatus | None, failing: list[dict[str, Any]], now: float,
                  secrets: frozenset[str]) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": target.name, "kind": target.kind, "interval_seconds": target.interval}
    if status is None:
        entry.update(status="warn", up=None, state=probes.state(None, []), failing_probes=[], last_success=None,
                     last_success_age_seconds=None, last_error="not collected yet")
        return entry
    age = None if status.last_success is None else round(now - status.last_success, 3)
    stale = age is None or age > STALE_INTERVALS * target.interval
    failing = failing if status.up else []
    error = mask(status.last_error, secrets) if status.last_error else None
    entry.update(
        status="pass" if status.up and not stale and not failing else "warn",
        up=bool(status.up),
        state=probes.state(status, failing),
        failing_probes=failing,
        last_attempt=iso(status.last_attempt),
        last_success=iso(status.last_success),
        last_success_age_seconds=age,
        last_duration_seconds=status.duration,
        last_error=probes.summary(failing) if failing else error,
    )
    return entry
