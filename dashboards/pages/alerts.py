"""Alerts: firing and recent, history timeline, silences (create, expire), acks, outbox."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dash_bootstrap_components as dbc
from dash import ALL, Dash, Input, Output, State, ctx, dcc, html, no_update

from collectors.catalogue import Catalogue
from core.units import format_value
from dashboards import figures
from dashboards.context import DashboardRuntime
from dashboards.fetch import Fetch
from dashboards.pages.common import (
    age,
    missing,
    panel_outputs,
    register_page,
    shown,
    table,
)
from dashboards.theme import panel

PATH, TITLE = "/alerts", "Alerts"
DURATIONS = {"1h": 3600, "4h": 4 * 3600, "24h": 86400, "7d": 7 * 86400}


def layout(runtime: DashboardRuntime) -> Any:
    form = dbc.Form([
        dbc.Row([
            dbc.Col([dbc.Input(id="sil-matchers", placeholder="alertname=HighLatency, target=shop-api", size="sm",
                               list="sil-matcher-names"),
                     html.Datalist(id="sil-matcher-names", children=matcher_options(runtime))], md=4),
            dbc.Col(dbc.Select(id="sil-duration", size="sm", value="1h",
                               options=[{"label": k, "value": k} for k in DURATIONS]), md=1),
            dbc.Col(dbc.Input(id="sil-author", placeholder="who", size="sm"), md=2),
            dbc.Col(dbc.Input(id="sil-comment", placeholder="why", size="sm"), md=3),
            dbc.Col(dbc.Button("Silence", id="sil-create", size="sm", color="primary"), md=2),
        ], className="g-1"),
        html.Div(id="sil-status", className="lk-small mt-1"),
    ])
    return html.Div([
        dcc.Store(id="alerts-bump", data=0),
        html.H5("Open alerts", className="mt-1"),
        html.Div(id="al-open", className="mb-2"),
        dbc.Row([dbc.Col(panel("al-history", "History: alert transitions", height=200), lg=12, className="mb-2")]),
        html.H5("Silences"),
        form,
        html.Div(id="al-silences", className="my-2"),
        html.H5("Notification outbox"),
        html.Div(id="al-outbox", className="mb-2"),
    ])


def matcher_options(runtime: DashboardRuntime) -> list[Any]:
    """Completions for the silence form: each rule's alertname (with the metric it reads, from the
    metric catalogue), each target, and the labels of those metrics an alert carries."""
    cfg = runtime.config
    catalogue = Catalogue(cfg.targets)
    out: list[Any] = []
    labels: set[str] = set()
    for rule in cfg.alerting.rules:
        metrics = sorted(rule.metrics())
        out.append(html.Option(value=f"alertname={rule.name}", label=", ".join(metrics)))
        for name in metrics:
            m = catalogue.lookup(name)
            labels.update(m.labels if m is not None else ())
    out += [html.Option(value=f"alertname={p.alert_name}", label=p.title) for p in cfg.promises.active]
    out += [html.Option(value=f"target={t.name}", label=t.kind) for t in cfg.targets]
    out += [html.Option(value=f"{label}=", label="label of the rules' metrics") for label in sorted(labels - {"kind"})]
    return out


def register(app: Dash, runtime: DashboardRuntime) -> Callable[..., Any]:
    outputs = [Output("al-open", "children")] + panel_outputs("al-history")
    outputs += [Output("al-silences", "children"), Output("al-outbox", "children")]

    def build(fetch: Fetch, theme: str) -> list[Any]:
        if fetch.alerting() is None:
            msg = "alerting is not configured (add an alerting: section with rules)"
            return [html.Div(msg, className="text-body-secondary"), *missing(msg, theme), "", ""]
        now = fetch.view.end
        rows = [{**a, "target": a["labels"].get("target", ""), "value": format_value(a["value"], a["unit"]),
                 "since": age(now - (a.get("started_at") or a["firing_since"] or a["pending_since"] or now)),
                 "muted": a["muted_reason"] or (f"silence {a['silenced_by']}" if a["silenced_by"] else ""),
                 "ack": (f"acked by {a['acked_by']}" if a["acked_by"] else
                         dbc.Button("Ack", id={"type": "ack", "id": a["id"]}, size="sm", color="secondary",
                                    outline=True, className="py-0"))}
                for a in fetch.alerts()]
        open_ = table(rows, [("state", "State"), ("severity", "Severity"), ("rule", "Alert"), ("target", "Target"),
                             ("value", "Value"), ("since", "Since"), ("muted", "Muted"), ("ack", "Ack")],
                      fmt={"ack": lambda v: v}, empty="no open alerts")
        tr = [t for t in fetch.transitions() if not t.carried]
        if tr:
            hist = shown(timeline(tr, theme, fetch.view.start, fetch.view.end), 200)
        else:
            hist = missing("no alert transitions in the selected range", theme)
        sil = [{**s, "matchers": ", ".join(f"{m['name']}{m['op']}{m['value']}" for m in s["matchers"]),
                "ends": age(s["ends_at"] - now).replace(" ago", "") if s["ends_at"] > now else "ended",
                "expire": dbc.Button("Expire", id={"type": "expire", "id": s["id"]}, size="sm", color="danger",
                                     outline=True, className="py-0") if s["status"] != "expired" else ""}
               for s in fetch.silences()]
        sil_t = table(sil[-30:], [("id", "#"), ("status", "Status"), ("matchers", "Matchers"), ("author", "By"),
                                  ("comment", "Comment"), ("ends", "Ends in"), ("expire", "")],
                      fmt={"expire": lambda v: v}, empty="no silences")
        box = fetch.outbox()
        box_t = table(box, [("id", "#"), ("receiver", "Receiver"), ("status", "Status"), ("attempts", "Attempts"),
                            ("last_error", "Last error")], empty="outbox is empty or not available")
        return [open_, *hist, sil_t, box_t]

    app.callback(
        Output("sil-status", "children"), Output("alerts-bump", "data"),
        Input("sil-create", "n_clicks"), Input({"type": "expire", "id": ALL}, "n_clicks"),
        Input({"type": "ack", "id": ALL}, "n_clicks"),
        State("sil-matchers", "value"), State("sil-duration", "value"), State("sil-author", "value"),
        State("sil-comment", "value"), State("alerts-bump", "data"), prevent_initial_call=True,
    )(lambda *a: act(runtime, *a))
    return register_page(app, runtime, outputs, build, [Input("alerts-bump", "data")])


def act(runtime: DashboardRuntime, _create: Any, expire_clicks: list[int | None], ack_clicks: list[int | None],
        matchers: str | None, duration: str | None, author: str | None, comment: str | None,
        bump: int | None) -> tuple[Any, Any]:
    """Silence, expire or ack, written by the runtime's alert engine (never one of the page's own)."""
    trig = ctx.triggered_id
    if trig is None or (isinstance(trig, dict) and not any(expire_clicks + ack_clicks)):
        return no_update, no_update
    eng = runtime.alert_engine
    if eng is None:
        return dbc.Alert("alerting does not run in this process: nothing can be written here", color="warning",
                         className="py-1"), no_update
    try:
        now = runtime.clock()
        if trig == "sil-create":
            pairs = dict(p.split("=", 1) for p in (matchers or "").replace(" ", "").split(",") if "=" in p)
            sid = eng.silence(pairs, None, now + DURATIONS.get(duration or "1h", 3600),
                              (author or "").strip(), (comment or "").strip(), now=now)
            msg = dbc.Alert(f"silence {sid} created", color="success", className="py-1")
        elif trig.get("type") == "expire":
            ok = eng.expire_silence(int(trig["id"]), now=now)
            msg = dbc.Alert(f"silence {trig['id']} {'expired' if ok else 'had already ended'}",
                            color="success" if ok else "secondary", className="py-1")
        else:
            eng.ack(int(trig["id"]), (author or "dashboard").strip() or "dashboard", None, now=now)
            msg = dbc.Alert(f"alert {trig['id']} acknowledged", color="success", className="py-1")
    except Exception as exc:  # noqa: BLE001 - validation errors are shown to the person who acted
        return dbc.Alert(str(exc), color="danger", className="py-1"), no_update
    return msg, (bump or 0) + 1


STATE_COLORS = {"firing": figures.CRIT, "pending": figures.WARN, "stale": "#6c757d", "flapping": "#6f42c1",
                "ok": "#198754"}


def timeline(tr: list, theme: str, start: float, end: float) -> dict[str, Any]:
    """One row per rule, one marker per transition, coloured by the state entered."""
    fig = figures.timeseries([], theme=theme, unit="count", x_range=(start, end), height=200)
    # Pending and firing in one evaluation: mark the state it ended in, not both on one spot.
    tr = list({(int(t.ts), t.rule, t.key): t for t in sorted(tr, key=lambda t: t.ts)}.values())
    for state, color in STATE_COLORS.items():
        pts = [t for t in tr if t.state == state]
        if pts:
            fig["data"].append({"type": "scatter", "mode": "markers", "name": state,
                                "x": [int(t.ts * 1000) for t in pts], "y": [t.rule for t in pts],
                                "text": [t.severity or "" for t in pts],
                                "marker": {"color": color, "size": 9, "symbol": "line-ns-open",
                                           "line": {"width": 3, "color": color}}})
    fig["layout"]["yaxis"] = {"type": "category", "automargin": True, "gridcolor": "rgba(128,128,128,0.15)"}
    fig["layout"]["showlegend"] = True
    fig["layout"]["hovermode"] = "closest"
    return fig
