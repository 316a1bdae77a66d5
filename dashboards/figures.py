"""Figure builders: plain dicts (no plotly.graph_objects validation per refresh),
SVG traces only (``scatter``, never ``scattergl``: browsers cap WebGL contexts),
a tiny template instead of plotly's default one (which alone is ~10 kB a figure).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from core import units as core_units
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
    # 0.5 %, not a row of "1%" and "0%"; never much past 0-100 %: plotly pads a flat line by ±1 (a
    # steady 99 % hit ratio drew an axis up to 190 %); 2 % of room keeps a line at 100 % visible.
    "ratio": {"tickformat": ".2~%", "hoverformat": ".2%",
              "autorangeoptions": {"minallowed": 0, "maxallowed": 1.02}},
    "seconds": {"ticksuffix": "s", "tickformat": "~s", "hoverformat": ".3s"},
    "bytes": {"ticksuffix": "B", "tickformat": "~s", "hoverformat": ".3s"},
    "count": {"tickformat": ",.3~r", "hoverformat": ",.4~r"},
    "rate": {"ticksuffix": "/s", "tickformat": ",.3~r", "hoverformat": ",.4~r"},
    "money": {"tickformat": "~s", "hoverformat": ",.2f"},  # 25M: ",.0f" outgrew the margin
}


# Where a panel's legend-only marks live: an invisible axis over the plot, 0 at the bottom and 1 at the
# top, so the alert and outage markers sit in a row along the top edge whatever the data's scale.
MARK_AXIS = "y9"
MARK_Y = 1.0
# How a figure's axis unit reads in words (legend entries, hover text): core.units' names.
_VALUE_UNITS = {"ratio": "ratio", "seconds": "seconds", "bytes": "bytes", "count": "count", "money": "eur"}


def base_layout(theme: str, unit: str = "count", *, height: int = 260) -> dict[str, Any]:
    t = _THEMES.get(theme, _THEMES["light"])
    return {
        "height": height,
        "margin": {"l": 48, "r": 12, "t": 10, "b": 28},
        "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)",
        "font": {"color": t["font"], "size": 11},
        "colorway": COLORS,
        # The standoff keeps the first and last time labels clear of the y axes' "0", which
        # hangs half below the x axis; automargin keeps the date under the first one, which
        # reaches left of the plot, inside the figure.
        "xaxis": {"type": "date", "gridcolor": t["grid"], "zeroline": False, "ticklabelstandoff": 6,
                  "automargin": True},
        "yaxis": {"gridcolor": t["grid"], "zeroline": False, "rangemode": "tozero", "automargin": True,
                  **UNITS.get(unit, {})},
        # Above the plot: below it, a fixed offset from the axis ran into the time labels'
        # second line (the date) once a few legend rows shrank the plot.
        "legend": {"orientation": "h", "x": 0, "xanchor": "left", "y": 1.02, "yanchor": "bottom",
                   "font": {"size": 10}},
        "hovermode": "x unified",
        "uirevision": "keep",  # keep zoom and hidden traces across refreshes
        "showlegend": True,
    }


def format_value(value: float | None, unit: str) -> str:
    """A value of a figure's axis ``unit`` as a person reads it (``core.units`` does the work)."""
    if unit == "rate":
        return f"{core_units.format_value(value, 'none')}/s"
    return core_units.format_value(value, _VALUE_UNITS.get(unit, "none"))


