"""PostgreSQL: connections, pool, locks, long transactions, vacuum, indexes, sizes, replication."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dash_bootstrap_components as dbc
from dash import Dash, Output, html

from dashboards import figures, series
from dashboards.context import DashboardRuntime
from dashboards.fetch import Fetch
from dashboards.pages.common import Column, missing, panel_outputs, register_page, shown, table
from dashboards.theme import panel

PATH, TITLE = "/postgres", "PostgreSQL"
PANELS = ["pg-conn", "pool", "locks", "long-tx", "sizes", "repl"]
POOL_KINDS = ["pool"]


def _card(title: str, body_id: str) -> Any:
    return dbc.Card([dbc.CardHeader(title), dbc.CardBody(id=body_id)], className="lk-panel h-100 shadow-sm")


def layout(runtime: DashboardRuntime) -> Any:
    def col(c: Any, lg: int = 4) -> Any:
        return dbc.Col(c, lg=lg, className="mb-2")
    return html.Div([
        dbc.Row([col(panel("pg-conn", "Connections by state (critical: max_connections)")),
                 col(panel("pool", "Pool: server connections in use and waiting clients")),
                 col(panel("locks", "Locks by mode and blocked sessions"))]),
        dbc.Row([col(panel("long-tx", "Longest transaction by state")),
                 col(panel("sizes", "Database sizes")),
                 col(panel("repl", "Replication lag"))]),
        dbc.Row([col(_card("Long-running and idle-in-transaction sessions", "pg-oldest"), 6),
                 col(_card("Blocked sessions", "pg-blocking"), 6)]),
        dbc.Row([col(_card("Dead tuples and vacuum age (top tables)", "pg-vacuum"), 6),
                 col(_card("Index audit", "pg-indexes"), 6)]),
    ])


def register(app: Dash, runtime: DashboardRuntime) -> Callable[..., Any]:
    outputs = [o for p in PANELS for o in panel_outputs(p)]
    outputs += [Output(i, "children") for i in ("pg-oldest", "pg-blocking", "pg-vacuum", "pg-indexes")]

    def build(fetch: Fetch, theme: str) -> list[Any]:
        pg_down = fetch.down_spans(t.name for t in fetch.targets("postgres"))
        watched = _watched(fetch)
        out: list[Any] = []

        def common(*metrics: str, down: list | None = None) -> dict[str, Any]:
            # Alert marks per panel: only the rules that read what the panel draws.
            return {"theme": theme, "transitions": fetch.transitions(metrics),
                    "x_range": (fetch.view.start, fetch.view.end), "down": pg_down if down is None else down}

        def series_panel(metric: str, *, by: str | None = None, pick: str = "avg", unit: str = "count",
                         thresholds: tuple = (None, None), limit_names: tuple[str, str] = ("warning", "critical"),
                         kinds: list[str] | None = None, matchers: dict | None = None, extra: list | None = None,
                         also: tuple[str, ...] = (), what: str = "", per_database: bool = False,
                         combine: str = "sum") -> None:
            reason = fetch.why_missing(kinds or ["postgres"], metric, what)
            if reason:
                out.extend(missing(reason, theme))
                return
            ranges = fetch.ranges(metric, matchers=matchers)
            if per_database:
                ranges = [r for r in ranges if watched(r.series.labels.get("target"), r.series.labels.get("datname"))]
            if by:
                lines = [series.pairs_line(k or "all", sorted(v.items()))
                         for k, v in sorted(series.group_sum(ranges, by, pick, combine).items())]
            else:
                lines = [series.line(r, pick) for r in ranges]
            out.extend(shown(figures.timeseries(lines[:12] + (extra or []), unit=unit, thresholds=thresholds,
                                                limit_names=limit_names, **common(metric, *also))))

        maxc = [v for _s, _t, v in fetch.latest("pg_settings_max_connections")]
        series_panel("pg_stat_activity_count", by="state", pick="max", also=("pg_settings_max_connections",),
                     thresholds=(None, max(maxc) if maxc else None), limit_names=("warning", "max_connections"))
        out.extend(_pool(fetch, theme, common(*POOL_METRICS, down=fetch.down_spans(
            t.name for t in fetch.targets("pool")))))
        blocked = fetch.ranges("lookout_pg_blocked_sessions")
        extra = ([series.pairs_line("blocked sessions", sorted(series.sum_by_ts(blocked, "max").items()))]
                 if blocked else [])
        series_panel("pg_locks_count", by="mode", pick="max", extra=extra, also=("lookout_pg_blocked_sessions",))
        series_panel("pg_stat_activity_max_tx_duration", by="state", pick="max", unit="seconds", combine="max")
        series_panel("pg_database_size_bytes", by="datname", pick="last", unit="bytes", per_database=True)
        out.extend(_replication(fetch, theme, common(*REPLICATION_METRICS)))
        out += [_oldest(fetch), _blocking(fetch), _vacuum(fetch, watched), _indexes(fetch, watched)]
        return out

    return register_page(app, runtime, outputs, build)


POOL_METRICS = ("lookout_pool_utilization_ratio", "lookout_pool_waiting_clients")
REPLICATION_METRICS = ("pg_replication_lag_seconds", "lookout_pg_replica_lag_seconds",
                       "lookout_pg_replication_replay_lag_seconds")


def _replication(fetch: Fetch, theme: str, common: dict[str, Any]) -> tuple:
    """Lag of the watched servers that are replicas, and of the replicas connected to a primary.

    ``pg_replication_lag_seconds`` is 0 on a primary (as postgres_exporter's): drawn
    there, it read as a replica that is never behind.
    """
    reason = fetch.why_missing(["postgres"], "pg_replication_lag_seconds", "replication")
    if reason:
        return missing(reason, theme)
    replicas = {s.labels.get("target") for s, _t, v in fetch.latest("pg_replication_is_replica") if v >= 1}
    lines = [series.line(r, "max", name=f"{r.series.labels.get('target', '')} behind its primary")
             for r in fetch.ranges("pg_replication_lag_seconds") if r.series.labels.get("target") in replicas]
    lines += [series.line(r, "max", name=f"replica {r.series.labels.get('application_name', '')}")
              for r in fetch.ranges("lookout_pg_replication_replay_lag_seconds")]
    if not lines:
        return missing("no replica: the watched servers are primaries and no replica is connected to them", theme)
    return shown(figures.timeseries(lines[:12], unit="seconds", **common))


def _pool(fetch: Fetch, theme: str, common: dict[str, Any]) -> tuple:
    reason = fetch.why_missing(POOL_KINDS, "lookout_pool_utilization_ratio")
    if reason:
        return missing(reason, theme)
    util = [series.line(r, "max", name=f"{r.series.labels.get('pool', '')} in use")
            for r in fetch.ranges("lookout_pool_utilization_ratio")]
    waiting = fetch.ranges("lookout_pool_waiting_clients")
    limits = fetch.thresholds("pool_utilisation", ["lookout_pool_utilization_ratio"])
    fig = figures.timeseries(util[:8], unit="ratio", **common, thresholds=limits)
    if waiting:
        fig["data"].append({"type": "scatter", "mode": "lines", "yaxis": "y2", "name": "waiting clients",
                            "line": {"width": 1.2, "dash": "dot"}, "connectgaps": False,
                            **_xy(series.pairs_line("w", sorted(series.sum_by_ts(waiting, "max").items())))})
        # Room on the right for the second axis: with the default 12 px its ticks were cut off.
        # Clients are whole: a few of them get a tick each, not "0.5".
        most = max((v for v in fig["data"][-1]["y"] if v is not None), default=0.0)
        ticks = {"tickmode": "linear", "tick0": 0, "dtick": 1} if most <= 5 else {"tickmode": "auto", "nticks": 5}
        fig["layout"]["yaxis2"] = {"overlaying": "y", "side": "right", "showgrid": False,
                                   "rangemode": "tozero", "automargin": True, **ticks, "tickformat": ",.3~r",
                                   "autorangeoptions": {"minallowed": 0, "maxallowed": max(most, 1.0) * 1.05},
                                   "title": {"text": "waiting", "standoff": 4}}
        fig["layout"]["margin"] = {**fig["layout"]["margin"], "r": 40}
        fig["layout"]["showlegend"] = True
    return shown(fig)


def _xy(ln: Any) -> dict[str, Any]:
    return {"x": ln.x, "y": ln.y}


def _rows(fetch: Fetch, key: str, field: str | None = None) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for d in fetch.documents(key):
        body = d.body.get(field) if field and isinstance(d.body, dict) else d.body
        if isinstance(body, dict):
            body = body.get("rows") or body.get("sessions") or body.get("items") or []
        if isinstance(body, list):
            rows += [{"target": d.target, **r} for r in body if isinstance(r, dict)]
    return rows


def _oldest(fetch: Fetch) -> Any:
    rows = _rows(fetch, "pg_oldest_transactions")
    cols: list[Column] = [("target", "Target"), ("pid", "PID"), ("datname", "DB"), ("usename", "User"),
                          ("state", "State"), ("xact_age", "Transaction age", "seconds"), ("query", "Query")]
    return table(rows[:15], cols, empty=fetch.why_missing(["postgres"], None) or "no long transactions")


def _blocking(fetch: Fetch) -> Any:
    rows = _rows(fetch, "pg_blocking", "blocked")
    cols: list[Column] = [("target", "Target"), ("pid", "PID"), ("blocked_by", "Blocked by"),
                          ("query_age", "Waiting", "seconds"), ("query", "Query")]
    return table(rows[:15], cols, empty=fetch.why_missing(["postgres"], None) or "no blocked sessions")


Watched = Callable[[str | None, str | None], bool]


def _watched(fetch: Fetch) -> Watched:
    """Whether (target, datname) is a database the target's `databases:` watches.

    A target without `databases:` watches every database; samples or findings of a
    database it no longer watches (older history, another config) are not shown.
    """
    only = {t.name: set(dbs) for t in fetch.targets("postgres") if (dbs := getattr(t, "databases", None))}

    def watched(target: str | None, datname: str | None) -> bool:
        return target not in only or datname in only[target or ""]
    return watched


def _vacuum(fetch: Fetch, watched: Watched) -> Any:
    def key(s: Any) -> tuple[str | None, ...]:
        return s.labels.get("datname"), s.labels.get("schemaname"), s.labels.get("relname")

    def mine(s: Any) -> bool:
        return watched(s.labels.get("target"), s.labels.get("datname"))
    dead = {key(s): v for s, _t, v in fetch.latest("pg_stat_user_tables_n_dead_tup") if mine(s)}
    age = {key(s): v for s, _t, v in fetch.latest("lookout_pg_table_vacuum_age_seconds") if mine(s)}
    # No vacuum age: the table has not been vacuumed since the statistics were reset.
    rows: list[dict[str, Any]] = [
        {"table": ".".join(x or "" for x in k), "dead": dead.get(k), "vacuum_age": age.get(k, "never")}
        for k in set(dead) | set(age)]
    rows.sort(key=lambda r: -(r["dead"] or 0))
    return table(rows[:12], [("table", "Table"), ("dead", "Dead tuples", "count"),
                             ("vacuum_age", "Since vacuum", "seconds")],
                 empty=fetch.why_missing(["postgres"], "pg_stat_user_tables_n_dead_tup") or "no tables")


AUDIT_KINDS = ("invalid", "duplicate", "unused")
AUDIT_ROWS = 30


def index_findings(fetch: Fetch, watched: Watched) -> tuple[list[dict[str, Any]], list[str]]:
    """The index audit's findings of every watched database, and the databases it audited.

    The collector keeps one audit per database (``{datname: {duplicate, unused, invalid}}``);
    an audit stored flat (one database, older documents) counts as one database too.
    """
    rows: list[dict[str, Any]] = []
    audited: list[str] = []
    for d in fetch.documents("pg_index_audit"):
        if not isinstance(d.body, dict):
            continue
        flat = any(k in d.body for k in AUDIT_KINDS)
        for dat, audit in ([(None, d.body)] if flat else sorted(d.body.items())):
            if not isinstance(audit, dict) or (dat is not None and not watched(d.target, dat)):
                continue
            audited.append(f"{d.target}/{dat}" if dat else d.target)
            for kind in AUDIT_KINDS:
                for ix in audit.get(kind) or []:
                    if isinstance(ix, dict):
                        rows.append(_finding(d.target, dat, kind, ix))
    return rows, audited


def _finding(target: str, dat: str | None, kind: str, ix: dict[str, Any]) -> dict[str, Any]:
    name = ix.get("index") or ix.get("indexrelname") or ix.get("name")
    schema = ix.get("schemaname")
    why = {"duplicate": f"duplicates {ix.get('covered_by')}" if ix.get("covered_by") else "duplicate",
           "unused": "no scans since the statistics were reset", "invalid": "invalid: rebuild or drop it"}[kind]
    return {"issue": kind, "target": target, "database": ix.get("datname") or dat,
            "index": f"{schema}.{name}" if schema and name else name,
            "table": ix.get("table") or ix.get("relname"), "size": ix.get("size_bytes"),
            "scans": ix.get("idx_scan"), "why": why}


def _indexes(fetch: Fetch, watched: Watched) -> Any:
    rows, audited = index_findings(fetch, watched)
    cols: list[Column] = [("database", "Database"), ("issue", "Issue"), ("index", "Index"), ("table", "Table"),
                          ("size", "Size", "bytes"), ("scans", "Scans", "count"), ("why", "Why")]
    if len({r["target"] for r in rows}) > 1:
        cols.insert(0, ("target", "Target"))
    if not audited:
        return table([], cols, empty=fetch.why_missing(["postgres"], None)
                     or "the index audit has not run yet (the indexes family, every 5 minutes by default)")
    shown = table(rows[:AUDIT_ROWS], cols,
                  empty=f"no unused, duplicate or invalid indexes in {', '.join(sorted(set(audited)))}")
    if len(rows) <= AUDIT_ROWS:
        return shown
    return html.Div([shown, html.Div(f"and {len(rows) - AUDIT_ROWS} more", className="text-body-secondary lk-small")])
