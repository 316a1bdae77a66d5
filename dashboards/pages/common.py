"""What every page's refresh callback shares: its inputs, one Fetch, panel outputs."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, html
from dash.exceptions import PreventUpdate

from core.units import format_value
from dashboards import figures
from dashboards.context import DashboardRuntime
from dashboards.fetch import Fetch
from dashboards.timerange import parse_search
from store.availability import store_unavailable

HIDDEN = {"display": "none"}


def refresh_inputs() -> list[Input]:
    # The URL (range), the auto-refresh tick and the colour mode; nothing else re-reads the store.
    return [Input("url", "search"), Input("tick", "n_intervals"), Input("theme", "data")]


def panel_outputs(pid: str) -> list[Output]:
    return [Output(f"{pid}-graph", "figure"), Output(f"{pid}-graph", "style"), Output(f"{pid}-msg", "children")]


def shown(fig: dict[str, Any], height: int = 260, note: Any = None) -> tuple:
    return fig, {"height": f"{height}px"}, note


def missing(reason: str, theme: str) -> tuple:
    """A panel whose source is missing says why, instead of drawing an empty chart."""
    return figures.empty(theme), HIDDEN, dbc.Alert(reason, color="secondary", className="py-2 my-2 lk-small")


def register_page(app: Dash, runtime: DashboardRuntime, outputs: Sequence[Output],
                  build: Callable[[Fetch, str], Sequence[Any]],
                  extra_inputs: Sequence[Input] = ()) -> Callable[..., Any]:
    """Wire ``build(fetch, theme) -> values for outputs`` to the refresh inputs; returns the callback."""

    def refresh(search: str | None, _ticks: int | None, theme: str | None, *_extra: Any) -> list[Any]:
        view = parse_search(search, runtime.clock())
        fetch = Fetch(runtime, view)
        try:
            return list(build(fetch, theme or "light"))
        except Exception as exc:
            if store_unavailable(exc):
                raise PreventUpdate from exc  # keep the last figures; the store banner says why
            raise

    app.callback(list(outputs), refresh_inputs() + list(extra_inputs))(refresh)
    return refresh


Column = tuple[str, str] | tuple[str, str, str]


def table(rows: Sequence[dict[str, Any]], columns: Sequence[Column], *,
          empty: str = "nothing to show", fmt: dict[str, Callable[[Any], Any]] | None = None) -> Any:
    """A table of ``rows``; a column is (key, title) or (key, title, unit).

    A unit (``core.units``: ratio, seconds, bytes, count, eur...) formats every number of
    the column, so a cell reads "66.4 %", "12.6 min" or "1.8 MiB", never a bare 0.6636, and
    the header needs no "(h)". ``fmt`` formats a column by hand (buttons, joined lists).
    """
    if not rows:
        return html.Div(empty, className="text-body-secondary lk-small py-2")
    fmt = dict(fmt or {})
    for col in columns:
        if len(col) == 3 and col[0] not in fmt:
            fmt[col[0]] = _in_unit(col[2])
    head = html.Thead(html.Tr([html.Th(col[1]) for col in columns]))
    body = html.Tbody([html.Tr([html.Td(fmt.get(col[0], _cell)(r.get(col[0]))) for col in columns]) for r in rows])
    return dbc.Table([head, body], striped=True, hover=True, size="sm", responsive=True,
                     className="lk-table mb-1")


def _in_unit(unit: str) -> Callable[[Any], str]:
    def cell(v: Any) -> str:
        if isinstance(v, bool) or not isinstance(v, int | float):
            return _cell(v)
        return format_value(float(v), unit)
    return cell


def _cell(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return format_value(v)
    if isinstance(v, list | tuple):
        return ", ".join(_cell(x) for x in v)
    s = str(v)
    return s if len(s) <= 140 else s[:137] + "…"


def age(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    s = max(seconds, 0)
    if s < 90:
        return f"{s:.0f} s ago"
    if s < 5400:
        return f"{s / 60:.0f} min ago"
    if s < 172800:
        return f"{s / 3600:.1f} h ago"
    return f"{s / 86400:.1f} d ago"
