"""The metrics of ``kind: sql``: per query its status, and each query's own ``metric:``
(labels: the query's columns before the last, known only when it runs)."""
from __future__ import annotations

from typing import Any

from collectors.catalogue import Metric

METRICS: list[Metric] = [
    Metric("lookout_sql_query_up", "gauge", "1 if the business query's last run succeeded, else 0.",
           "sql", "query", ("query",)),
    Metric("lookout_sql_query_duration_seconds", "gauge", "Wall time of the business query's last run.",
           "sql", "query", ("query",)),
]


def from_target(target: Any) -> list[Metric]:
    return [Metric(q.metric, q.kind, q.help, "sql", "business", interval=q.interval or target.interval,
                   open_labels=True, origin=f"target {target.name}, query {q.name}")
            for q in target.queries]
