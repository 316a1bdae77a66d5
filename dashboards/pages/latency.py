"""Latency: p50/p95/p99 per route (app histograms) and per probe, error ratio,
and the statements that cost the most, so a spike can be traced to a query."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dash_bootstrap_components as dbc
from dash import Dash, Output, html

from core.units import format_value
from dashboards import figures, series
from dashboards.context import DashboardRuntime
from dashboards.fetch import Fetch
from dashboards.pages.common import Column, missing, panel_outputs, register_page, shown, table
from dashboards.theme import panel

PATH, TITLE = "/latency", "Latency"
PANELS = ["lat-all", "lat-route", "lat-probe", "err-ratio"]
APP_Q = "lookout_http_app_request_duration_seconds"


def layout(runtime: DashboardRuntime) -> Any:
    return html.Div([
        dbc.Row([dbc.Col(panel("lat-all", "Application p50 / p95 / p99 (all routes)"), lg=6, className="mb-2"),
                 dbc.Col(panel("lat-route", "Application p95 per route"), lg=6, className="mb-2")]),
        dbc.Row([dbc.Col(panel("lat-probe", "Probe response time"), lg=6, className="mb-2"),
                 dbc.Col(panel("err-ratio", "Error ratio (errors over all requests)"), lg=6, className="mb-2")]),
        dbc.Row([dbc.Col(dbc.Card([dbc.CardHeader("Top statements by total time"),
                                   dbc.CardBody(id="stmt-total")], className="lk-panel shadow-sm"), lg=6,
                         className="mb-2"),
                 dbc.Col(dbc.Card([dbc.CardHeader("Top statements by mean time"),
                                   dbc.CardBody(id="stmt-mean")], className="lk-panel shadow-sm"), lg=6,
                         className="mb-2")]),
    ])


def register(app: Dash, runtime: DashboardRuntime) -> Callable[..., Any]:
    outputs = [o for p in PANELS for o in panel_outputs(p)]
    outputs += [Output("stmt-total", "children"), Output("stmt-mean", "children")]

    def build(fetch: Fetch, theme: str) -> list[Any]:
        http_down = fetch.down_spans(t.name for t in fetch.targets("http"))

        def common(*metrics: str) -> dict[str, Any]:
            # Alert marks per panel: only the rules that read what the panel draws.
            return {"theme": theme, "transitions": fetch.transitions(metrics),
                    "x_range": (fetch.view.start, fetch.view.end), "down": http_down}
        out: list[Any] = []
        p95 = fetch.thresholds("p95_latency", [APP_Q])
        reason = fetch.why_missing(["http"], APP_Q, "an application histogram (a probe with prometheus:)")
        overall = fetch.ranges(APP_Q, matchers={"route": "*"}) if reason is None else []
        per_route = fetch.ranges(APP_Q, matchers={"quantile": "0.95"}) if reason is None else []
        if reason:
            out += missing(reason, theme) * 2
        else:
            # Max of each bucket: a one-poll spike must survive downsampling.
            allr = [series.line(r, "max", name=f"p{float(r.series.labels.get('quantile', 0)) * 100:g}")
                    for r in overall]
            out += shown(figures.timeseries(allr, unit="seconds", thresholds=p95, **common(APP_Q)))
            routes = [series.line(r, "max", name=r.series.labels.get("route", ""))
                      for r in per_route if r.series.labels.get("route") != "*"]
            if routes:
                out += shown(figures.timeseries(routes[:12], unit="seconds", thresholds=p95, **common(APP_Q)))
            else:
                out += missing("the application histogram has no route label (only all routes together)", theme)
        reason = fetch.why_missing(["http"], "lookout_http_probe_duration_seconds")
        if reason:
            out += missing(reason, theme)
        else:
            probes = [series.line(r, "max", name=f"{r.series.labels.get('target')}/{r.series.labels.get('probe')}")
                      for r in fetch.ranges("lookout_http_probe_duration_seconds", matchers={"phase": "total"})]
            out += shown(figures.timeseries(probes[:12], unit="seconds", thresholds=p95,
                                            **common("lookout_http_probe_duration_seconds")))
        reason = fetch.why_missing(["http"], "lookout_http_app_error_ratio", "an application request counter")
        if reason:
            out += missing(reason, theme)
        else:
            errs = [series.line(r, "max", name=_route_name(r.series.labels.get("route", "")))
                    for r in fetch.ranges("lookout_http_app_error_ratio")]
            out += shown(figures.timeseries(errs[:12], unit="ratio",
                                            thresholds=fetch.thresholds("error_rate", ["lookout_http_app_error_ratio"]),
                                            **common("lookout_http_app_error_ratio")))
        out += statements(fetch)
        return out

    return register_page(app, runtime, outputs, build)


def _route_name(route: str) -> str:
    return "all routes" if route == "*" else route


STMT_COLUMNS: list[Column] = [("target", "Target"), ("datname", "DB"), ("calls", "Calls", "count"),
                              ("total_seconds", "Total", "seconds"), ("mean_seconds", "Mean", "seconds"),
                              ("query", "Query")]


def _secs(v: Any) -> str:
    return format_value(v, "seconds")  # 26 µs, 4.2 ms, 120 ms, 12.0 s


def statements(fetch: Fetch) -> list[Any]:
    docs = fetch.documents("pg_stat_statements")
    if not docs:
        reason = fetch.why_missing(["postgres"], None) or "no statement statistics collected yet"
        return [html.Div(reason, className="text-body-secondary lk-small")] * 2
    rows, reasons, own = [], [], []
    for d in docs:
        body = d.body if isinstance(d.body, dict) else {}
        if not body.get("available", True):
            reasons.append(f"{body.get('reason') or 'pg_stat_statements is not available'} on {d.target}")
        rows += [{"target": d.target, **r} for r in body.get("top", []) if isinstance(r, dict)]
        mine = body.get("lookout")
        if isinstance(mine, dict) and mine.get("calls"):
            own.append(f"{d.target}: {mine['calls']:,.0f} calls, {_secs(mine.get('total_seconds'))} in all")
    note = [dbc.Alert(r, color="warning", className="py-1 lk-small") for r in reasons]
    # Lookout's own polling is kept out of the lists, and said, so its cost is never hidden.
    foot = ([html.Div("Not listed, Lookout's own statements: " + "; ".join(own),
                      className="text-body-secondary lk-small")] if own else [])
    by_total = sorted(rows, key=lambda r: -(r.get("total_seconds") or 0))[:10]
    by_mean = sorted(rows, key=lambda r: -(r.get("mean_seconds") or 0))[:10]
    return [html.Div(note + [table(by_total, STMT_COLUMNS, empty="no statements")] + foot),
            html.Div(note + [table(by_mean, STMT_COLUMNS, empty="no statements")] + foot)]
