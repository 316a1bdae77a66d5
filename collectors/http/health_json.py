"""A health JSON document (``/api/health``) mapped to dependency series.

Given ``{"status": "ok", "checks": {"db": {"status": "up", "latency_ms": 3.2}}}``
and ``health: {dependencies: $.checks, latency: latency_ms, latency_unit: ms}``
this yields ``lookout_http_dependency_up{probe,dependency="db"} 1`` and
``lookout_http_dependency_latency_seconds{probe,dependency="db"} 0.0032``.
Entries may also be a list (``[{"name": "db", "status": "up"}]``), named by
the ``name`` path. A bare status (``{"db": "ok"}``) is accepted too.
"""
from __future__ import annotations

from typing import Any

from collectors import jsonpath
from collectors.http.config import HealthMap
from collectors.http.probe import Fail
from core.samples import Sample

_UNIT = {"s": 1.0, "ms": 1e-3, "us": 1e-6}


def _is_up(value: Any, up_values: list[Any]) -> bool:
    for u in up_values:
        if isinstance(u, str) and isinstance(value, str):
            if u.lower() == value.lower():
                return True
        elif type(u) is type(value) and u == value:
            return True
    return False


def _entries(deps: Any, cfg: HealthMap) -> list[tuple[str, Any]]:
    if isinstance(deps, dict):
        return [(str(k), v) for k, v in deps.items()]
    if isinstance(deps, list):
        out = []
        for i, entry in enumerate(deps):
            name = jsonpath.get(entry, cfg.name, None) if isinstance(entry, dict) else None
            out.append((str(name) if name is not None else str(i), entry))
        return out
    raise Fail("invalid_health", f"{cfg.dependencies} is a {type(deps).__name__}, expected an object or a list")


def health_samples(probe: str, doc: Any, cfg: HealthMap) -> tuple[list[Sample], dict[str, Any]]:
    """Samples and a summary document; raises Fail('invalid_health') if the path is missing."""
    try:
        deps = jsonpath.get(doc, cfg.dependencies)
    except jsonpath.PathError as exc:
        raise Fail("invalid_health", f"health document: {exc}") from None
    samples: list[Sample] = []
    summary: dict[str, Any] = {}
    if cfg.overall is not None:
        overall = jsonpath.get(doc, cfg.overall, None)
        samples.append(Sample("lookout_http_health_up", float(_is_up(overall, cfg.up_values)), {"probe": probe},
                              help="1 if the health document's overall status is one of up_values."))
        summary["overall"] = overall
    for name, entry in _entries(deps, cfg):
        labels = {"probe": probe, "dependency": name}
        status = jsonpath.get(entry, cfg.status, None) if isinstance(entry, (dict, list)) else entry
        up = _is_up(status, cfg.up_values)
        samples.append(Sample("lookout_http_dependency_up", float(up), labels,
                              help="1 if the dependency reports an up status in the health document, else 0."))
        info: dict[str, Any] = {"status": status, "up": up}
        if cfg.latency is not None and isinstance(entry, (dict, list)):
            raw = jsonpath.get(entry, cfg.latency, None)
            if isinstance(raw, (int, float)) and not isinstance(raw, bool):
                seconds = raw * _UNIT[cfg.latency_unit]
                samples.append(Sample("lookout_http_dependency_latency_seconds", seconds, labels,
                                      help="Timing the health document reports for the dependency."))
                info["latency_seconds"] = seconds
        summary[name] = info
    return samples, summary
