"""The metric catalogue: every metric each collector kind can produce.

Each kind declares its metrics in ``collectors/<kind>/catalogue.py`` (``METRICS``, built
from the kind's own mapping tables wherever it has them, so a row added there is in the
catalogue without a second edit), and, where a target's config names metrics of its own
(a SQL query's ``metric:``, an application's scraped histogram), ``from_target(target)``.
Lookout's own series (``lookout_target_up``, the store's) are declared here.

A name with a ``<part>`` in it is a pattern: ``pg_settings_<setting>`` stands for one series
per server setting. ``labels`` are those the collector sets; every series also carries
``target`` and the target's ``labels:`` from the config (see :data:`ADDED_LABELS`).

tests/catalogue/ runs a real collection of every kind and fails when a collector emits a
name the catalogue lacks, or types or labels it differently.
"""
from __future__ import annotations

import difflib
import importlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from core.samples import Sample
from core.units import unit_for_metric

# Labels the pipeline adds to every series of a target, besides the target's own `labels:`.
ADDED_LABELS: tuple[str, ...] = ("target",)
# Kinds in the order people meet them; "lookout" is Lookout itself (no target of its own).
KINDS: tuple[str, ...] = ("postgres", "pool", "redis", "http", "sql", "process", "lookout")
_MODULES = {"postgres": "collectors.postgres.catalogue", "pool": "collectors.pool.catalogue",
            "redis": "collectors.redis.catalogue", "http": "collectors.http.catalogue",
            "sql": "collectors.sql.catalogue"}
_PART = re.compile(r"<[a-z_]+>")
EVERY_POLL = None


@dataclass(frozen=True)
class Metric:
    """One metric (or one pattern of metrics) a collector kind can produce.

    ``type`` is the sample kind (gauge, counter, summary, histogram), or ``scraped`` for series
    re-exported as an application types them. ``interval`` is the default in seconds;
    None: every poll of the target. ``open_labels``: the labels depend on what the
    target answers (a SQL query's label columns, an application's own labels), so
    any label name is plausible. ``origin`` says where a config-derived entry comes from.
    """

    name: str
    type: str
    help: str
    kind: str
    family: str
    labels: tuple[str, ...] = ()
    interval: float | None = EVERY_POLL
    unit: str = ""
    open_labels: bool = False
    origin: str = ""
    _rx: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self.unit:
            unit: str = unit_for_metric(_PART.sub("", self.name))
            if "in milliseconds" in self.help:  # postgres_exporter keeps a few of PostgreSQL's own units
                unit = "milliseconds"
            elif unit == "none" and self.type == "counter":
                unit = "count"
            object.__setattr__(self, "unit", unit)
        if _PART.search(self.name):
            parts = _PART.split(self.name)
            rx = "[a-zA-Z0-9_:]+".join(re.escape(p) for p in parts)
            object.__setattr__(self, "_rx", re.compile(rx))

    @property
    def is_pattern(self) -> bool:
        return self._rx is not None

    def matches(self, name: str) -> bool:
        return name == self.name if self._rx is None else bool(self._rx.fullmatch(name))

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "unit": self.unit, "labels": list(self.labels),
                "open_labels": self.open_labels, "help": self.help, "kind": self.kind, "family": self.family,
                "interval": self.interval, "pattern": self.is_pattern, "origin": self.origin}


def from_table(rows: Iterable[Sequence[Any]], *, kind: str, family: str, labels: Sequence[str] = (),
               interval: float | None = EVERY_POLL, name_at: int = 1, type_at: int = 2,
               help_at: int = 4, type_: str | None = None) -> list[Metric]:
    """Entries from a kind's mapping table: rows of (field, metric, kind, ..., help)."""
    return [Metric(r[name_at], type_ or r[type_at], r[help_at], kind, family, tuple(labels), interval)
            for r in rows]


