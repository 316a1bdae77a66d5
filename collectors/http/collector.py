"""``kind: http``: the application's endpoints, probed as an on-call engineer would.

Probes of a target run one after another inside the target's timeout: the
whole poll gets 90% of it, and each probe gets its own ``timeout`` or what
is left, whichever is less; a probe with no time left is reported as
``reason="skipped"``. Every probe yields ``lookout_http_probe_success``
(0/1), its durations, status code, and on failure
``lookout_http_probe_failure{probe,reason}`` plus the error sentence in
the ``probes`` document.

``lookout_target_up`` is 1 when every probe was run and reported, whatever
its outcome: a refused connection or a failed assertion is that probe's
``success=0``, not a failure of the collector (as Prometheus' ``up`` means
"the scrape ran"). Alert on probe success.

A health document is mapped whatever its status code (``lookout_http_probe_status_code``
says which); a configured JSON path that matches nothing fails the probe with
``reason="mapping_miss"`` (what did match is still reported), counts in
``lookout_mapping_misses_total{probe,path}`` and is logged once (collectors.jsonpath.Misses).

Where people look, a failing probe is not hidden behind that ``up``: every poll
writes the ``probes`` document, ``{probe: {"ok", "reason", "error", "url", ...}}``,
in the same store transaction as the target's status. A target whose last
successful poll has a probe with ``ok: false`` is *failing*: ``/api/targets``
says ``status: "failing"`` with ``failing_probes`` (probe, reason, error),
``/api/health`` warns with the same, and the dashboard's target card can read
the same document (``store.documents(key="probes")``). Any collector kind that
runs probes may publish this document with the same shape.
"""
from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable
from typing import Any

import requests

from collectors.base import Collector
from collectors.http.config import HttpTarget, Probe
from collectors.http.health_json import map_health
from collectors.http.probe import Fail, ProbeResult, run_probe, unexpected
from collectors.http.prom_scrape import PromScraper
from collectors.http.transport import TimedAdapter
from collectors.jsonpath import Misses
from core.samples import Sample

log = logging.getLogger("lookout.collectors.http")

_BUDGET_SHARE = 0.9
_MIN_PROBE_BUDGET = 0.05
_USER_AGENT = "Lookout-http-probe/1"

# (attribute of ProbeResult, phase label) for lookout_http_probe_duration_seconds.
_PHASES = (("tcp", "connect"), ("tls", "tls"), ("total", "total"))


