"""What a target's probes say, next to whether its collection ran.

``lookout_target_up`` (and ``TargetStatus.up``) keeps Prometheus' meaning of
``up``: the collection ran. A target whose collection ran but whose probes
failed (an HTTP endpoint that hangs, answers garbage or 10 MB) is *failing*,
and the JSON API says so with the probe and the reason. The evidence is the
``probes`` document a probing collector writes on every poll, in the same
store transaction as the target's status (collectors/http/collector.py):
``{probe: {"ok": bool, "reason": str | None, "error": str | None, ...}}``.

A target's state, as ``/api/targets`` gives it in ``status``:

- ``down``: the last collection failed (``up: false``, ``last_error`` says why);
- ``failing``: the collection ran, one or more probes failed (``failing_probes``);
- ``up``: the collection ran and every probe passed;
- ``not collected``: no collection stored yet.

A ``probes`` document older than the target's last success (a poll that wrote
none) is not read as that poll's.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from core.masking import mask
from store import Document, TargetStatus

PROBES_DOC = "probes"
_SAME_POLL = 0.002  # seconds: both timestamps are the batch's start, stored in ms


def failing_probes(docs: Iterable[Document], statuses: dict[str, TargetStatus],
                   secrets: frozenset[str]) -> dict[str, list[dict[str, Any]]]:
    """Per target, the probes of its last successful poll that failed: probe, reason, error."""
    out: dict[str, list[dict[str, Any]]] = {}
    for doc in docs:
        st = statuses.get(doc.target)
        if st is None or st.last_success is None or doc.ts < st.last_success - _SAME_POLL:
            continue
        if not isinstance(doc.body, dict):
            continue
        failed = [{"probe": name, "reason": p.get("reason") or "failed",
                   "error": mask(str(p.get("error") or "failed"), secrets)}
                  for name, p in doc.body.items() if isinstance(p, dict) and p.get("ok") is False]
        if failed:
            out[doc.target] = failed
    return out


def state(status: TargetStatus | None, failing: list[dict[str, Any]]) -> str:
    if status is None:
        return "not collected"
    if not status.up:
        return "down"
    return "failing" if failing else "up"


def summary(failing: list[dict[str, Any]]) -> str:
    """One sentence for ``last_error``: ``2 probes failing: checkout (timeout): no response ...; ...``."""
    n = len(failing)
    return (f"{n} probe{'s' if n != 1 else ''} failing: "
            + "; ".join(f"{f['probe']} ({f['reason']}): {f['error']}" for f in failing))
