"""Prometheus text 0.0.4 and OpenMetrics 1.0.0: validation and rendering of samples.

Pure functions and the per-family headers that :mod:`exporter.snapshot` joins.

Naming (dashboards for postgres_exporter and redis_exporter must work):

- a counter named ``x_total`` is ``# TYPE x_total counter`` in 0.0.4 (as
  prometheus_client writes it) and family ``x`` with sample ``x_total`` in
  OpenMetrics;
- any other name keeps its exact spelling; see ``_exposed_type`` for when it
  is exposed as untyped/unknown instead of its kind.

Samples that would make the exposition invalid are dropped and counted in
``lookout_exporter_dropped_samples_total{reason=...}``.
"""
from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from core.samples import Sample

# rules: exporters must not use them and `promtool check metrics` flags them,
# so we treat them as invalid here.
_METRIC_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")

DROPPED_METRIC = "lookout_exporter_dropped_samples_total"
DROP_REASONS = ("conflict", "duplicate", "invalid_name", "invalid_value")
_NO_HELP = "No help text given by the collector."


# -- formatting (pure) ------------------------------------------------------------

def format_value(value: float) -> str:
    """Prometheus/OpenMetrics spelling of a value that round-trips through float().

    >>> format_value(3.0), format_value(0.1), format_value(float("inf"))
    ('3', '0.1', '+Inf')
    """
    if value != value:
        return "NaN"
    if value == math.inf:
        return "+Inf"
    if value == -math.inf:
        return "-Inf"
    if value.is_integer() and -1e15 < value < 1e15:
        return str(int(value))
    return repr(value)  # shortest string that round-trips; exponent form is valid in both formats


def escape_label_value(value: str) -> str:
    if "\\" in value or '"' in value or "\n" in value:
        return value.replace("\\", r"\\").replace('"', r"\"").replace("\n", r"\n")
    return value


def escape_help(text: str, *, openmetrics: bool) -> str:
    text = text.replace("\\", r"\\").replace("\n", r"\n")
    # 0.0.4 does not escape quotes in HELP; OpenMetrics does.
    return text.replace('"', r"\"") if openmetrics else text


@lru_cache(maxsize=4096)
def _valid_metric_name(name: str) -> bool:
    return _METRIC_NAME.fullmatch(name) is not None


@lru_cache(maxsize=4096)
def _valid_label_name(name: str) -> bool:
    return _LABEL_NAME.fullmatch(name) is not None and not name.startswith("__")


def _exposed_type(name: str, kind: str) -> str:
    """The 0.0.4 TYPE of a family.

    postgres_exporter exposes counters without ``_total``
    (``pg_stat_database_blks_hit``) and Grafana dashboards query those exact
    names, so we keep the name. Typing them ``counter`` would be flagged by
    ``promtool check metrics`` (counters must end in ``_total``) and, in
    OpenMetrics, would force the sample to be renamed ``..._total``. Exposed as
    untyped/unknown they keep their name, pass the lint, and PromQL's rate()
    works on them all the same (type metadata does not change queries).
    For the same reason a gauge ending in ``_total`` (the lint says only
    counters may) is exposed untyped rather than renamed.
    """
    total = name.endswith("_total")
    if kind == "counter":
        return "counter" if total else "untyped"
    return "untyped" if total else "gauge"


# -- one family ---------------------------------------------------------------------

@dataclass(eq=False, slots=True)
class Family:
    name: str          # the sample name, and the 0.0.4 family name
    om_name: str       # OpenMetrics family name (without _total for counters)
    type: str          # counter | gauge | untyped
    help: str
    text_header: bytes
    om_header: bytes
    claims: tuple[str, ...]  # sample names OpenMetrics reserves for this family
    users: set[str] = field(default_factory=set)
    block: bytes = b""  # every user's lines, joined in target order

    @classmethod
    def make(cls, name: str, type_: str, help_: str) -> Family:
        om_name, om_type = name, {"untyped": "unknown"}.get(type_, type_)
        claims: tuple[str, ...] = (name,)
        if type_ == "counter":
            om_name = name[: -len("_total")]
            claims = (om_name, name, om_name + "_created")
        text_header = (f"# HELP {name} {escape_help(help_, openmetrics=False)}\n"
                       f"# TYPE {name} {type_}\n").encode()
        om_header = (f"# HELP {om_name} {escape_help(help_, openmetrics=True)}\n"
                     f"# TYPE {om_name} {om_type}\n").encode()
        return cls(name, om_name, type_, help_, text_header, om_header, claims)


@dataclass(slots=True)
class Rendered:
    """One target's samples of one family, rendered."""

    type: str
    help: str
    lines: list[str]
    seen: set[tuple[tuple[str, str], ...]]
    chunk: bytes = b""
    count: int = 0


def render(samples: Iterable[Sample], dropped: dict[str, int]) -> dict[str, Rendered]:
    """Validate and render a batch, grouped by sample name (no shared state)."""
    groups: dict[str, Rendered] = {}
    for s in samples:
        name = s.name
        if not isinstance(name, str) or not _valid_metric_name(name) or name == "_total" \
                or name == DROPPED_METRIC:
            dropped["invalid_name"] += 1
            continue
        try:
            value = float(s.value)  # type: ignore[arg-type]  # None is caught below, like any non-number
        except (TypeError, ValueError):
            dropped["invalid_value"] += 1
            continue
        if s.kind == "counter" and not value >= 0:
            # OpenMetrics rejects negative and NaN counters; neither is a counter.
            dropped["invalid_value"] += 1
            continue
        labels: Mapping[str, str] = s.labels
        if not all(isinstance(k, str) and _valid_label_name(k) for k in labels):
            dropped["invalid_name"] += 1
            continue
        type_, help_ = _exposed_type(name, s.kind), s.help or _NO_HELP
        group = groups.get(name)
        if group is None:
            group = groups[name] = Rendered(type_, help_, [], set())
        elif group.type != type_ or group.help != help_:
            dropped["conflict"] += 1
            continue
        key = tuple(sorted((k, str(v)) for k, v in labels.items()))
        if key in group.seen:
            dropped["duplicate"] += 1
            continue
        group.seen.add(key)
        if labels:
            inner = ",".join(f'{k}="{escape_label_value(str(v))}"' for k, v in labels.items())
            group.lines.append(f"{name}{{{inner}}} {format_value(value)}\n")
        else:
            group.lines.append(f"{name} {format_value(value)}\n")
    for group in groups.values():
        group.chunk = "".join(group.lines).encode()
        group.count = len(group.seen)
        group.lines, group.seen = [], set()
    return groups


