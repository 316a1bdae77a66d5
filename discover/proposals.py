"""The default rules and promises that fit what was found, with their names adjusted to it.

Rules come from ``alerts/default_rules.yaml`` (production windows), read as data; promises are
the shipped ones (``include_defaults: true``), overridden by id where the application's names
differ (its request histogram, counter or status label) and switched off, with the reason, where
nothing measures them.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from discover.findings import Findings

DEFAULT_RULES = Path(__file__).resolve().parents[1] / "alerts" / "default_rules.yaml"
DEFAULT_HISTOGRAM, DEFAULT_COUNTER, DEFAULT_STATUS = "http_request_duration_seconds", "http_requests_total", "status"
PAYMENTS = "shop_payments_total"             # the business SQL counter the shipped promise and rule read
DEFAULT_GOOD = {"succeeded", "success", "ok", "paid"}


def default_rules() -> list[dict[str, Any]]:
    return list(yaml.safe_load(DEFAULT_RULES.read_text(encoding="utf-8"))["rules"])


def pool_has_utilisation(f: Findings) -> bool:
    return bool((f.app and f.app.pool and "max" in f.app.pool.fields) or f.pgbouncer)


def _metrics(rule: dict[str, Any]) -> list[str]:
    exprs = _exprs(rule)
    return [e["metric"] for e in exprs] + [e["only_if"] for e in exprs if e.get("only_if")]


def _source(metric: str, f: Findings) -> str | None:
    """What produces ``metric`` among the things found (why a rule on it applies), or None."""
    pg, m = f.postgres, f.app.metrics if f.app else None
    pay = pg.payments if pg else None
    if metric.startswith("lookout_target_"):
        return "every target"
    if metric.startswith("pg_stat_statements_"):
        return "pg_stat_statements is readable" if pg and pg.pg_stat_statements else None
    if metric.startswith(("pg_", "lookout_pg_")):
        return "PostgreSQL" if pg else None
    if metric.startswith("redis_"):
        return "Redis" if f.redis else None
    if metric.startswith("lookout_pool_"):
        return "a pool that reports its maximum" if pool_has_utilisation(f) else None
    if metric.startswith("lookout_http_app_"):
        return f"the request histogram {m.histogram}" if m and m.histogram else None
    if metric == PAYMENTS:
        return f"payment outcomes in table {pay.qualified}" if pay and pay.bad else None
    return None


def rules(f: Findings) -> list[tuple[dict[str, Any], str]]:
    """(rule, why it applies) for every default rule whose metrics something found produces."""
    out = []
    pay = f.postgres.payments if f.postgres else None
    for rule in default_rules():
        sources = [_source(metric, f) for metric in _metrics(rule)]
        if not sources or None in sources:
            continue
        if pay is not None and pay.bad != ["failed"]:
            for e in _exprs(rule):
                if e["metric"] == PAYMENTS and e.get("match") == {"status": "failed"}:
                    e["match"] = [f"status=~{_alternatives(pay.bad)}"]
        out.append((rule, ", ".join(dict.fromkeys(s for s in sources if s))))
    return out


def _exprs(rule: dict[str, Any]) -> list[dict[str, Any]]:
    exprs = [rule["expr"]] if "expr" in rule else []
    for side in ("numerator", "denominator"):
        part = rule.get("ratio", {}).get(side, [])
        exprs += part if isinstance(part, list) else [part]
    return exprs


def _alternatives(values: list[str]) -> str:
    return "|".join(re.escape(v) for v in values)


def _off(pid: str, why: str) -> tuple[dict[str, Any], str]:
    return {"id": pid, "enabled": False}, why


def promises(f: Findings) -> list[tuple[dict[str, Any], str]]:
    """Overrides of the shipped promises: (override, comment). A promise not listed stays as shipped."""
    out: list[tuple[dict[str, Any], str]] = []
    m = f.app.metrics if f.app else None
    if not f.redis:
        out.append(_off("cache_hit_rate", "no Redis was probed or reached"))
    if m is None or not m.histogram:
        out.append(_off("p95_latency", "no request-duration histogram found in the application's metrics"))
    elif m.histogram != DEFAULT_HISTOGRAM:
        out.append(({"id": "p95_latency", "threshold": {"metric": {"metric": m.histogram + "_bucket"}}},
                    f"the application's request histogram is {m.histogram}"))
    pay = f.postgres.payments if f.postgres else None
    if pay is None:
        out.append(_off("payment_success", "payments are business data: add a `kind: sql` target counting them "
                                           "(see the example under targets) and drop this override"))
    elif pay.good and not set(pay.good) <= DEFAULT_GOOD:
        out.append(({"id": "payment_success", "events": {"good": [{"metric": PAYMENTS,
                                                                   "match": {"status": _alternatives(pay.good)}}]}},
                    f"a successful payment is {' or '.join(pay.good)} in table {pay.qualified}"))
    elif not pay.good:
        out.append(({"id": "payment_success", "events": {"good": [], "bad": [
            {"metric": PAYMENTS, "match": {"status": _alternatives(pay.bad)}}]}},
            f"table {pay.qualified} names failed payments only ({', '.join(pay.bad)})"))
    if not pool_has_utilisation(f):
        out.append(_off("pool_utilisation", "no pool reporting its maximum was found"))
    if not (f.postgres and f.postgres.pg_stat_statements):
        why = "pg_stat_statements is not readable (see the postgres target)" if f.postgres else "no PostgreSQL"
        out.append(_off("query_mean", why))
    counter, label = _requests(f)
    if counter is None:
        out.append(_off("error_rate", "no request counter with a status label found in the application's metrics"))
    elif (counter, label) != (DEFAULT_COUNTER, DEFAULT_STATUS):
        out.append(({"id": "error_rate", "events": {"bad": [{"metric": counter, "match": {label: "5.."}}],
                                                    "total": [{"metric": counter}]}},
                    f"the application counts requests in {counter}, status in label {label!r}"))
    return out


def _requests(f: Findings) -> tuple[str | None, str | None]:
    """The counter of requests and its status label: the counter, else the histogram's _count."""
    m = f.app.metrics if f.app else None
    if m is None or not m.status_label:
        return None, None
    if m.counter:
        return m.counter, m.status_label
    if m.histogram:
        return m.histogram + "_count", m.status_label
    return None, None
