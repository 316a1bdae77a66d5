"""The claims report as one self-contained HTML file: it opens offline, years later.

plotly.js is inlined once (about 4.8 MB); nothing is fetched from anywhere,
no font, no stylesheet, no script.
"""
from __future__ import annotations

import functools
from html import escape
from typing import Any

import plotly.io as pio
import plotly.offline

from core.durations import format_duration
from core.units import format_value
from report.charts import figure
from report.model import Incident, PromiseReport, Report, budget_text, compliance_text, hour_text, lasted, until, when

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:72rem;margin:1.5rem auto;padding:0 1rem;
color:#1d2125}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.25rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.6rem 0;font-size:.9rem}th,td{border:1px solid #ddd;padding:.25rem .5rem;
text-align:left}th{background:#f3f4f6}.kept{color:#146c2e}.missed{color:#b00020}.muted{color:#666}
dl{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem}dt{font-weight:600}dd{margin:0}
.chart{height:300px}
"""


@functools.cache
def plotly_js() -> str:
    return plotly.offline.get_plotlyjs()


def render(report: Report) -> str:
    period = f"{when(report.start)} to {when(report.end)}"
    parts = [
        "<!doctype html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Lookout claims report: last {escape(format_duration(report.since))}</title>",
        f"<style>{CSS}</style>", f'<script type="text/javascript">{plotly_js()}</script>', "</head><body>",
        f"<h1>Claims report: last {escape(format_duration(report.since))}</h1>",
        f'<p class="muted">{escape(period)}. Measured by Lookout from its stored samples and alert history; '
        "compliance and budget are over this period, not the promises' compliance windows.</p>",
    ]
    if report.history_note:
        parts.append(f'<p class="missed">{escape(report.history_note)}</p>')
    parts.append(_summary(report))
    parts += [_promise(p, report) for p in report.promises]
    parts.append(_others(report))
    parts.append("</body></html>")
    return "\n".join(parts)


def _table(head: list[str], rows: list[list[str]], cls: str = "") -> str:
    """Cells are HTML already (escaped by the caller)."""
    th = "".join(f"<th>{h}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table class="{cls}"><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>'


def _summary(report: Report) -> str:
    rows = [[f'<a href="#{escape(p.id)}">{escape(p.title)}</a>', format_value(p.objective, "ratio"),
             f'<span class="{p.verdict}">{escape(compliance_text(p))}</span>', escape(budget_text(p.budget_left)),
             escape(hour_text(p.worst_hour, p.unit)), str(len(p.incidents))] for p in report.promises]
    head = ["Promise", "Objective", "Compliance", "Budget left", "Worst hour", "Incidents"]
    return "<h2>Summary</h2>" + _table(head, rows, "summary")


def _promise(p: PromiseReport, report: Report) -> str:
    facts = [("SLI", p.sli), ("Objective", format_value(p.objective, "ratio")),
             ("Compliance", compliance_text(p)), ("Budget left", budget_text(p.budget_left)),
             ("Measured over the period", format_value(p.value, p.unit)),
             ("Worst hour", hour_text(p.worst_hour, p.unit))]
    dl = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in facts)
    out = [f'<section id="{escape(p.id)}"><h2>{escape(p.title)}</h2>']
    if p.description:
        out.append(f"<p>{escape(p.description)}</p>")
    out.append(f"<dl>{dl}</dl>")
    out.append(_chart(p, report))
    if p.incidents:
        out.append(_incidents(p.incidents, report, "Worst"))
    else:
        out.append('<p class="muted">No incident in the period.</p>')
    out.append("</section>")
    return "\n".join(out)


def _chart(p: PromiseReport, report: Report) -> str:
    if not p.series:
        return f'<p class="muted">No chart: {escape(p.reason or "no data in the period")}.</p>'
    config: dict[str, Any] = {"displaylogo": False, "responsive": True}
    div: str = pio.to_html(figure(p, report), include_plotlyjs=False, full_html=False, div_id=f"chart-{p.id}",
                           config=config, default_height="300px")
    return f'<div class="chart">{div}</div>'


def _incidents(incs: list[Incident], report: Report, value_head: str, with_rule: bool = False) -> str:
    rows = [([escape(i.name)] if with_rule else []) + [
        escape(i.severity or "–"), escape(when(i.start, seconds=True)), escape(until(i)),
        escape(lasted(i, report.end)), escape(format_value(i.worst, i.unit))] for i in incs]
    head = (["Alert"] if with_rule else []) + ["Severity", "Start (first crossing)", "End", "Duration", value_head]
    return _table(head, rows, "incidents")


def _others(report: Report) -> str:
    if not report.others:
        return '<h2>Other alerts</h2><p class="muted">No threshold-rule incident in the period.</p>'
    return "<h2>Other alerts</h2>" + _incidents(report.others, report, "Value at that severity", with_rule=True)