def new_session() -> requests.Session:
    session = requests.Session()
    adapter = TimedAdapter(pool_connections=4, pool_maxsize=4, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = _USER_AGENT
    return session


def _cache_outcome(value: str | None, probe: Probe) -> str | None:
    if value is None:
        return None
    tokens = [t for t in re.split(r"[^A-Za-z0-9]+", value.upper()) if t]
    hits = {v.upper() for v in probe.cache_hit_values}
    misses = {v.upper() for v in probe.cache_miss_values}
    for t in tokens:  # the first recognised word decides ("TCP_HIT", "HIT from edge")
        if t in hits:
            return "hit"
        if t in misses:
            return "miss"
    return None


class HttpCollector(Collector):
    kind = "http"

    def __init__(self, target: HttpTarget, **kw: Any) -> None:
        super().__init__(target, **kw)
        self.session: requests.Session | None = None
        reserved = set(target.labels)
        self.scrapers = {p.name: PromScraper(p.name, p.prometheus, reserved, target.error_status)
                         for p in target.probes if p.prometheus}
        self.cache = {p.name: {"hit": 0, "miss": 0} for p in target.probes if p.cache_header}
        self.prev_cache: tuple[int, int] = (0, 0)
        self.misses = Misses(target.name, log)

    def close(self) -> None:
        if self.session is not None:
            self.session.close()
            self.session = None

    def collect(self) -> Iterable[Sample]:
        if self.session is None:
            self.session = new_session()
        deadline = time.perf_counter() + self.target.timeout * _BUDGET_SHARE
        docs: dict[str, Any] = {}
        out: list[Sample] = []
        for probe in self.target.probes:
            remaining = deadline - time.perf_counter()
            budget = min(probe.timeout or remaining, remaining)
            if budget < _MIN_PROBE_BUDGET:
                res = ProbeResult(probe.name, self.target.probe_url(probe))
                res.fail("skipped", "not run: earlier probes used up the target's timeout")
            else:
                res = run_probe(self.session, self.target, probe, budget)
            extra, doc = self._extras(probe, res)
            out.extend(self._probe_samples(res))
            out.extend(extra)
            docs[probe.name] = doc
        out.extend(self._cache_samples())
        out.extend(self.misses.samples())
        self.documents["probes"] = docs
        return out

    def _extras(self, probe: Probe, res: ProbeResult) -> tuple[list[Sample], dict[str, Any]]:
        """Cache headers, health and Prometheus mapping of a response; their failures fail the probe."""
        samples: list[Sample] = []
        doc: dict[str, Any] = {}
        if probe.cache_header:
            outcomes = [self._count_cache(probe, part) for part in (res.parts or [res])]
            doc["cache"] = outcomes[0] if not res.parts else {
                o or "unknown": outcomes.count(o) for o in dict.fromkeys(outcomes)}
        if res.parts:
            doc["requests"] = [{"url": p.url, "ok": p.ok, "status": p.status or None, "error": p.error}
                               for p in res.parts]
        if probe.health is not None and res.answered:
            samples += map_health(probe.name, probe.health, res, doc, self.misses)
        if probe.prometheus is not None and res.ok:
            try:
                ctype = res.headers.get("Content-Type", res.headers.get("content-type", ""))
                s, doc["metrics"] = self.scrapers[probe.name].scrape(res.body, ctype, time.monotonic())
                samples += s
            except Fail as exc:
                res.fail(exc.reason, str(exc))
            except Exception as exc:  # noqa: BLE001 - a mapping bug fails this probe, not the target
                res.fail(*unexpected(probe.name, exc))
        doc.update(_result_doc(res))
        return samples, doc

    def _count_cache(self, probe: Probe, res: ProbeResult) -> str | None:
        if not res.headers or probe.cache_header is None:
            return None
        value = next((v for k, v in res.headers.items() if k.lower() == probe.cache_header.lower()), None)
        outcome = _cache_outcome(value, probe)
        if outcome:
            self.cache[probe.name][outcome] += 1
        return outcome

    def _probe_samples(self, res: ProbeResult) -> list[Sample]:
        labels = {"probe": res.name}
        out = [
            Sample("lookout_http_probe_success", float(res.ok), labels,
                   help="1 if the probe got an expected response and passed its checks, else 0."),
            Sample("lookout_http_probe_status_code", float(res.status), labels,
                   help="HTTP status of the final response; 0 when there was none."),
            Sample("lookout_http_probe_redirects", float(res.redirects), labels,
                   help="Redirects followed by the probe."),
            Sample("lookout_http_probe_body_bytes", float(res.nbytes), labels,
                   help="Bytes of (decoded) body read from the final response."),
        ]
        for attr, phase in _PHASES:
            value = getattr(res, attr)
            if value is not None:
                out.append(Sample("lookout_http_probe_duration_seconds", value, {**labels, "phase": phase},
                                  help="Probe time by phase: connect (TCP), tls (handshake), total "
                                       "(all hops and the body). Absent phases opened no connection."))
        if res.cert_expires_at is not None:
            out.append(Sample("lookout_http_probe_tls_cert_remaining_seconds", res.cert_expires_at - self.clock(),
                              labels, help="Seconds until the server certificate's notAfter (negative: expired)."))
        if not res.ok and res.reason:
            out.append(Sample("lookout_http_probe_failure", 1.0, {**labels, "reason": res.reason},
                              help="1 for the reason the probe failed (timeout, refused, tls, status, ...)."))
        return out

    def _cache_samples(self) -> list[Sample]:
        out = []
        for name, c in self.cache.items():
            labels = {"probe": name}
            out.append(Sample("lookout_http_cache_hits_total", c["hit"], labels, "counter",
                              help="Responses whose cache header said HIT, since Lookout started."))
            out.append(Sample("lookout_http_cache_misses_total", c["miss"], labels, "counter",
                              help="Responses whose cache header said MISS, since Lookout started."))
        hits = sum(c["hit"] for c in self.cache.values())
        misses = sum(c["miss"] for c in self.cache.values())
        d_hits, d_misses = hits - self.prev_cache[0], misses - self.prev_cache[1]
        self.prev_cache = (hits, misses)
        if d_hits + d_misses > 0:
            ratio = d_hits / (d_hits + d_misses)
            out.append(Sample("lookout_http_cache_hit_ratio", ratio,
                              help="Cache hits over lookups seen by this target's probes since the previous poll."))
            self.documents["cache"] = {"hits": hits, "misses": misses, "hit_ratio": ratio}
        elif self.cache:
            self.documents["cache"] = {"hits": hits, "misses": misses, "hit_ratio": None}
        return out


def _result_doc(res: ProbeResult) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "url": res.url, "ok": res.ok, "reason": res.reason, "error": res.error, "status": res.status or None,
        "redirects": res.redirects, "total_seconds": round(res.total, 6),
        "connect_seconds": res.tcp, "tls_seconds": res.tls, "body_bytes": res.nbytes,
    }
    if res.cert_expires_at is not None:
        doc["tls_cert_days_to_expiry"] = round((res.cert_expires_at - time.time()) / 86400, 2)
    return doc