# -- what every target and Lookout itself produce ---------------------------------------
_BASE = (
    Metric("lookout_target_up", "gauge", "1 if the last collection of the target succeeded, else 0.",
           "*", "target", ("kind",)),
    Metric("lookout_collect_duration_seconds", "gauge", "Wall time of the last collection of the target.",
           "*", "target", ("kind",)),
)
_PROCESS = tuple(Metric(n, t, h, "process", "process") for n, t, h in (
    ("lookout_process_cpu_seconds_total", "counter", "User and system CPU time spent by the process."),
    ("lookout_process_resident_memory_bytes", "gauge", "Resident set size."),
    ("lookout_process_virtual_memory_bytes", "gauge", "Virtual memory size."),
    ("lookout_process_threads", "gauge", "Number of OS threads."),
    ("lookout_process_open_fds", "gauge", "Number of open file descriptors."),
    ("lookout_process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch."),
))
_LOOKOUT = tuple(Metric(n, t, h, "lookout", f, labels) for n, t, f, labels, h in (
    ("lookout_store_write_errors_total", "counter", "store", (),
     "Batch writes to the store that failed (retried later when the store was unavailable)."),
    ("lookout_store_samples_written_total", "counter", "store", (), "Samples written to the store."),
    ("lookout_store_available", "gauge", "store", (),
     "1 if the last store write succeeded, 0 while batches are buffered in memory."),
    ("lookout_store_buffered_batches", "gauge", "store", (), "Batches waiting in memory for the store to come back."),
    ("lookout_store_buffered_bytes", "gauge", "store", (), "Estimated memory held by batches waiting for the store."),
    ("lookout_store_dropped_batches_total", "counter", "store", (),
     "Oldest buffered batches dropped because the buffer bound was reached."),
    ("lookout_store_dropped_samples_total", "counter", "store", (),
     "Samples in the buffered batches that were dropped."),
    ("lookout_exporter_dropped_samples_total", "counter", "exporter", ("reason",),
     "Samples the /metrics exporter dropped because they would make the exposition invalid, by reason."),
))


@cache
def builtin() -> tuple[Metric, ...]:
    """Every metric Lookout's code can produce, whatever the config."""
    out: list[Metric] = list(_BASE)
    for kind in KINDS:
        if kind in _MODULES:
            out += importlib.import_module(_MODULES[kind]).METRICS
        elif kind == "process":
            out += _PROCESS
        elif kind == "lookout":
            out += _LOOKOUT
    # A table may map two columns to one name (a renamed column); two kinds may share a metric.
    seen: set[tuple[str, str]] = set()
    return tuple(m for m in out if not ((m.kind, m.name) in seen or seen.add((m.kind, m.name))))  # type: ignore[func-returns-value]


def from_targets(targets: Iterable[Any]) -> list[Metric]:
    """The metrics the config's targets add (SQL queries' metrics, scraped application metrics)."""
    out: list[Metric] = []
    for t in targets:
        mod = _MODULES.get(getattr(t, "kind", ""))
        if mod is not None:
            out += getattr(importlib.import_module(mod), "from_target", lambda _t: [])(t)
    return out


class Catalogue:
    """The built-in metrics and, given the config's targets, the ones they add."""

    def __init__(self, targets: Iterable[Any] = ()) -> None:
        self.metrics: list[Metric] = list(builtin()) + from_targets(targets)
        self._exact: dict[str, Metric] = {}
        for m in self.metrics:
            if not m.is_pattern:
                self._exact.setdefault(m.name, m)
        self._patterns = [m for m in self.metrics if m.is_pattern]

    def lookup(self, name: str) -> Metric | None:
        """The entry for an exposition name; a pattern's when no exact entry has it."""
        if name in self._exact:
            return self._exact[name]
        for suffix in ("_sum", "_count"):  # a summary's other two series
            m = self._exact.get(name.removesuffix(suffix))
            if name.endswith(suffix) and m is not None and m.type == "summary":
                return m
        # The narrowest pattern wins: `http_<name>` over an unfiltered scrape's `<name>`.
        found = [m for m in self._patterns if m.matches(name)]
        return max(found, key=lambda m: len(_PART.sub("", m.name)), default=None)

    def of_kind(self, kind: str | None) -> list[Metric]:
        return [m for m in self.metrics if kind is None or m.kind in (kind, "*")]

    def names(self) -> list[str]:
        return sorted({m.name for m in self.metrics})

    def suggest(self, name: str, n: int = 3) -> list[str]:
        """Catalogued names close to ``name`` (patterns left out: they are not a spelling)."""
        return difflib.get_close_matches(name, sorted(self._exact), n=n, cutoff=0.6)

    def check(self, samples: Iterable[Sample]) -> list[str]:
        """What ``samples`` do that the catalogue does not say: for the tests and the lead's reconciling."""
        problems: dict[str, str] = {}
        for s in samples:
            m = self.lookup(s.name)
            if m is None:
                problems.setdefault(s.name, f"{s.name}: not in the catalogue ({s.kind}, labels "
                                            f"{sorted(s.labels)}): add Metric({s.name!r}, {s.kind!r}, "
                                            f"{s.help!r}, ...)")
                continue
            if m.type not in (s.kind, "scraped"):
                problems.setdefault(s.name, f"{s.name}: emitted as {s.kind}, catalogued as {m.type}")
            extra = set(s.labels) - set(m.labels) - set(ADDED_LABELS)
            if extra and not m.open_labels:
                problems.setdefault(s.name, f"{s.name}: emitted with labels {sorted(extra)} the catalogue "
                                            f"does not list (it has {list(m.labels)})")
        return sorted(problems.values())
