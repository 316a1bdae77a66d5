"""Pure recognisers: a health document, a pool document, a cache header, mapped to target config.

Each takes what the application answered and returns the config that reads it (or None), with
the name of the shape it recognised, so ``discover`` can say what it saw::

    >>> health_map({"status": "UP", "components": {"db": {"status": "UP"}}})
    ({'dependencies': '$.components', 'status': 'status', 'overall': '$.status'}, 'Spring Boot Actuator')
    >>> pool_fields({"totalCount": 3, "idleCount": 1, "waitingCount": 0, "max": 10})
    ({'total': 'totalCount', 'idle': 'idleCount', 'waiting': 'waitingCount', 'max': 'max'}, 'node-postgres')
"""
from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

_STATUS_KEYS = ("status", "state", "health")
_NAME_KEYS = ("name", "component", "componentId", "id", "service")
_DEPENDENCY_KEYS = ("services", "checks", "dependencies", "components", "details", "info")
# A key holding a timing, and the unit its suffix names (responseTime is milliseconds by convention).
_LATENCY = re.compile(r"^(latency|response_?time|duration|took|elapsed|time)[_]?(ms|millis|us|micros|s|seconds)?$",
                      re.I)
_UNIT = {"ms": "ms", "millis": "ms", "us": "us", "micros": "us", "s": "s", "seconds": "s"}
DEFAULT_UP = ("ok", "up", "pass", "passing", "healthy", True)


def _is_up(value: Any) -> bool:
    return any((isinstance(u, str) and isinstance(value, str) and u == value.lower())
               or (type(u) is type(value) and u == value) for u in DEFAULT_UP)


def _latency(entries: list[Any]) -> dict[str, str]:
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        for key, value in entry.items():
            m = _LATENCY.match(key) or _LATENCY.match(re.sub(r"(?<=[a-z])([A-Z])", r"_\1", key))
            if not m or not isinstance(value, (int, float)) or isinstance(value, bool):
                continue
            unit = _UNIT.get((m.group(2) or "").lower()) or ("ms" if "response" in key.lower() else None)
            if unit:
                return {"latency": key, "latency_unit": unit}
    return {}


def _status_key(entries: list[Any]) -> str | None:
    dicts = [e for e in entries if isinstance(e, dict)]
    for key in _STATUS_KEYS:
        if dicts and all(key in e for e in dicts):
            return key
    return None


def _overall(doc: dict[str, Any]) -> dict[str, str]:
    return {"overall": "$.status"} if isinstance(doc.get("status"), (str, bool)) else {}


def health_map(doc: Any) -> tuple[dict[str, Any], str] | None:
    """The http probe's ``health:`` mapping for a health document, and the shape's name."""
    if not isinstance(doc, dict):
        return None
    # Spring Boot Actuator: 2.2+ names the dependencies components, 2.0-2.1 details.
    for key in ("components", "details"):
        deps = doc.get(key)
        if isinstance(deps, dict) and deps and all(isinstance(v, dict) and "status" in v for v in deps.values()) \
                and isinstance(doc.get("status"), str) and doc["status"].isupper():
            return {"dependencies": f"$.{key}", "status": "status", **_overall(doc)}, "Spring Boot Actuator"
    checks = doc.get("checks")
    # IETF draft (application/health+json): checks: {"component:measure": [{status, observedValue, ...}]}
    if isinstance(checks, dict) and checks and all(
            isinstance(v, list) and v and isinstance(v[0], dict) for v in checks.values()):
        out: dict[str, Any] = {"dependencies": "$.checks", "status": "$[0].status", **_overall(doc)}
        firsts = [v[0] for v in checks.values()]
        unit = next((_UNIT.get(str(e.get("observedUnit", "")).lower()) for e in firsts
                     if isinstance(e.get("observedValue"), (int, float)) and e.get("observedUnit")), None)
        if unit:
            out |= {"latency": "$[0].observedValue", "latency_unit": unit}
        return out, "IETF health+json draft"
    for key in _DEPENDENCY_KEYS:
        deps = doc.get(key)
        if isinstance(deps, dict) and deps:
            entries = list(deps.values())
            if not all(isinstance(e, (dict, str, bool)) for e in entries):
                continue
            status = _status_key(entries)
            if any(isinstance(e, dict) for e in entries) and status is None:
                continue
            return ({"dependencies": f"$.{key}", "status": status or "status", **_latency(entries),
                     **_overall(doc)}, f"Node-style {{status, {key}}}")
        if isinstance(deps, list) and deps and all(isinstance(e, dict) for e in deps):
            status = _status_key(deps)
            name = next((k for k in _NAME_KEYS if all(k in e for e in deps)), None)
            if status and name:
                return ({"dependencies": f"$.{key}", "name": name, "status": status, **_latency(deps),
                         **_overall(doc)}, f"{key} array")
    return None


