"""The application's own pool: an HTTP JSON endpoint with fields mapped in
config, or the application's Prometheus metrics. Pure mapping functions
(document -> numbers) are kept apart from the HTTP call.
"""
from __future__ import annotations

from typing import Any

import requests
from prometheus_client.parser import text_string_to_metric_families

from collectors.base import CollectorError
from collectors.postgres.connection import safe_dsn
from collectors.postgres.rows import num

ROLES = ("in_use", "idle", "total", "waiting", "max")


def dig(doc: Any, path: str) -> Any:
    """``a.b.0.c`` in nested JSON; None when absent."""
    cur = doc
    for part in path.split("."):
        if isinstance(cur, dict):
            cur = cur.get(part)
        elif isinstance(cur, list) and part.isdigit() and int(part) < len(cur):
            cur = cur[int(part)]
        else:
            return None
    return cur


def from_json(doc: Any, fields: dict[str, str]) -> dict[str, float | None]:
    return {role: num(dig(doc, path)) for role, path in fields.items()}


def from_prometheus(text: str, fields: dict[str, str], labels: dict[str, str]) -> dict[str, float | None]:
    """Sum of the samples named in ``fields`` whose labels, where present, match ``labels``."""
    wanted = {name: role for role, name in fields.items()}
    out: dict[str, float | None] = {role: None for role in fields}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            role = wanted.get(s.name)
            if role and all(s.labels.get(k, v) == v for k, v in labels.items()):
                out[role] = (out[role] or 0.0) + s.value
    return out


def complete(values: dict[str, float | None]) -> dict[str, float | None]:
    """Derive in_use from total - idle, or total from in_use + idle, when one is missing."""
    v = {r: values.get(r) for r in ROLES}
    if v["in_use"] is None and v["total"] is not None and v["idle"] is not None:
        v["in_use"] = v["total"] - v["idle"]
    if v["total"] is None and v["in_use"] is not None and v["idle"] is not None:
        v["total"] = v["in_use"] + v["idle"]
    return v


def fetch(session: requests.Session, url: str, timeout: float) -> requests.Response:
    try:
        resp = session.get(url, timeout=timeout)
    except requests.RequestException as exc:
        raise CollectorError(f"{safe_dsn(url)}: {exc.__class__.__name__}") from None
    if resp.status_code != 200:
        raise CollectorError(f"{safe_dsn(url)}: HTTP {resp.status_code}", permanent=resp.status_code in (401, 403, 404))
    return resp