def timeseries(lines: Sequence[Line], *, theme: str, unit: str = "count",
               thresholds: tuple[float | None, float | None] = (None, None),
               limit_names: tuple[str, str] = ("warning", "critical"),
               transitions: Sequence[Transition] = (), down: Sequence[tuple[float, float, str]] = (),
               x_range: tuple[float, float] | None = None, kind: str = "lines",
               height: int = 260, bar_width: float | None = None) -> dict[str, Any]:
    """A time-series panel: its lines, threshold lines, alert and outage spans.

    No text is written over the plot: thresholds are legend entries ("critical 80.0 %"), a
    firing alert is a band shaded in its severity's colour with a marker on the top edge
    whose hover lists the changes, and a target's outage is a red band with its own marker.
    Labels inside the plot collided with each other, the data and a second axis.
    """
    layout = base_layout(theme, unit, height=height)
    data: list[dict[str, Any]] = []
    for ln in lines:
        trace: dict[str, Any] = {"type": "bar" if kind == "bar" else "scatter", "name": ln.name,
                                 "x": ln.x, "y": ln.y}
        if kind != "bar":
            trace.update(mode="lines", line={"width": 1.6}, connectgaps=False)
            dots = lone_point_sizes(ln.y)
            if dots is not None:  # a line through one point draws nothing: the first poll, a point between gaps
                trace.update(mode="lines+markers", marker={"size": dots})
        elif bar_width:
            trace.update(width=int(bar_width * 1000), offset=0)
        data.append(trace)
    if kind == "bar":
        layout["barmode"] = "group"
    if x_range:
        layout["xaxis"]["range"] = [int(x_range[0] * 1000), int(x_range[1] * 1000)]
    shapes: list[dict[str, Any]] = []
    for value, color, label in zip(thresholds, (WARN, CRIT), limit_names, strict=True):
        if value is None:
            continue
        shapes.append({"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": value, "y1": value,
                       "line": {"color": color, "width": 1.2, "dash": "dash"},
                       "name": f"{label} {format_value(value, unit)}", "showlegend": True})
    marks = alert_marks(transitions, x_range) + down_marks(down)
    for m in marks:
        shapes += m.shapes
        data += m.traces()
    if marks:
        layout[f"yaxis{MARK_AXIS[1:]}"] = {"overlaying": "y", "range": [0, 1], "visible": False,
                                           "fixedrange": True}
    layout["showlegend"] = len(lines) > 1 or bool(marks) or any(v is not None for v in thresholds)
    layout["shapes"] = shapes
    layout["annotations"] = []
    return {"data": data, "layout": layout}


def lone_point_sizes(ys: Sequence[float | None], size: int = 5) -> list[int] | None:
    """Marker sizes that show the points no line reaches (no value on either side); None if there are none."""
    sizes = [size if v is not None and (k == 0 or ys[k - 1] is None) and (k == len(ys) - 1 or ys[k + 1] is None)
             else 0 for k, v in enumerate(ys)]
    return sizes if any(sizes) else None


@dataclass
class Mark:
    """One legend entry of a panel: bands (shapes) and a row of hoverable markers along the top."""

    trace: dict[str, Any]
    color: str
    shapes: list[dict[str, Any]] = field(default_factory=list)

    def traces(self) -> list[dict[str, Any]]:
        """The marker row; when its markers differ in colour, a legend-only twin in the mark's colour
        (plotly draws the legend symbol in the first marker's)."""
        colors = self.trace["marker"]["color"]
        if not isinstance(colors, list):
            return [self.trace]
        twin = {**self.trace, "x": [None], "y": [None], "text": [""],
                "marker": {**self.trace["marker"], "color": self.color}}
        return [{**self.trace, "showlegend": False}, twin]


ACTIVE = ("firing", "flapping")  # states an alert is raised in: shaded
SPAN_FILL = {"critical": "rgba(220,53,69,0.14)", "warning": "rgba(240,173,78,0.20)"}
OK_COLOUR = "#198754"
MAX_RULES = 6  # marked rules a panel; more are one entry "other alerts"


