"""The latest value of every series, pre-rendered for ``/metrics``.

Each collection of a target calls :meth:`Snapshot.update`; the target's
samples are rendered to exposition lines once, grouped by family, and the two
full bodies (Prometheus text 0.0.4 and OpenMetrics 1.0.0) are rebuilt by
joining bytes. A scrape only returns the current bytes: no query, no
formatting. Sample lines are identical in both formats (no timestamps, no
``_created``), so only the per-family headers differ.

Example::

    snap = Snapshot()
    snap.update("db", [Sample("pg_up", 1, {"target": "db"}, help="...")])
    snap.body(openmetrics=False)   # b"# HELP pg_up ...\\n# TYPE pg_up gauge\\npg_up{target=\\"db\\"} 1\\n..."

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

import gzip
import math
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from collectors.base import Sample

# Colons match Prometheus' metric-name regex but are reserved for recording
# rules: exporters must not use them and `promtool check metrics` flags them,
# so we treat them as invalid here.
_METRIC_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")

DROPPED_METRIC = "lookout_exporter_dropped_samples_total"
DROP_REASONS = ("conflict", "duplicate", "invalid_name", "invalid_value")
_NO_HELP = "No help text given by the collector."
_EXPORTER = "\0exporter"  # user of the exporter's own family; no target is named so
# With ~20 targets on 15 s intervals nearly every scrape sees a new version,
# so compression is usually paid by the scrape. At 10,000 series (1.1 MB)
# level 1 takes ~3.7 ms for 145 kB, level 6 ~10 ms for 128 kB (bench/).
GZIP_LEVEL = 1


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
class _Family:
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
    def make(cls, name: str, type_: str, help_: str) -> _Family:
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
class _Rendered:
    """One target's samples of one family, rendered."""

    type: str
    help: str
    lines: list[str]
    seen: set[tuple[tuple[str, str], ...]]
    chunk: bytes = b""
    count: int = 0


def _render(samples: Iterable[Sample], dropped: dict[str, int]) -> dict[str, _Rendered]:
    """Validate and render a batch, grouped by sample name (no shared state)."""
    groups: dict[str, _Rendered] = {}
    for s in samples:
        name = s.name
        if not isinstance(name, str) or not _valid_metric_name(name) or name == "_total" \
                or name == DROPPED_METRIC:
            dropped["invalid_name"] += 1
            continue
        try:
            value = float(s.value)
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
            group = groups[name] = _Rendered(type_, help_, [], set())
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


# -- the snapshot ------------------------------------------------------------------

class Snapshot:
    """Thread-safe latest-value store with pre-rendered exposition bodies.

    Writers (scheduler threads) serialise on a lock; readers take the current
    immutable ``(version, text, openmetrics)`` tuple without locking.
    When two targets define one family differently (kind or help), the
    definition seen first wins while any target still uses it; the other
    target's samples are dropped and counted (a mixed family is invalid).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._targets: dict[str, dict[str, _Rendered]] = {}
        self._families: dict[str, _Family] = {}
        self._claims: dict[str, str] = {}  # OpenMetrics sample name -> family name
        self._text_order: list[_Family] = []
        self._om_order: list[_Family] = []
        self._dropped = dict.fromkeys(DROP_REASONS, 0)
        self._series = 0
        self._version = 0
        self._bodies: tuple[int, bytes, bytes] = (0, b"", b"")
        self._gzipped: dict[bool, tuple[int, bytes]] = {}
        own = _Family.make(DROPPED_METRIC, "counter",
                           "Samples the /metrics exporter dropped because they would make the "
                           "exposition invalid, by reason.")
        own.users.add(_EXPORTER)
        self._add_family(own)
        with self._lock:
            self._rebuild(set())

    # -- writers ---------------------------------------------------------------------
    def update(self, target: str, samples: Sequence[Sample]) -> None:
        """Replace everything held for ``target`` with ``samples``."""
        dropped = dict.fromkeys(DROP_REASONS, 0)
        rendered = _render(samples, dropped)  # outside the lock: touches no shared state
        with self._lock:
            touched = self._release(target)
            accepted: dict[str, _Rendered] = {}
            for name, group in rendered.items():
                family = self._families.get(name)
                if family is None:
                    candidate = _Family.make(name, group.type, group.help)
                    if any(c in self._claims for c in candidate.claims):
                        family = None  # clashes with another family in OpenMetrics
                    else:
                        family = candidate
                        self._add_family(family)
                elif (family.type, family.help) != (group.type, group.help):
                    family = None
                if family is None:
                    dropped["conflict"] += group.count
                    continue
                family.users.add(target)
                accepted[name] = group
                touched.add(name)
            if accepted:
                self._targets[target] = accepted
            self._series += sum(g.count for g in accepted.values())
            for reason, n in dropped.items():
                self._dropped[reason] += n
            self._rebuild(touched)

    def remove(self, target: str) -> None:
        with self._lock:
            touched = self._release(target)
            if touched:
                self._rebuild(touched)

    # -- readers ---------------------------------------------------------------------
    def body(self, openmetrics: bool = False, *, gzipped: bool = False) -> bytes:
        """The current exposition; ``gzipped`` bodies are compressed once per version."""
        version, text, om = self._bodies
        raw = om if openmetrics else text
        if not gzipped:
            return raw
        cached = self._gzipped.get(openmetrics)
        if cached is not None and cached[0] == version:
            return cached[1]
        # Compressed outside the lock: two scrapes racing on a fresh version
        # may both compress, which is cheaper than making updates wait.
        data = gzip.compress(raw, compresslevel=GZIP_LEVEL, mtime=0)
        self._gzipped[openmetrics] = (version, data)
        return data

    @property
    def version(self) -> int:
        """Changes whenever the bodies change."""
        return self._bodies[0]

    def series_count(self) -> int:
        """Series held for targets (the exporter's own counter is not one)."""
        return self._series

    def dropped(self) -> dict[str, int]:
        with self._lock:
            return dict(self._dropped)

    # -- internals (caller holds the lock) ---------------------------------------------
    def _add_family(self, family: _Family) -> None:
        self._families[family.name] = family
        for claim in family.claims:
            self._claims[claim] = family.name
        self._text_order = []  # family set changed: re-sort on next rebuild

    def _release(self, target: str) -> set[str]:
        old = self._targets.pop(target, None)
        if not old:
            return set()
        self._series -= sum(g.count for g in old.values())
        for name in old:
            family = self._families[name]
            family.users.discard(target)
            if not family.users:
                del self._families[name]
                for claim in family.claims:
                    del self._claims[claim]
                self._text_order = []
        return set(old)

    def _rebuild(self, touched: set[str]) -> None:
        for name in touched:
            family = self._families.get(name)
            if family is not None:
                family.block = b"".join(self._targets[t][name].chunk for t in sorted(family.users))
        own = self._families[DROPPED_METRIC]
        own.block = "".join(f'{DROPPED_METRIC}{{reason="{r}"}} {n}\n'
                            for r, n in self._dropped.items()).encode()
        if not self._text_order:
            self._text_order = sorted(self._families.values(), key=lambda f: f.name)
            self._om_order = sorted(self._families.values(), key=lambda f: f.om_name)
        text = b"".join([b for f in self._text_order for b in (f.text_header, f.block)])
        om = b"".join([b for f in self._om_order for b in (f.om_header, f.block)] + [b"# EOF\n"])
        self._version += 1
        self._bodies = (self._version, text, om)
