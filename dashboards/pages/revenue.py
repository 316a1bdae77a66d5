"""Revenue: per hour and per day, orders per minute, payment failures, each
against the same period a week earlier."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dash_bootstrap_components as dbc
from dash import Dash, html

from dashboards import figures, series
from dashboards.context import DashboardRuntime
from dashboards.fetch import Fetch
from dashboards.pages.common import missing, panel_outputs, register_page, shown
from dashboards.series import Line
from dashboards.theme import panel

PATH, TITLE = "/revenue", "Revenue"
PANELS = ["rev-hour", "rev-day", "orders", "pay-fail"]
WEEK = 7 * 86400.0


def layout(runtime: DashboardRuntime) -> Any:
    return html.Div([
        dbc.Row([dbc.Col(panel("rev-hour", "Revenue per hour (dotted: a week earlier)"), lg=6, className="mb-2"),
                 dbc.Col(panel("rev-day", "Revenue per day"), lg=6, className="mb-2")]),
        dbc.Row([dbc.Col(panel("orders", "Orders per minute (dotted: a week earlier)"), lg=6, className="mb-2"),
                 dbc.Col(panel("pay-fail", "Payment failure ratio"), lg=6, className="mb-2")]),
    ])


def _with_week_before(fetch: Fetch, metric: str, scale: float, name: str, matchers: dict | None = None) -> list[Line]:
    v = fetch.view
    now_r = fetch.ranges(metric, "rate", matchers)
    old_r = fetch.ranges(metric, "rate", matchers, start=v.start - WEEK, end=v.end - WEEK)
    cur = series.pairs_line(name, sorted(series.sum_by_ts(now_r).items()), scale=scale)
    old = series.pairs_line(f"{name}, week before", [(ts + WEEK, val) for ts, val in
                                                      sorted(series.sum_by_ts(old_r).items())], scale=scale)
    return [cur, old]


def register(app: Dash, runtime: DashboardRuntime) -> Callable[..., Any]:
    outputs = [o for p in PANELS for o in panel_outputs(p)]

    def build(fetch: Fetch, theme: str) -> list[Any]:
        b = fetch.cfg.business
        v = fetch.view
        sql_down = fetch.down_spans(t.name for t in fetch.targets("sql"))

        def common(metric: str) -> dict[str, Any]:
            # Alert marks per panel: only the rules that read what the panel draws.
            return {"theme": theme, "transitions": fetch.transitions((metric,)), "x_range": (v.start, v.end),
                    "down": sql_down}
        out: list[Any] = []
        reason = fetch.why_missing(["sql"], b.revenue, "a revenue counter")
        if reason:
            out += missing(reason, theme) * 2
        else:
            fig = figures.timeseries(_with_week_before(fetch, b.revenue, 3600.0, "revenue/h"), unit="money",
                                     **common(b.revenue))
            _dotted(fig)
            out += shown(fig)
            days = max(int(v.span // 86400) + 1, 7)
            end = (v.end // 86400 + 1) * 86400
            daily = fetch.ranges(b.revenue, "rate", start=end - days * 86400, end=end - 1, points=days + 1)
            per_day = series.pairs_line("revenue/day", sorted(series.sum_by_ts(daily).items()), width=86400,
                                        scale=86400.0)
            out += shown(figures.timeseries([per_day], unit="money", kind="bar", theme=theme, bar_width=86400 * 0.9,
                                            x_range=(end - days * 86400, end)))
        reason = fetch.why_missing(["sql"], b.orders, "an orders counter")
        if reason:
            out += missing(reason, theme)
        else:
            fig = figures.timeseries(_with_week_before(fetch, b.orders, 60.0, "orders/min"), unit="count",
                                     **common(b.orders))
            _dotted(fig)
            out += shown(fig)
        reason = fetch.why_missing(["sql"], b.payments, "a payments counter")
        if reason:
            out += missing(reason, theme)
        else:
            pay = fetch.ranges(b.payments, "rate")
            is_failed = {b.payment_status_label: b.payment_failed}
            failed = [r for r in pay if series.label_match(r.series.labels, is_failed)]
            cur = series.pairs_line("failure ratio",
                                    series.ratio_series(series.sum_by_ts(failed), series.sum_by_ts(pay)))
            old_pay = fetch.ranges(b.payments, "rate", start=v.start - WEEK, end=v.end - WEEK)
            old_failed = [r for r in old_pay if series.label_match(r.series.labels, is_failed)]
            old = series.pairs_line("week before", [(ts + WEEK, x) for ts, x in series.ratio_series(
                series.sum_by_ts(old_failed), series.sum_by_ts(old_pay))])
            w, c = fetch.thresholds("payment_success", [b.payments])
            # The promise is on success (>= 98 %); the panel shows failures, so flip it.
            flip = (None if w is None or w > 1 else 1 - w, None if c is None or c > 1 else 1 - c)
            if fetch.promise("payment_success") is None or any(
                    b.payments in r.metrics() for r in runtime.config.alerting.rules):
                flip = (w, c)
            fig = figures.timeseries([cur, old], unit="ratio", thresholds=flip, **common(b.payments))
            _dotted(fig)
            out += shown(fig)
        return out

    return register_page(app, runtime, outputs, build)


def _dotted(fig: dict) -> None:
    if len(fig["data"]) > 1:
        fig["data"][1]["line"] = {"width": 1.2, "dash": "dot", "color": "#6c757d"}