def alert_spans(transitions: Sequence[Transition], x_range: tuple[float, float] | None,
                ) -> list[tuple[float, float, str, str]]:
    """(start, end, rule, severity) of every interval an alert was firing, one series' alerts merged per rule.

    Follows each alert (rule and series) through its changes: a band opens when it
    starts firing, switches colour when its severity changes and closes when it leaves
    firing; one that was firing when the view begins (its first change leaves firing,
    or ``carried``) starts at the view's start, one still firing ends at its end.
    """
    end = x_range[1] if x_range else max((t.ts for t in transitions), default=0.0)
    start = x_range[0] if x_range else min((t.ts for t in transitions), default=0.0)
    per_alert: dict[tuple[str, str], list[Transition]] = defaultdict(list)
    for t in sorted(transitions, key=lambda t: t.ts):
        per_alert[(t.rule, t.key)].append(t)
    raw: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    for (rule, _key), changes in per_alert.items():
        since: float | None = None
        sev = "warning"
        if changes[0].from_state in ACTIVE:
            since, sev = start, changes[0].severity or "warning"
        for t in changes:
            if t.state in ACTIVE:
                if since is None:
                    since, sev = t.ts, t.severity or "warning"
                elif t.severity and t.severity != sev:  # escalated or de-escalated while firing
                    raw[(rule, sev)].append((since, t.ts))
                    since, sev = t.ts, t.severity
            elif since is not None:
                raw[(rule, sev)].append((since, t.ts))
                since = None
        if since is not None:
            raw[(rule, sev)].append((since, end))
    out: list[tuple[float, float, str, str]] = []
    for (rule, sev), spans in raw.items():
        for a, b in _union(spans):
            out.append((max(a, start), min(b, end), rule, sev))
    return sorted(out)


