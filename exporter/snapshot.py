"""The latest value of every series, pre-rendered for ``/metrics``.

Each collection of a target calls :meth:`Snapshot.update`; the target's
samples are rendered to exposition lines once, grouped by family, and the two
full bodies (Prometheus text 0.0.4 and OpenMetrics 1.0.0) are rebuilt by
joining bytes. A scrape only returns the current bytes: no query, no
formatting. Sample lines are identical in both formats (no timestamps, no
``_created``), so only the per-family headers differ.

The one part read at scrape time is the ``process_*`` families of Lookout's own
process (:mod:`exporter.process`, about 0.1 ms): they come last, after the
pre-rendered families, so a gzip scrape compresses only them on top of the
compressor state saved at the end of the cached part.

Example::

    snap = Snapshot()
    snap.update("db", [Sample("pg_up", 1, {"target": "db"}, help="...")])
    snap.body(openmetrics=False)   # b"# HELP pg_up ...\\n# TYPE pg_up gauge\\npg_up{target=\\"db\\"} 1\\n..."

Validation, naming and rendering of samples live in :mod:`exporter.exposition`.
"""
from __future__ import annotations

import gzip
import threading
import zlib
from collections.abc import Sequence

from core.samples import Sample
from exporter.exposition import DROP_REASONS, DROPPED_METRIC, Family, Rendered, escape_help, format_value, render
from exporter.process import ProcessBlock

__all__ = ["DROPPED_METRIC", "GZIP_LEVEL", "Snapshot", "escape_help", "format_value"]

_EXPORTER = "\0exporter"  # user of the exporter's own family; no target is named so
_PROCESS = "\0process"  # owner of the claims of the process_* families
_EOF = b"# EOF\n"
# With ~20 targets on 15 s intervals nearly every scrape sees a new version,
# so compression is usually paid by the scrape. At 10,000 series (1.1 MB)
# level 1 takes ~3.7 ms for 145 kB, level 6 ~10 ms for 128 kB (bench/).
GZIP_LEVEL = 1


# -- the snapshot ------------------------------------------------------------------

class Snapshot:
    """Thread-safe latest-value store with pre-rendered exposition bodies.

    Writers (scheduler threads) serialise on a lock; readers take the current
    immutable ``(version, text, openmetrics)`` tuple without locking.
    When two targets define one family differently (kind or help), the
    definition seen first wins while any target still uses it; the other
    target's samples are dropped and counted (a mixed family is invalid).
    ``process`` adds the ``process_*`` families of this process to every body
    (True: a :class:`ProcessBlock` of its own; False: none, and bodies that change only
    with updates).
    """

    def __init__(self, process: ProcessBlock | bool = True) -> None:
        self._lock = threading.Lock()
        self._targets: dict[str, dict[str, Rendered]] = {}
        self._families: dict[str, Family] = {}
        self._claims: dict[str, str] = {}  # OpenMetrics sample name -> family name
        self._text_order: list[Family] = []
        self._om_order: list[Family] = []
        self._dropped = dict.fromkeys(DROP_REASONS, 0)
        self._series = 0
        self._version = 0
        self._bodies: tuple[int, bytes, bytes] = (0, b"", b"")
        self._gzipped: dict[bool, tuple[int, bytes]] = {}
        self._process: ProcessBlock | None = (
            ProcessBlock() if process is True else process if isinstance(process, ProcessBlock) else None)
        # Per format: (version, compressor after the cached part, its compressed bytes).
        self._prefix: dict[bool, tuple[int, zlib._Compress, bytes]] = {}
        if self._process is not None:
            self._claims.update(dict.fromkeys(self._process.claims(), _PROCESS))
        own = Family.make(DROPPED_METRIC, "counter",
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
        rendered = render(samples, dropped)  # outside the lock: touches no shared state
        with self._lock:
            touched = self._release(target)
            accepted: dict[str, Rendered] = {}
            for name, group in rendered.items():
                family = self._families.get(name)
                if family is None:
                    candidate = Family.make(name, group.type, group.help)
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
        """The current exposition; ``gzipped`` bodies are compressed once per version
        (with process families: the part before them once per version, they at each call)."""
        version, text, om = self._bodies
        raw = om if openmetrics else text
        if self._process is not None:
            tail = self._process.render(openmetrics) + (_EOF if openmetrics else b"")
            if not gzipped:
                return raw + tail
            compressor, head = self._gzip_prefix(version, openmetrics, raw)
            c = compressor.copy()
            return head + c.compress(tail) + c.flush()
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

    def _gzip_prefix(self, version: int, openmetrics: bool, raw: bytes) -> tuple[zlib._Compress, bytes]:
        cached = self._prefix.get(openmetrics)
        if cached is not None and cached[0] == version:
            return cached[1], cached[2]
        # One gzip member: the cached part ends with a sync flush (byte-aligned, 5 bytes),
        # so a copy of the compressor carries on with the process families and the trailer.
        c = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)
        head = c.compress(raw) + c.flush(zlib.Z_SYNC_FLUSH)
        self._prefix[openmetrics] = (version, c, head)
        return c, head

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
    def _add_family(self, family: Family) -> None:
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
        eof = [_EOF] if self._process is None else []  # else body() appends it after the process families
        om = b"".join([b for f in self._om_order for b in (f.om_header, f.block)] + eof)
        self._version += 1
        self._bodies = (self._version, text, om)
