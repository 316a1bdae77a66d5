"""Figure builders: plain dicts (no plotly.graph_objects validation per refresh),
SVG traces only (``scatter``, never ``scattergl``: browsers cap WebGL contexts),
a tiny template instead of plotly's default one (which alone is ~10 kB a figure).
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from dashboards.fetch import Transition
from dashboards.series import Line

COLORS = ["#0d6efd", "#20c997", "#6f42c1", "#fd7e14", "#d63384", "#0dcaf0", "#6c757d", "#198754",
          "#ffc107", "#6610f2"]
WARN = "#f0ad4e"
CRIT = "#dc3545"
DOWN = "rgba(220,53,69,0.13)"

_THEMES = {
    "light": {"font": "#212529", "grid": "rgba(0,0,0,0.08)"},
    "dark": {"font": "#dee2e6", "grid": "rgba(255,255,255,0.10)"},
}

UNITS: dict[str, dict[str, Any]] = {
    "ratio": {"tickformat": ".2~%", "hoverformat": ".2%"},  # 0.5 %, not a row of "1%" and "0%"
    "seconds": {"ticksuffix": "s", "tickformat": "~s", "hoverformat": ".3s"},
    "bytes": {"ticksuffix": "B", "tickformat": "~s", "hoverformat": ".3s"},
    "count": {"tickformat": ",.3~r", "hoverformat": ",.4~r"},
    "rate": {"ticksuffix": "/s", "tickformat": ",.3~r", "hoverformat": ",.4~r"},
    "money": {"tickformat": "~s", "hoverformat": ",.2f"},  # 25M: ",.0f" outgrew the margin
}


def base_layout(theme: str, unit: str = "count", *, height: int = 260) -> dict[str, Any]:
    t = _THEMES.get(theme, _THEMES["light"])
    return {
        "height": height,
        "margin": {"l": 48, "r": 12, "t": 8, "b": 28},
        "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)",
        "font": {"color": t["font"], "size": 11},
        "colorway": COLORS,
        "xaxis": {"type": "date", "gridcolor": t["grid"], "zeroline": False},
        "yaxis": {"gridcolor": t["grid"], "zeroline": False, "rangemode": "tozero", "automargin": True,
                  **UNITS.get(unit, {})},
        "legend": {"orientation": "h", "y": -0.18, "font": {"size": 10}},
        "hovermode": "x unified",
        "uirevision": "keep",  # keep zoom and hidden traces across refreshes
        "showlegend": True,
    }


def timeseries(lines: Sequence[Line], *, theme: str, unit: str = "count",
               thresholds: tuple[float | None, float | None] = (None, None),
               transitions: Sequence[Transition] = (), down: Sequence[tuple[float, float, str]] = (),
               x_range: tuple[float, float] | None = None, kind: str = "lines",
               height: int = 260, bar_width: float | None = None) -> dict[str, Any]:
    layout = base_layout(theme, unit, height=height)
    data: list[dict[str, Any]] = []
    for ln in lines:
        trace: dict[str, Any] = {"type": "bar" if kind == "bar" else "scatter", "name": ln.name,
                                 "x": ln.x, "y": ln.y}
        if kind != "bar":
            trace.update(mode="lines", line={"width": 1.6}, connectgaps=False)
        elif bar_width:
            trace.update(width=int(bar_width * 1000), offset=0)
        data.append(trace)
    if kind == "bar":
        layout["barmode"] = "group"
    layout["showlegend"] = len(lines) > 1
    if x_range:
        layout["xaxis"]["range"] = [int(x_range[0] * 1000), int(x_range[1] * 1000)]
    shapes: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    warn, crit = thresholds
    for value, color, label in ((warn, WARN, "warning"), (crit, CRIT, "critical")):
        if value is None:
            continue
        shapes.append({"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": value, "y1": value,
                       "line": {"color": color, "width": 1.2, "dash": "dash"}})
        notes.append({"xref": "paper", "x": 1, "y": value, "text": label, "showarrow": False,
                      "xanchor": "right", "yanchor": "bottom", "font": {"size": 9, "color": color}})
    for a, b, target in down:
        shapes.append({"type": "rect", "xref": "x", "yref": "paper", "x0": int(a * 1000), "x1": int(b * 1000),
                       "y0": 0, "y1": 1, "fillcolor": DOWN, "line": {"width": 0}, "layer": "below"})
        notes.append({"xref": "x", "yref": "paper", "x": int(a * 1000), "y": 1, "text": f"{target} down",
                      "showarrow": False, "xanchor": "left", "font": {"size": 9, "color": CRIT}})
    marks, labels = transition_marks(transitions, x_range)
    shapes += marks
    notes += labels
    layout["shapes"] = shapes
    layout["annotations"] = notes
    return {"data": data, "layout": layout}


def transition_marks(transitions: Sequence[Transition], x_range: tuple[float, float] | None,
                     ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """One dotted line and one label per group of alert transitions too close to tell apart.

    Transitions within 1/40 of the shown range of a group's first one (about
    10 px on a third-of-the-screen panel) share a line at its latest change:
    one label per line, never a stack of overlapping rotated labels; hovering
    the label lists every change of the group. Its colour is the worst of the
    group: critical, warning (firing or pending), or green (resolved).
    """
    seen: set[tuple[int, str]] = set()
    kept: list[Transition] = []
    for tr in sorted(transitions, key=lambda t: t.ts)[-200:]:
        if (int(tr.ts), tr.rule) in seen:  # pending -> firing in one cycle: mark the later state only
            kept[:] = [k for k in kept if (int(k.ts), k.rule) != (int(tr.ts), tr.rule)]
        seen.add((int(tr.ts), tr.rule))
        kept.append(tr)
    if not kept:
        return [], []
    span = (x_range[1] - x_range[0]) if x_range else (kept[-1].ts - kept[0].ts)
    gap = max(span, 1.0) / 40
    groups: list[list[Transition]] = [[kept[0]]]
    for tr in kept[1:]:
        if tr.ts - groups[-1][0].ts < gap:  # a group spans at most one gap: a steady stream stays spread
            groups[-1].append(tr)
        else:
            groups.append([tr])
    shapes, notes = [], []
    for g in groups[-40:]:
        last = g[-1]
        color = _worst_colour(g)
        x = int(last.ts * 1000)
        shapes.append({"type": "line", "xref": "x", "yref": "paper", "x0": x, "x1": x, "y0": 0, "y1": 1,
                       "line": {"color": color, "width": 1, "dash": "dot"}})
        rules = {t.rule for t in g}
        text = (f"{last.rule} {last.state}" if len(g) == 1 else f"{last.rule} {last.state} (+{len(g) - 1})"
                if len(rules) == 1 else f"{len(g)} alert changes")
        lines = [f"{_hms(t.ts)} {t.rule} {t.state}" + (f" ({t.severity})" if t.severity else "") for t in g[-12:]]
        if len(g) > 12:
            lines.insert(0, f"... {len(g) - 12} earlier")
        notes.append({"xref": "x", "yref": "paper", "x": x, "y": 0, "yanchor": "bottom", "text": text,
                      "hovertext": "<br>".join(lines), "showarrow": False, "textangle": -90,
                      "font": {"size": 8, "color": color}})
    return shapes, notes


def _worst_colour(group: Sequence[Transition]) -> str:
    active = [t for t in group if t.state in ("firing", "pending")]
    if any(t.severity == "critical" for t in active):
        return CRIT
    return WARN if active else "#198754"


def _hms(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%H:%M:%S")


def sparkline(ln: Line, *, theme: str, good: bool | None, unit: str = "ratio",
              target: float | None = None) -> dict[str, Any]:
    color = "#6c757d" if good is None else ("#198754" if good else CRIT)
    shapes = []
    if target is not None:
        shapes.append({"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": target, "y1": target,
                       "line": {"color": CRIT, "width": 1, "dash": "dot"}})
    return {
        "data": [{"type": "scatter", "mode": "lines", "x": ln.x, "y": ln.y, "connectgaps": False,
                  "line": {"color": color, "width": 1.5},
                  "hoverinfo": "y", "name": ln.name}],
        "layout": {"height": 48, "margin": {"l": 0, "r": 0, "t": 2, "b": 2}, "showlegend": False,
                   "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)",
                   "xaxis": {"visible": False, "type": "date"},
                   "yaxis": {"visible": False, **UNITS.get(unit, {})}, "shapes": shapes,
                   "uirevision": "keep"},
    }


def empty(theme: str) -> dict[str, Any]:
    layout = base_layout(theme)
    layout.update(height=60, xaxis={"visible": False}, yaxis={"visible": False})
    return {"data": [], "layout": layout}
