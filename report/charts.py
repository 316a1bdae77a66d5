"""One chart per promise: the SLI over the period, the objective or bound, incidents shaded.

The line's label goes in the legend and incidents are shaded spans with a
legend entry per severity, so no text sits on the data.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import plotly.graph_objects as go

from core.units import format_value
from report.model import PromiseReport, Report

COLOURS = {"critical": "#d62728", "warning": "#ff7f0e", None: "#7f7f7f"}
LINE = "#1f77b4"
BOUND = "#2ca02c"


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _axis(p: PromiseReport) -> tuple[float, dict[str, Any]]:
    """(scale of the values, y-axis settings) for the promise's unit."""
    if p.unit == "ratio":
        return 1.0, {"tickformat": ".1%"}
    if p.unit == "seconds":
        return 1000.0, {"ticksuffix": " ms"}
    return 1.0, {}


def figure(p: PromiseReport, report: Report) -> go.Figure:
    scale, yaxis = _axis(p)
    fig = go.Figure()
    xs = [_dt(ts) for ts, _ in p.series]
    fig.add_trace(go.Scatter(
        x=xs, y=[v * scale for _, v in p.series], mode="lines", name=p.title, line={"color": LINE, "width": 1.5},
        text=[format_value(v, p.unit) for _, v in p.series], hovertemplate="%{x|%Y-%m-%d %H:%M} UTC: %{text}"
                                                                          "<extra></extra>"))
    span = [_dt(report.start), _dt(report.end)]
    fig.add_trace(go.Scatter(x=span, y=[p.line * scale] * 2, mode="lines", name=p.line_label,
                             line={"color": BOUND, "dash": "dash", "width": 1.2}, hoverinfo="skip"))
    shown: set[str | None] = set()
    for inc in p.incidents:
        x0 = _dt(max(inc.start if inc.start is not None else report.start, report.start))
        x1 = _dt(inc.end if inc.end is not None else report.end)
        fig.add_shape(type="rect", xref="x", yref="paper", x0=x0, x1=x1, y0=0, y1=1, layer="below",
                      fillcolor=COLOURS.get(inc.severity, COLOURS[None]), opacity=0.18, line={"width": 0},
                      name=f"incident ({inc.severity or 'firing'})", legendgroup=f"incident-{inc.severity}",
                      showlegend=inc.severity not in shown)
        shown.add(inc.severity)
    fig.update_layout(
        template="plotly_white", height=300, margin={"l": 60, "r": 20, "t": 10, "b": 40},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        xaxis={"range": span, "type": "date"}, yaxis=yaxis, hovermode="x unified")
    return fig
