"""The overview's promise cards: one per promise, from the evaluation its alert was decided on.

The verdict and its colour come from the promise's alert (alerts/promise_rules.py):
a card can never say "kept" while its alert fires. The value is the SLI over
the promise's short "now" window, named on the card; compliance and the budget
left are over the compliance window. The page's range moves only the sparkline.
"""
from __future__ import annotations

from dataclasses import dataclass

from alerts.promise_rules import PromiseView, promise_views
from core.durations import format_duration
from core.units import format_value
from dashboards import series
from dashboards.context import DashboardRuntime
from promises import sli
from promises.config import Promise

SPARK_POINTS = 60
COLORS = {"kept": "success", "budget spent": "warning", "burning": "warning", "breached": "danger",
          "no data": "secondary", "pending evaluation": "secondary"}


@dataclass
class Card:
    promise: Promise
    view: PromiseView | None
    spark: series.Line

    @property
    def verdict(self) -> str:
        return self.view.verdict if self.view is not None else "pending evaluation"

    @property
    def color(self) -> str:
        return COLORS[self.verdict]

    @property
    def good(self) -> bool | None:
        return {"kept": True, "no data": None, "pending evaluation": None}.get(self.verdict, False)

    def value_text(self) -> str:
        return format_value(self.view.status.value if self.view else None, self.promise.unit)

    def now_text(self) -> str:
        return f"last {format_duration(self.promise.now_window)}"

    def objective_text(self) -> str:
        return self.promise.line_text()

    def detail_text(self) -> str:
        """Compliance, budget and the fastest burn; or why there is nothing to show."""
        if self.view is None:
            return "not evaluated yet"
        s = self.view.status
        if s.compliance is None and s.value is None:
            return s.reason or "no data"
        parts = []
        if s.compliance is not None:
            parts.append(f"{format_value(s.compliance, 'ratio')} over {format_duration(s.window)}")
        if s.budget_left is not None:
            parts.append(f"budget {format_value(max(s.budget_left, 0.0), 'ratio')} left"
                         if s.budget_left >= 0 else "budget overspent")
        fastest = max((b for b in s.burns if b.burn is not None and b.window < s.window),
                      key=lambda b: b.burn or 0.0, default=None)
        if fastest is not None and fastest.burn:
            parts.append(f"burn {fastest.burn:.1f}x ({format_duration(fastest.window)})")
        return " · ".join(parts)


def cards(runtime: DashboardRuntime, start: float, end: float) -> list[Card]:
    promises = runtime.config.promises.active
    views = {v.status.id: v for v in promise_views(runtime.store.engine, [p.id for p in promises])}
    out = []
    for p in promises:
        pairs = sli.series(p.events, p.threshold, runtime.store, start, end, SPARK_POINTS)
        out.append(Card(p, views.get(p.id), series.pairs_line(p.title, list(pairs))))
    return out

