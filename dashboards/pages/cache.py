"""Cache hit rates: Redis keyspace, the application's X-Cache, PostgreSQL buffers."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dash_bootstrap_components as dbc
from dash import Dash, Output, html

from dashboards import figures, series
from dashboards.context import DashboardRuntime
from dashboards.fetch import Fetch
from dashboards.pages.common import missing, panel_outputs, register_page, shown, table
from dashboards.theme import panel

PATH, TITLE = "/cache", "Cache"
PANELS = ["redis-hit", "app-hit", "pg-hit", "evictions", "memory"]


def layout(runtime: DashboardRuntime) -> Any:
    return html.Div([
        dbc.Row([dbc.Col(panel("redis-hit", "Redis keyspace hit ratio"), lg=4, className="mb-2"),
                 dbc.Col(panel("app-hit", "Application cache hit ratio (X-Cache)"), lg=4, className="mb-2"),
                 dbc.Col(panel("pg-hit", "PostgreSQL buffer cache hit ratio per database"), lg=4,
                         className="mb-2")]),
        dbc.Row([dbc.Col(panel("evictions", "Redis evictions"), lg=4, className="mb-2"),
                 dbc.Col(panel("memory", "Redis memory against maxmemory"), lg=4, className="mb-2"),
                 dbc.Col(dbc.Card([dbc.CardHeader("Tables with the lowest buffer hit ratio"),
                                   dbc.CardBody(id="cache-tables")], className="lk-panel h-100 shadow-sm"),
                         lg=4, className="mb-2")]),
    ])


def register(app: Dash, runtime: DashboardRuntime) -> Callable[..., Any]:
    outputs = [o for p in PANELS for o in panel_outputs(p)] + [Output("cache-tables", "children")]

    def build(fetch: Fetch, theme: str) -> list[Any]:
        def common(*metrics: str) -> dict[str, Any]:
            # Alert marks per panel: only the rules that read what the panel draws.
            return {"theme": theme, "transitions": fetch.transitions(metrics),
                    "x_range": (fetch.view.start, fetch.view.end)}
        redis_down = fetch.down_spans(t.name for t in fetch.targets("redis"))
        out: list[Any] = []

        # Hit ratios from counter increases per bucket, not from per-poll gauges:
        # a wide bucket then weighs every request once.
        hits = fetch.ranges("redis_keyspace_hits_total", "rate")
        misses = fetch.ranges("redis_keyspace_misses_total", "rate")
        out += _ratio_panel(fetch, hits, misses, "target", ["redis"], "redis_keyspace_hits_total",
                            "cache_hit_rate", common("redis_keyspace_hits_total", "redis_keyspace_misses_total"),
                            redis_down)
        ahits = fetch.ranges("lookout_http_cache_hits_total", "rate")
        amiss = fetch.ranges("lookout_http_cache_misses_total", "rate")
        out += _ratio_panel(fetch, ahits, amiss, "target", ["http"], "lookout_http_cache_hits_total",
                            "cache_hit_rate",
                            common("lookout_http_cache_hits_total", "lookout_http_cache_misses_total"),
                            fetch.down_spans(t.name for t in fetch.targets("http")),
                            what="an X-Cache header (set cache_header on a probe)")
        phit = fetch.ranges("pg_stat_database_blks_hit", "rate")
        pread = fetch.ranges("pg_stat_database_blks_read", "rate")
        out += _ratio_panel(fetch, phit, pread, "datname", ["postgres"], "pg_stat_database_blks_hit",
                            "pg_buffer_hit_rate", common("pg_stat_database_blks_hit", "pg_stat_database_blks_read"),
                            fetch.down_spans(t.name for t in fetch.targets("postgres")))

        reason = fetch.why_missing(["redis"], "redis_evicted_keys_total")
        if reason:
            out += missing(reason, theme)
        else:
            lines = [series.line(r, "max", name=f"{r.series.labels.get('target', '')} evictions/s")
                     for r in fetch.ranges("redis_evicted_keys_total", "rate")]
            out += shown(figures.timeseries(lines, unit="rate", down=redis_down,
                                            **common("redis_evicted_keys_total")))

        reason = fetch.why_missing(["redis"], "redis_memory_used_bytes")
        if reason:
            out += missing(reason, theme)
        else:
            lines = [series.line(r, "max", name=f"{r.series.labels.get('target', '')} used")
                     for r in fetch.ranges("redis_memory_used_bytes")]
            maxmem = [v for _s, _ts, v in fetch.latest("redis_memory_max_bytes") if v > 0]
            note = None if maxmem else dbc.Badge("maxmemory is 0: no limit, no evictions", color="warning")
            out += shown(figures.timeseries(lines, unit="bytes", down=redis_down,
                                            thresholds=(None, max(maxmem) if maxmem else None),
                                            limit_names=("warning", "maxmemory"),
                                            **common("redis_memory_used_bytes", "redis_memory_max_bytes")), note=note)
        out.append(_tables(fetch))
        return out

    return register_page(app, runtime, outputs, build)


def _ratio_panel(fetch: Fetch, num: list, rest: list, by: str, kinds: list[str], metric: str,
                 objective: str, common: dict[str, Any], down: list, what: str = "") -> tuple:
    reason = fetch.why_missing(kinds, metric, what)
    if reason:
        return missing(reason, common["theme"])
    n = series.group_sum(num, by)
    r = series.group_sum(rest, by)
    lines = []
    for key in sorted(n):
        total = {ts: n[key].get(ts, 0.0) + r.get(key, {}).get(ts, 0.0) for ts in set(n[key]) | set(r.get(key, {}))}
        lines.append(series.pairs_line(key or "all", series.ratio_series(n[key], total)))
    fig = figures.timeseries(lines, unit="ratio", thresholds=fetch.thresholds(objective, [metric]), down=down,
                             **common)
    fig["layout"]["yaxis"]["rangemode"] = "normal"
    return shown(fig)


HEAP_HIT = "pg_statio_user_tables_heap_blocks_hit"
HEAP_READ = "pg_statio_user_tables_heap_blocks_read"


def _tables(fetch: Fetch) -> Any:
    def name(labels: dict[str, str]) -> str:
        return f"{labels.get('datname', '')}.{labels.get('schemaname', '')}.{labels.get('relname', '')}"

    rows: list[dict[str, Any]] = [{"table": name(s.labels), "ratio": v}
                                  for s, _ts, v in fetch.latest("lookout_pg_table_heap_cache_hit_ratio")]
    note = None
    if not rows:
        # The ratio between two polls of the tables family needs its second poll (a minute
        # apart in the demo); until then the counters' totals since the statistics were
        # reset give a value at the first.
        hit = {name(s.labels): v for s, _ts, v in fetch.latest(HEAP_HIT)}
        read = {name(s.labels): v for s, _ts, v in fetch.latest(HEAP_READ)}
        rows = [{"table": t, "ratio": hit[t] / (hit[t] + read.get(t, 0.0))}
                for t in hit if hit[t] + read.get(t, 0.0) > 0]
        note = html.Div("since the statistics were last reset; between polls from the next poll of the tables",
                        className="text-body-secondary lk-small")
    if not rows:
        reason = fetch.why_missing(["postgres"], HEAP_HIT, "per-table hit ratios")
        return html.Div(reason or "no table read since the statistics were reset",
                        className="text-body-secondary lk-small")
    rows.sort(key=lambda r: r["ratio"])
    return html.Div([table(rows[:10], [("table", "Table"), ("ratio", "Heap hit ratio", "ratio")]), note])
