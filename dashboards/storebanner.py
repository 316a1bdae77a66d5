"""Say so when the store is unavailable, instead of erroring every panel.

The banner reads the collecting process' own view of the store (the write
buffer, no query) and, on a web replica, whether a cheap read succeeds.
Page refreshes that fail because the store is away keep their last figures
(PreventUpdate) while the banner explains why nothing moves.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output

from dashboards.context import DashboardRuntime
from store.availability import store_unavailable


def store_problem(runtime: DashboardRuntime) -> str | None:
    state = runtime.pipeline.store_state() if runtime.collects else None
    if state is not None and not state["available"]:
        since = state["unavailable_since"]
        when = datetime.fromtimestamp(since, tz=UTC).strftime("%H:%M:%S UTC") if since else "now"
        return (f"Store unavailable since {when}: {state['buffered_batches']} collections wait in memory "
                f"({state['dropped_batches_total']} dropped); collection continues. "
                f"{state['last_error'] or ''}").strip()
    try:
        runtime.store.target_status()
    except Exception as exc:  # any failure to read is what the banner reports
        if store_unavailable(exc):
            return f"Store unavailable: {str(exc).splitlines()[0][:200]}. Panels keep their last data."
        raise
    return None


def register(app: Dash, runtime: DashboardRuntime) -> None:
    @app.callback(Output("store-banner", "children"), Input("tick", "n_intervals"), Input("url", "pathname"))
    def banner(_ticks: Any, _path: Any):
        problem = store_problem(runtime)
        if problem is None:
            return None
        return dbc.Alert(problem, color="danger", className="m-2 py-2", id="store-unavailable")
