"""A health JSON document (``/api/health``) mapped to dependency series.

Given ``{"status": "ok", "checks": {"db": {"status": "up", "latency_ms": 3.2}}}``
and ``health: {dependencies: $.checks, latency: latency_ms, latency_unit: ms}``
this yields ``lookout_http_dependency_up{probe,dependency="db"} 1`` and
``lookout_http_dependency_latency_seconds{probe,dependency="db"} 0.0032``.
Entries may also be a list (``[{"name": "db", "status": "up"}]``), named by
the ``name`` path. A bare status (``{"db": "ok"}``) is accepted too.

The document is mapped whatever the answer's status: a degraded service
answering 503 keeps its per-dependency series exactly when they matter.
"""
from __future__ import annotations

from typing import Any

from collectors import jsonpath
from collectors.http.config import HealthMap
from collectors.http.probe import Fail, ProbeResult, unexpected
from collectors.jsonpath import Misses
from core.samples import Sample

_UNIT = {"s": 1.0, "ms": 1e-3, "us": 1e-6}
_NOTHING = object()
# (path, matched) for each path looked up in one document.
Looked = list[tuple[str, bool]]


def _is_up(value: Any, up_values: list[Any]) -> bool:
    for u in up_values:
        if isinstance(u, str) and isinstance(value, str):
            if u.lower() == value.lower():
                return True
        elif type(u) is type(value) and u == value:
            return True
    return False


def _entries(deps: Any, cfg: HealthMap, looked: dict[str, bool]) -> list[tuple[str, Any]]:
    if isinstance(deps, dict):
        return [(str(k), v) for k, v in deps.items()]
    if isinstance(deps, list):
        out = []
        for i, entry in enumerate(deps):
            name = _lookup(entry, cfg.name, looked) if isinstance(entry, (dict, list)) else None
            out.append((str(name) if name is not None else str(i), entry))
        return out
    raise Fail("invalid_health", f"{cfg.dependencies} is a {type(deps).__name__}, expected an object or a list")


def _lookup(entry: Any, path: str, looked: dict[str, bool]) -> Any:
    """The value at ``path`` in one entry; notes whether the path matched in any entry."""
    value = jsonpath.get(entry, path, _NOTHING)
    looked[path] = looked.get(path, False) or value is not _NOTHING
    return None if value is _NOTHING else value


def health_samples(probe: str, doc: Any, cfg: HealthMap) -> tuple[list[Sample], dict[str, Any], Looked]:
    """Samples, a summary document and, per path looked up, whether it matched.

    The ``dependencies`` and ``overall`` paths miss when they match nothing in
    the document; the per-entry paths (``name``, ``status``, ``latency``) when
    they match in none of the entries, since documents often give a timing or
    a detail for some dependencies only. A missing ``dependencies`` raises
    Fail('mapping_miss'): nothing can be mapped then.
    """
    try:
        deps = jsonpath.get(doc, cfg.dependencies)
    except jsonpath.PathError as exc:
        raise Fail("mapping_miss", f"health document: {exc}") from None
    looked: dict[str, bool] = {cfg.dependencies: True}
    samples: list[Sample] = []
    summary: dict[str, Any] = {}
    if cfg.overall is not None:
        overall = jsonpath.get(doc, cfg.overall, _NOTHING)
        looked[cfg.overall] = overall is not _NOTHING
        if overall is not _NOTHING:
            samples.append(Sample("lookout_http_health_up", float(_is_up(overall, cfg.up_values)), {"probe": probe},
                                  help="1 if the health document's overall status is one of up_values."))
            summary["overall"] = overall
    for name, entry in _entries(deps, cfg, looked):
        labels = {"probe": probe, "dependency": name}
        structured = isinstance(entry, (dict, list))
        status = _lookup(entry, cfg.status, looked) if structured else entry
        up = _is_up(status, cfg.up_values)
        samples.append(Sample("lookout_http_dependency_up", float(up), labels,
                              help="1 if the dependency reports an up status in the health document, else 0."))
        info: dict[str, Any] = {"status": status, "up": up}
        if cfg.latency is not None and structured:
            raw = _lookup(entry, cfg.latency, looked)
            if isinstance(raw, (int, float)) and not isinstance(raw, bool):
                seconds = raw * _UNIT[cfg.latency_unit]
                samples.append(Sample("lookout_http_dependency_latency_seconds", seconds, labels,
                                      help="Timing the health document reports for the dependency."))
                info["latency_seconds"] = seconds
        summary[name] = info
    return samples, summary, [(path, matched) for path, matched in looked.items()]


def map_health(probe: str, cfg: HealthMap, res: ProbeResult, doc: dict[str, Any], misses: Misses) -> list[Sample]:
    """The health document's series, on any status; a miss fails a probe that had not failed yet.

    A probe that already failed (a 503) keeps that reason; a mapping problem then shows
    as ``health_error`` in its document (and misses still count).
    """
    problem: tuple[str, str] | None = None
    samples: list[Sample] = []
    try:
        samples, doc["health"], looked = health_samples(probe, res.json(), cfg)
    except Fail as exc:
        if exc.reason == "mapping_miss":
            misses.seen(probe, cfg.dependencies, False, str(exc).rpartition("matched nothing")[2].strip())
        problem = (exc.reason, str(exc))
    except Exception as exc:  # noqa: BLE001 - a mapping bug fails this probe, not the target
        problem = unexpected(probe, exc)
    else:
        missed = [p for p, ok in looked if not ok]
        misses.seen_all(probe, [p for p, _ in looked], missed)
        if missed:
            whole = {cfg.dependencies, cfg.overall}
            problem = ("mapping_miss", "health document: " + "; ".join(
                f"path {p!r} matched nothing" if p in whole
                else f"path {p!r} matched nothing in any entry of {cfg.dependencies!r}" for p in missed))
    if problem is not None:
        if res.ok:
            res.fail(*problem)
        else:
            doc["health_error"] = problem[1]
    return samples
