"""The claims report as Markdown: text tables, and PNG charts when a static renderer exists.

Charts as PNG need kaleido, which Lookout does not depend on: with it
importable and an output file to put them beside, each promise's chart is
written as ``<out>-<promise id>.png`` and linked; otherwise the report is text
and says so in one line.
"""
from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path

from core.durations import format_duration
from core.units import format_value
from report.charts import figure
from report.model import Incident, PromiseReport, Report, budget_text, compliance_text, hour_text, lasted, until, when

# (promise, report, path) -> writes the PNG
PngWriter = Callable[[PromiseReport, Report, Path], None]


def _kaleido_png(p: PromiseReport, report: Report, path: Path) -> None:
    figure(p, report).write_image(str(path), format="png", width=1000, height=300)


def png_renderer() -> PngWriter | None:
    """The static chart renderer, or None when kaleido is not installed."""
    return _kaleido_png if importlib.util.find_spec("kaleido") is not None else None


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(head: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(_cell(c) for c in r) + " |" for r in rows]
    return out


def render(report: Report, out: Path | None = None) -> str:
    """The Markdown text; with ``out`` (the .md file's path) and a renderer, PNG charts beside it."""
    writer = png_renderer()
    lines = [f"# Claims report: last {format_duration(report.since)}", "",
             f"Period: {when(report.start)} to {when(report.end)}. Measured by Lookout from its stored samples "
             "and alert history; compliance and budget are over this period, not the promises' compliance "
             "windows.", ""]
    if writer is None:
        lines += ["Charts: text only (no static chart renderer: install kaleido for PNG charts, "
                  "or use --format html).", ""]
    elif out is None:
        lines += ["Charts: text only (PNG charts are written next to an output file: "
                  "python app.py report --format md --out FILE).", ""]
    if report.history_note:
        lines += [f"**{report.history_note}**", ""]
    lines += ["## Summary", ""]
    lines += _table(["Promise", "Objective", "Compliance", "Budget left", "Worst hour", "Incidents"],
                    [[p.title, format_value(p.objective, "ratio"), compliance_text(p), budget_text(p.budget_left),
                      hour_text(p.worst_hour, p.unit), str(len(p.incidents))] for p in report.promises])
    for p in report.promises:
        lines += ["", *_promise(p, report, writer if out is not None else None, out)]
    lines += ["", "## Other alerts", ""]
    if report.others:
        lines += _incidents(report.others, report, "Value at that severity", with_rule=True)
    else:
        lines.append("No threshold-rule incident in the period.")
    return "\n".join(lines) + "\n"


def _promise(p: PromiseReport, report: Report, writer: PngWriter | None, out: Path | None) -> list[str]:
    lines = [f"## {p.title}", ""]
    if p.description:
        lines += [p.description, ""]
    lines += [f"- SLI: {p.sli}", f"- Objective: {format_value(p.objective, 'ratio')}",
              f"- Compliance: {compliance_text(p)}", f"- Budget left: {budget_text(p.budget_left)}",
              f"- Measured over the period: {format_value(p.value, p.unit)}",
              f"- Worst hour: {hour_text(p.worst_hour, p.unit)}", ""]
    if writer is not None and out is not None and p.series:
        png = out.with_name(f"{out.stem}-{p.id}.png")
        writer(p, report, png)
        lines += [f"![{p.title}: the SLI over the period]({png.name})", ""]
    if p.incidents:
        lines += _incidents(p.incidents, report, "Worst")
    else:
        lines.append("No incident in the period.")
    return lines


def _incidents(incs: list[Incident], report: Report, value_head: str, with_rule: bool = False) -> list[str]:
    head = (["Alert"] if with_rule else []) + ["Severity", "Start (first crossing)", "End", "Duration", value_head]
    rows = [([f"`{i.name}`"] if with_rule else []) + [
        i.severity or "–", when(i.start, seconds=True), until(i), lasted(i, report.end),
        format_value(i.worst, i.unit)] for i in incs]
    return _table(head, rows)
