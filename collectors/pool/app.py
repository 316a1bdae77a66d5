"""The application's own pool: an HTTP JSON endpoint with fields mapped in
config, or the application's Prometheus metrics. Pure mapping functions
(document -> numbers) are kept apart from the HTTP call.

JSON fields are paths of Lookout's one dialect (collectors.jsonpath:
``$.pool.totalCount`` or ``pool.totalCount``). A field that matches nothing,
or matches something that is not a number, is a *problem* the mapping
returns: the collector reports it instead of dropping the series silently.
"""
from __future__ import annotations

import re
from typing import Annotated, Any

import requests
from prometheus_client.parser import text_string_to_metric_families
from pydantic import AfterValidator

from collectors import jsonpath
from collectors.base import CollectorError
from collectors.postgres.connection import safe_dsn
from collectors.postgres.rows import num

ROLES = ("in_use", "idle", "total", "waiting", "max")


_METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_NOTHING = object()
NOTHING = "matched nothing"


def _path_or_metric(value: str) -> str:
    """A JSON path (url sources) or a metric name (metrics_url sources): a malformed path is an error here."""
    try:
        jsonpath.parse(value)
    except jsonpath.PathError:
        if not _METRIC_NAME.match(value):
            raise
    return value


# A pool field: checked at config load, so a malformed path is an error at its key.
FieldRef = Annotated[str, AfterValidator(_path_or_metric)]


def from_json(doc: Any, fields: dict[str, str]) -> tuple[dict[str, float | None], dict[str, str]]:
    """Values per role, and per path that gave none the problem (``NOTHING`` or "is a ..., not a number")."""
    values: dict[str, float | None] = {}
    problems: dict[str, str] = {}
    for role, path in fields.items():
        found = jsonpath.get(doc, path, _NOTHING)
        values[role] = None if found is _NOTHING else num(found)
        if found is _NOTHING:
            problems[path] = NOTHING
        elif values[role] is None:
            problems[path] = f"is {type(found).__name__} {str(found)[:40]!r}, not a number"
    return values, problems


def from_prometheus(text: str, fields: dict[str, str],
                    labels: dict[str, str]) -> tuple[dict[str, float | None], dict[str, str]]:
    """Sum of the samples named in ``fields`` whose labels, where present, match ``labels``;
    and the names no sample matched."""
    wanted = {name: role for role, name in fields.items()}
    out: dict[str, float | None] = {role: None for role in fields}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            role = wanted.get(s.name)
            if role and all(s.labels.get(k, v) == v for k, v in labels.items()):
                out[role] = (out[role] or 0.0) + s.value
    return out, {fields[role]: NOTHING for role, v in out.items() if v is None}


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
