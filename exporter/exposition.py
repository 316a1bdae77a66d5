"""Prometheus text 0.0.4 and OpenMetrics 1.0.0: validation and rendering of samples.

Pure functions and the per-family headers that :mod:`exporter.snapshot` joins.

Naming and types (dashboards and rules for postgres_exporter and redis_exporter must
work, so every family keeps the peer's exact name and type):

- a sample's ``kind`` is its TYPE in 0.0.4: ``counter``, ``gauge`` or ``summary``, whatever
  the name ends in (see ``_exposed_type``);
- in OpenMetrics a counter named ``x_total`` is family ``x`` with sample ``x_total``; a
  counter without ``_total`` keeps its name and is typed ``unknown``, as client_golang
  writes it;
- samples of kind ``summary`` (``x{quantile=...}``, ``x_sum``, ``x_count``) make one
  summary family ``x`` in both formats, each label set's lines together.

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
_KINDS = frozenset({"counter", "gauge", "summary", "histogram"})
_COMPOSITE = frozenset({"summary", "histogram"})  # one family of several sample names


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


def _exposed_type(kind: str) -> str:
    """The 0.0.4 TYPE of a family: its kind, whatever the name ends in.

    The peers' names are kept together with their types: postgres_exporter's counters
    carry no ``_total`` (``pg_stat_database_blks_hit``, ``# TYPE ... counter``) and
    redis_exporter has gauges named ``..._total`` (``redis_migrate_cached_sockets_total``).
    Dashboards query those exact names, and tools that read the type (Grafana's
    metrics browser, recording-rule linters, rate() hints) see what the peer said.
    ``promtool check metrics`` dislikes such names; they are the peers' own and are
    listed with the reason in :mod:`exporter.lint_exceptions`. Lookout's own names
    follow the conventions, so the lint passes for them. (Until this change a counter
    without ``_total`` and a gauge with it were exposed untyped to please the lint.)
    A kind Lookout does not know is exposed untyped (``unknown`` in OpenMetrics).
    """
    return kind if kind in _KINDS else "untyped"


def summary_family(name: str, labels: Mapping[str, str], kind: str = "summary") -> str | None:
    """The family of a sample of kind ``summary`` (or ``histogram``), or None if its name fits
    no such shape.

    >>> summary_family("x", {"quantile": "0.5"}), summary_family("x_sum", {}), summary_family("x", {})
    ('x', 'x', None)
    >>> summary_family("x_bucket", {"le": "1"}, "histogram"), summary_family("x", {"le": "1"}, "histogram")
    ('x', None)
    """
    if kind == "histogram":
        if name.endswith("_bucket") and "le" in labels and len(name) > len("_bucket"):
            return name[: -len("_bucket")]
    elif "quantile" in labels:
        return name
    for suffix in ("_sum", "_count"):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return None


# -- one family ---------------------------------------------------------------------

@dataclass(eq=False, slots=True)
class Family:
    name: str          # the sample name, and the 0.0.4 family name
    om_name: str       # OpenMetrics family name (without _total for counters)
    type: str          # counter | gauge | summary | untyped (a kind the exporter does not know)
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
        if type_ == "counter" and name.endswith("_total"):
            om_name = name[: -len("_total")]
            claims = (om_name, name, om_name + "_created")
        elif type_ == "counter":
            om_type = "unknown"  # client_golang's OpenMetrics for a counter without _total
        elif type_ == "summary":
            claims = (name, name + "_sum", name + "_count", name + "_created")
        elif type_ == "histogram":
            claims = (name, name + "_bucket", name + "_sum", name + "_count", name + "_created")
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
    lines: list[tuple[tuple[str, ...], int, str]]  # (label set without quantile, part, line)
    seen: set[tuple[str, tuple[tuple[str, str], ...]]]
    chunk: bytes = b""
    count: int = 0


def _summary_problem(name: str, family: str, labels: Mapping[str, str], value: float,
                     kind: str = "summary") -> str | None:
    """Why a summary (or histogram) sample would make the exposition invalid (OpenMetrics' rules), else None."""
    if kind == "histogram" and name.endswith("_bucket"):
        try:
            float(labels["le"])
        except ValueError:
            return "invalid_value"
        return "invalid_value" if not value >= 0 or not value.is_integer() else None
    if kind == "histogram" and name.endswith("_sum"):
        return None if value == value else "invalid_value"  # a histogram's sum may be negative
    if name == family:  # a quantile
        try:
            q = float(labels["quantile"])
        except ValueError:
            return "invalid_value"
        # redis_exporter's latency summary labels quantiles in percent ("99.9"); its
        # dashboards query those, so only NaN and negative quantiles are refused.
        return "invalid_value" if not q >= 0 or value < 0 else None
    if not value >= 0 or (name.endswith("_count") and not value.is_integer()):
        return "invalid_value"  # _sum and _count are counter-like; a count is whole
    return None


def render(samples: Iterable[Sample], dropped: dict[str, int]) -> dict[str, Rendered]:
    """Validate and render a batch, grouped by family name (no shared state)."""
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
        labels: Mapping[str, str] = s.labels
        if not all(isinstance(k, str) and _valid_label_name(k) for k in labels):
            dropped["invalid_name"] += 1
            continue
        kind, family, part = s.kind, name, 0
        if kind == "counter" and not value >= 0:
            # OpenMetrics rejects negative and NaN counters; neither is a counter.
            dropped["invalid_value"] += 1
            continue
        if kind in _COMPOSITE:
            family = summary_family(name, labels, kind)  # type: ignore[assignment]  # None is refused here
            if family is None or not _valid_metric_name(family):
                dropped["invalid_name"] += 1
                continue
            if (problem := _summary_problem(name, family, labels, value, kind)) is not None:
                dropped[problem] += 1
                continue
            part = 2 if name.endswith("_count") and name != family else 1 if name.endswith("_sum") \
                and name != family else 0
        type_, help_ = _exposed_type(kind), s.help or _NO_HELP
        group = groups.get(family)
        if group is None:
            group = groups[family] = Rendered(type_, help_, [], set())
        elif group.type != type_ or group.help != help_:
            dropped["conflict"] += 1
            continue
        key = (name, tuple(sorted((k, str(v)) for k, v in labels.items())))
        if key in group.seen:
            dropped["duplicate"] += 1
            continue
        group.seen.add(key)
        if labels:
            inner = ",".join(f'{k}="{escape_label_value(str(v))}"' for k, v in labels.items())
            line = f"{name}{{{inner}}} {format_value(value)}\n"
        else:
            line = f"{name} {format_value(value)}\n"
        # Summaries and histograms: each label set's quantiles (buckets), _sum and _count adjacent.
        series = tuple(f"{k}={v}" for k, v in key[1] if k not in ("quantile", "le")) if kind in _COMPOSITE else ()
        group.lines.append((series, part, line))
    for group in groups.values():
        if group.type in _COMPOSITE:
            first: dict[tuple[str, ...], int] = {}
            for series, _part, _line in group.lines:
                first.setdefault(series, len(first))
            group.lines.sort(key=lambda t: (first[t[0]], t[1]))  # stable: quantiles keep their order
        group.chunk = "".join(t[2] for t in group.lines).encode()
        group.count = len(group.seen)
        group.lines, group.seen = [], set()
    return groups
