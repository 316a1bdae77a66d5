"""Look and shell: Bootstrap 5.3 (light and dark colour modes), navbar, view controls.

The stylesheet is served from the Bootstrap-Flask wheel's static files, so the
dashboard works without internet access (no CDN).
"""
from __future__ import annotations

from pathlib import Path

import dash_bootstrap_components as dbc
from dash import dcc, html
from flask import Flask, abort, send_from_directory

from dashboards.timerange import (
    DEFAULT_RANGE,
    DEFAULT_REFRESH,
    RANGE_LABELS,
    REFRESH_LABELS,
)

CSS_URL = "/_lookout/static/bootstrap.min.css"

CUSTOM_CSS = """
.lk-panel .card-header{font-weight:600;font-size:.9rem;padding:.4rem .75rem}
.lk-panel .card-body{padding:.25rem .5rem}
.lk-tile{min-width:11rem}
.lk-value{font-size:1.6rem;font-weight:600;line-height:1.1}
.lk-small{font-size:.78rem}
.lk-table{font-size:.8rem}
.lk-table td,.lk-table th{padding:.2rem .4rem}
.navbar .form-select{width:auto}
"""


def bootstrap_dir() -> Path:
    # Bootstrap 5.3.8 (MIT, licence header kept in the file) is vendored: the
    # dashboard must work offline, without a CDN, and dash-bootstrap-components
    # ships no CSS of its own.
    return Path(__file__).parent / "static"


def serve_static(server: Flask) -> None:
    folder = bootstrap_dir()

    @server.get("/_lookout/static/<name>")
    def lookout_static(name: str):
        if name == "bootstrap.min.css":
            return send_from_directory(folder, name, max_age=86400)
        if name == "lookout.css":
            return CUSTOM_CSS, 200, {"Content-Type": "text/css", "Cache-Control": "max-age=3600"}
        abort(404)


def navbar(pages: list[tuple[str, str]]) -> dbc.Navbar:
    links = [dbc.NavItem(dbc.NavLink(title, href=path, id=f"nav-{_slug(path)}", active="exact"))
             for path, title in pages]
    controls = html.Div([
        dbc.Select(id="range-select", size="sm", value=DEFAULT_RANGE,
                   options=[{"label": v, "value": k} for k, v in RANGE_LABELS.items()]),
        html.Div([
            dbc.Input(id="custom-from", type="datetime-local", size="sm", debounce=True),
            dbc.Input(id="custom-to", type="datetime-local", size="sm", debounce=True),
        ], id="custom-group", className="d-none"),
        dbc.Select(id="refresh-select", size="sm", value=DEFAULT_REFRESH,
                   options=[{"label": f"↻ {v}", "value": k} for k, v in REFRESH_LABELS.items()]),
        dbc.Switch(id="dark-switch", label="Dark", value=False, persistence=True,
                   persistence_type="local", className="mb-0 ms-1 text-nowrap"),
        html.Span("UTC", className="text-body-secondary lk-small"),
    ], className="d-flex align-items-center gap-2 flex-wrap")
    return dbc.Navbar(dbc.Container([
        dbc.NavbarBrand("Lookout", href="/", className="fw-bold"),
        dbc.NavbarToggler(id="nav-toggle"),
        dbc.Collapse(dbc.Nav(links, navbar=True, className="me-auto"), id="nav-collapse", navbar=True),
        controls,
    ], fluid=True), dark=False, color=None, expand="lg", className="bg-body-tertiary border-bottom mb-2 py-1")


def shell(pages: list[tuple[str, str]]) -> html.Div:
    return html.Div([
        dcc.Location(id="url", refresh=False),
        dcc.Interval(id="tick", interval=15_000, disabled=False),
        dcc.Store(id="theme", data="light"),
        dcc.Store(id="current-path"),
        navbar(pages),
        html.Div(id="store-banner"),
        dbc.Container(id="page", fluid=True, className="pb-4"),
    ])


def panel(pid: str, title: str, *, height: int = 260, extra: object = None) -> dbc.Card:
    """A card with a message slot (why it is empty) and a graph; see pages.common.panel_outputs."""
    return dbc.Card([
        dbc.CardHeader([title, html.Span(id=f"{pid}-badge", className="ms-2")]),
        dbc.CardBody([
            html.Div(id=f"{pid}-msg"),
            dcc.Graph(id=f"{pid}-graph", config={"displayModeBar": False, "responsive": True},
                      style={"height": f"{height}px"}),
            extra or html.Div(),
        ]),
    ], className="lk-panel h-100 shadow-sm")


def _slug(path: str) -> str:
    return path.strip("/") or "overview"