def _union(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def alert_marks(transitions: Sequence[Transition], x_range: tuple[float, float] | None) -> list[Mark]:
    """Per alert rule, one legend entry: its firing bands and one marker per group of changes too
    close to tell apart. The MAX_RULES worst rules have their own; the rest share "other alerts".

    Changes within 1/40 of the shown range of a group's first one (about 10 px on a
    third-of-the-screen panel) share a marker at the group's latest change; its hover
    lists every change of the group (the last 12). A marker's colour is the worst of its
    group: red (critical firing), orange (warning firing, or pending), or green (resolved).
    """
    spans = alert_spans(transitions, x_range)
    changes = [t for t in transitions if not t.carried]
    rules = sorted({t.rule for t in changes} | {s[2] for s in spans},
                   key=lambda r: (-_rank(r, spans, changes), r))
    named = {r: r for r in rules[:MAX_RULES]} | {r: "other alerts" for r in rules[MAX_RULES:]}
    marks: dict[str, Mark] = {}
    for name in dict.fromkeys(named[r] for r in rules):
        mine = [t for t in changes if named[t.rule] == name]
        bands = [s for s in spans if named[s[2]] == name]
        worst = "critical" if any(s[3] == "critical" for s in bands) else "warning" if bands else None
        color = CRIT if worst == "critical" else WARN if worst else _worst_colour(mine)
        mark = marks[name] = Mark({
            "type": "scatter", "mode": "markers", "name": name, "yaxis": MARK_AXIS, "x": [], "y": [],
            "text": [], "marker": {"symbol": "triangle-down", "size": 9, "color": []},
            "hovertemplate": "%{text}<extra></extra>", "cliponaxis": False,
            "legendgroup": f"alert-{name}", "showlegend": True}, color)
        for a, b, _r, sev in bands:
            mark.shapes.append({"type": "rect", "xref": "x", "yref": "paper", "x0": int(a * 1000),
                                "x1": int(b * 1000), "y0": 0, "y1": 1, "line": {"width": 0}, "layer": "below",
                                "fillcolor": SPAN_FILL.get(sev, SPAN_FILL["warning"]),
                                "legendgroup": f"alert-{name}", "showlegend": False})
        for g in _groups(mine, x_range):
            last = g[-1]
            lines = [f"{_hms(t.ts)} {t.rule} {t.state}" + (f" ({t.severity})" if t.severity else "") for t in g[-12:]]
            if len(g) > 12:
                lines.insert(0, f"... {len(g) - 12} earlier")
            mark.trace["x"].append(int(last.ts * 1000))
            mark.trace["y"].append(MARK_Y)
            mark.trace["text"].append("<br>".join(lines))
            mark.trace["marker"]["color"].append(_worst_colour(g))
    for mark in marks.values():
        if not mark.trace["x"]:  # firing all along the view: no change to mark, only the legend entry
            mark.trace.update(x=[None], y=[None], text=[""])
        colors = mark.trace["marker"]["color"]
        # One colour for the legend's symbol unless the markers differ (the legend takes a single one).
        mark.trace["marker"]["color"] = colors if len(set(colors)) > 1 else mark.color
    return list(marks.values())


def _rank(rule: str, spans: Sequence[tuple[float, float, str, str]], changes: Sequence[Transition]) -> int:
    sevs = {s[3] for s in spans if s[2] == rule}
    return 3 if "critical" in sevs else 2 if sevs else 1 if any(t.rule == rule for t in changes) else 0


def _groups(transitions: Sequence[Transition], x_range: tuple[float, float] | None) -> list[list[Transition]]:
    seen: set[tuple[int, str, str]] = set()
    kept: list[Transition] = []
    for tr in sorted(transitions, key=lambda t: t.ts)[-200:]:
        key = (int(tr.ts), tr.rule, tr.key)
        if key in seen:  # pending -> firing in one cycle: mark the later state only
            kept[:] = [k for k in kept if (int(k.ts), k.rule, k.key) != key]
        seen.add(key)
        kept.append(tr)
    if not kept:
        return []
    span = (x_range[1] - x_range[0]) if x_range else (kept[-1].ts - kept[0].ts)
    gap = max(span, 1.0) / 40
    groups: list[list[Transition]] = [[kept[0]]]
    for tr in kept[1:]:
        if tr.ts - groups[-1][0].ts < gap:  # a group spans at most one gap: a steady stream stays spread
            groups[-1].append(tr)
        else:
            groups.append([tr])
    return groups[-40:]


def down_marks(down: Sequence[tuple[float, float, str]]) -> list[Mark]:
    """Per target: the bands where it was down, and a marker at each band's start saying from when to when."""
    marks: dict[str, Mark] = {}
    for a, b, target in sorted(down):
        mark = marks.get(target)
        if mark is None:
            mark = marks[target] = Mark({
                "type": "scatter", "mode": "markers", "name": f"{target} down", "yaxis": MARK_AXIS,
                "x": [], "y": [], "text": [], "hovertemplate": "%{text}<extra></extra>", "cliponaxis": False,
                "marker": {"symbol": "square", "size": 8, "color": CRIT, "opacity": 0.6},
                "legendgroup": f"down-{target}", "showlegend": True}, CRIT)
        mark.shapes.append({"type": "rect", "xref": "x", "yref": "paper", "x0": int(a * 1000), "x1": int(b * 1000),
                            "y0": 0, "y1": 1, "fillcolor": DOWN, "line": {"width": 0}, "layer": "below",
                            "legendgroup": f"down-{target}", "showlegend": False})
        mark.trace["x"].append(int(a * 1000))
        mark.trace["y"].append(MARK_Y)
        mark.trace["text"].append(f"{target} down {_hms(a)}–{_hms(b)} ({core_units.format_value(b - a, 'seconds')})")
    return list(marks.values())


def _worst_colour(group: Sequence[Transition]) -> str:
    """Red for a critical alert firing, orange for a warning firing or any pending, green when resolved."""
    if any(t.state in ACTIVE and t.severity == "critical" for t in group):
        return CRIT
    return WARN if any(t.state in (*ACTIVE, "pending") for t in group) else OK_COLOUR


def _hms(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%H:%M:%S")


def sparkline(ln: Line, *, theme: str, good: bool | None, unit: str = "ratio",
              target: float | None = None) -> dict[str, Any]:
    color = "#6c757d" if good is None else ("#198754" if good else CRIT)
    shapes = []
    if target is not None:
        shapes.append({"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": target, "y1": target,
                       "line": {"color": CRIT, "width": 1, "dash": "dot"}})
    trace: dict[str, Any] = {"type": "scatter", "mode": "lines", "x": ln.x, "y": ln.y, "connectgaps": False,
                             "line": {"color": color, "width": 1.5}, "hoverinfo": "y", "name": ln.name}
    dots = lone_point_sizes(ln.y, size=4)
    if dots is not None:  # the first value after a start is one point: a dot, not nothing
        trace.update(mode="lines+markers", marker={"size": dots, "color": color})
    return {
        "data": [trace],
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