def overall_status(doc: Any) -> Any:
    """The document's top-level status, if it has one (a health document without dependencies)."""
    return doc.get("status") if isinstance(doc, dict) else None


def unknown_up_value(doc: Any, mapping: Mapping[str, Any]) -> Any:
    """The overall status of a healthy answer when the default up values would not call it up."""
    value = overall_status(doc) if mapping.get("overall") else None
    return value if value is not None and not _is_up(value) else None


# Pool documents: role -> the keys that hold it, in order of preference. A shape matches an object
# that has all its ``needs``; fields are the roles whose key is present.
POOL_SHAPES: tuple[tuple[str, tuple[str, ...], dict[str, tuple[str, ...]]], ...] = (
    ("node-postgres", ("totalCount", "idleCount"),
     {"total": ("totalCount",), "idle": ("idleCount",), "waiting": ("waitingCount",),
      "max": ("max", "maxCount", "maxSize", "maxConnections")}),
    ("HikariCP", ("activeConnections", "idleConnections"),
     {"in_use": ("activeConnections",), "idle": ("idleConnections",), "total": ("totalConnections",),
      "waiting": ("threadsAwaitingConnection", "pendingThreads"),
      "max": ("maxPoolSize", "maximumPoolSize", "maxConnections", "max")}),
    ("SQLAlchemy", ("size",),
     {"in_use": ("checked_out", "checkedout"), "idle": ("checked_in", "checkedin", "idle"),
      "waiting": ("waiting",), "max": ("max", "max_size", "size")}),
)


def _objects(doc: Any, prefix: str = "", depth: int = 0) -> Iterator[tuple[str, dict[str, Any]]]:
    if not isinstance(doc, dict) or depth > 3:
        return
    yield prefix, doc
    for key, value in doc.items():
        if isinstance(key, str) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", key):
            yield from _objects(value, f"{prefix}{key}.", depth + 1)


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def pool_fields(doc: Any) -> tuple[dict[str, str], str] | None:
    """The pool target's ``fields:`` (role -> dotted JSON path) for a pool document, and the shape."""
    for prefix, obj in _objects(doc):
        for shape, needs, roles in POOL_SHAPES:
            if not all(_number(obj.get(k)) for k in needs):
                continue
            fields = {}
            for role, keys in roles.items():
                key = next((k for k in keys if _number(obj.get(k))), None)
                if key:
                    fields[role] = prefix + key
            if shape == "SQLAlchemy" and "in_use" not in fields:
                continue  # a bare "size" is not a pool
            return fields, shape
    return None


# Cache headers: name -> (hit values, miss values) as the collector compares them.
CACHE_HEADERS: dict[str, tuple[list[str], list[str]]] = {
    "X-Cache": (["HIT"], ["MISS"]),
    "X-Cache-Status": (["HIT", "STALE", "UPDATING", "REVALIDATED"], ["MISS", "EXPIRED", "BYPASS"]),
    "CF-Cache-Status": (["HIT", "STALE", "UPDATING", "REVALIDATED"], ["MISS", "EXPIRED"]),
}


def cache_header(headers: Mapping[str, str]) -> tuple[str, str] | None:
    """(header name as Lookout spells it, its value) of the first cache header in a response."""
    lower = {k.lower(): v for k, v in headers.items()}
    for name in CACHE_HEADERS:
        if name.lower() in lower:
            return name, lower[name.lower()]
    return None
