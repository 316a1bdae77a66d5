"""Overview: is anything wrong, since when, how bad -- in one glance."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dash_bootstrap_components as dbc
from dash import Dash, Output, dcc, html

from api.probes import PROBES_DOC, failing_probes
from api.probes import summary as probe_summary
from core.units import format_value
from dashboards import cards, figures
from dashboards.context import DashboardRuntime
from dashboards.fetch import Fetch
from dashboards.pages.common import age, register_page, table

PATH, TITLE = "/", "Overview"


def layout(runtime: DashboardRuntime) -> Any:
    # One tile per promise (dashboards/cards.py); the verdict is its alert's.
    tiles = [dbc.Col(dbc.Card(dbc.CardBody([
        html.Div([html.Span(p.title, className="me-2"), html.Span(id=f"score-{p.id}-badge")],
                 className="lk-small text-body-secondary"),
        html.Div([html.Span("–", id=f"score-{p.id}-value", className="lk-value me-2"),
                  html.Span(id=f"score-{p.id}-now", className="lk-small text-body-secondary")]),
        html.Div(id=f"score-{p.id}-note", className="lk-small text-body-secondary"),
        dcc.Graph(id=f"score-{p.id}-spark", config={"displayModeBar": False, "staticPlot": True},
                  style={"height": "48px"}),
    ]), className="lk-tile h-100 shadow-sm", id=f"score-{p.id}"), xs=6, md=4, xl=3, className="mb-2")
        for p in runtime.config.promises.active]
    return html.Div([
        html.H5("Targets", className="mt-1"),
        html.Div(id="ov-health", className="mb-2"),
        html.H5("Firing alerts"),
        html.Div(id="ov-alerts", className="mb-2"),
        html.H5("Promises"),
        dbc.Row(tiles, className="g-2", id="ov-scorecard"),
    ])


def register(app: Dash, runtime: DashboardRuntime) -> Callable[..., Any]:
    outputs = [Output("ov-health", "children"), Output("ov-alerts", "children")]
    for p in runtime.config.promises.active:
        outputs += [Output(f"score-{p.id}-value", "children"), Output(f"score-{p.id}-now", "children"),
                    Output(f"score-{p.id}-badge", "children"), Output(f"score-{p.id}-spark", "figure"),
                    Output(f"score-{p.id}-note", "children")]

    def build(fetch: Fetch, theme: str) -> list[Any]:
        alerts = fetch.alerts()
        out: list[Any] = [health_grid(fetch, alerts), alert_list(alerts, fetch.view.end)]
        for c in cards.cards(runtime, fetch.view.start, fetch.view.end):
            p = c.promise
            out += [c.value_text(), c.now_text(), dbc.Badge(c.verdict, color=c.color),
                    figures.sparkline(c.spark, theme=theme, good=c.good, unit=p.unit, target=p.line),
                    html.Div([html.Div(c.objective_text()), html.Div(c.detail_text())])]
        return out

    return register_page(app, runtime, outputs, build)


# What the health grid's badges and the firing list show: a flapping alert is still firing
# (its notifications are merely held), and a stale one has lost its data; pending is not yet.
ACTIVE = ("firing", "flapping", "stale")


def health_grid(fetch: Fetch, alerts: list[dict[str, Any]]) -> Any:
    status = fetch.status()
    # A target whose collection ran but whose probes fail is failing, not up (api/probes.py).
    failing = failing_probes(fetch.documents(PROBES_DOC), status, frozenset())  # stored masked already
    now = fetch.view.end
    worst: dict[str, str] = {}
    rank = {"warning": 1, "critical": 2}
    for a in alerts:
        if a.get("state") not in ACTIVE:
            continue  # pending is not yet an alert
        t = a.get("labels", {}).get("target")
        sev = a.get("severity") or "warning"
        if t and rank.get(sev, 0) > rank.get(worst.get(t, ""), 0):
            worst[t] = sev
    cards = []
    for t in fetch.targets():
        st = status.get(t.name)
        if st is None:
            color, state, detail = "secondary", "not collected yet", ""
        elif st.up and failing.get(t.name):
            color, state, detail = "warning", "FAILING", probe_summary(failing[t.name])
        elif st.up:
            color, state, detail = "success", "up", ""
        else:
            color, state, detail = "danger", "DOWN", st.last_error or ""
        last = None if st is None or st.last_success is None else now - st.last_success
        stale = st is not None and st.up and last is not None and last > 3 * t.interval
        if stale:
            color, state = "warning", "stale"
        alert = worst.get(t.name)
        cards.append(dbc.Col(dbc.Card(dbc.CardBody([
            html.Div([html.Strong(t.name, className="me-2"), dbc.Badge(state, color=color, className="me-1"),
                      dbc.Badge(alert, color="danger" if alert == "critical" else "warning") if alert else None]),
            html.Div(f"{t.kind} · last collection {age(last)}", className="lk-small text-body-secondary"),
            html.Div(detail, className="lk-small text-danger") if detail else None,
        ]), color=color, outline=True, className="h-100", id=f"health-{t.name}"), xs=12, sm=6, lg=4, xl=3,
            className="mb-2"))
    if not cards:
        return html.Div("no targets configured", className="text-body-secondary")
    return dbc.Row(cards, className="g-2")


def alert_list(alerts: list[dict[str, Any]], now: float) -> Any:
    firing = [a for a in alerts if a.get("state") in ACTIVE]
    rows = [{"severity": a.get("severity") if a.get("state") == "firing"
             else f"{a.get('severity') or 'warning'} · {a.get('state')}", "rule": a.get("rule"),
             "target": a.get("labels", {}).get("target", ""), "summary": a.get("summary", ""),
             # since the value first crossed, as the messages say, not since it fired
             "since": age(now - a["started_at"]) if a.get("started_at") else "–",
             "value": format_value(a.get("value"), a.get("unit") or "none")} for a in firing]
    return table(rows, [("severity", "Severity"), ("rule", "Alert"), ("target", "Target"),
                        ("summary", "Summary"), ("since", "Since"), ("value", "Value")],
                 empty="nothing is firing")
