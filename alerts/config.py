"""The ``alerting:`` section of config.yaml as validated models.

A rule selects series, reduces each over a window, compares the result with
a warning and a critical threshold and waits ``for`` before firing::

    - name: pg_query_mean_time
      expr: {metric: lookout_pg_statement_mean_seconds, agg: avg, window: 5m}
      op: ">"
      warning: 0.1
      critical: 0.5
      clear: {warning: 0.08}
      for: 2m
      labels: {team: db}
      annotations:
        summary: "Query mean time {value:.3f}s on {labels[target]}"

A malformed rule is reported with its name and the key at fault.
"""
from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field, ValidationError, field_validator, model_validator

from alerts.items import ItemsSpec
from alerts.matchers import Matcher, parse_matchers
from alerts.notify.config import NotificationsConfig
from alerts.templates import check as check_template
from alerts.templates import uses as template_uses
from core.configmodel import ConfigModel
from core.durations import Duration
from core.units import Unit, unit_for_metric

_RULE_NAME = r"^[A-Za-z][A-Za-z0-9_.:-]*$"
Agg = Literal["last", "avg", "min", "max", "p95", "rate", "increase", "delta"]
Op = Literal[">", ">=", "<", "<="]
Severity = Literal["warning", "critical"]
SEVERITIES: tuple[str, ...] = ("warning", "critical")


class Expr(ConfigModel):
    """One metric reduced over a window, per series (or summed ``by`` labels)."""

    metric: str = Field(pattern=r"^[a-zA-Z_:][a-zA-Z0-9_:]*$", description="Metric name.")
    match: list[Matcher] = Field(default_factory=list,
                                 description='Label matchers: {label: value} or ["label=~regex", ...].')
    agg: Agg = Field("last", description="last, avg, min, max, p95, rate, increase (counters) or delta.")
    window: Duration = Field(300.0, description=(
        "Look back this far. No data only when the series' newest sample is older than this and than "
        "three intervals of its target."))
    by: list[str] | None = Field(None, description="Sum the reduced values of series sharing these labels.")
    # Startup and gaps (alerts/rules.py): too little evidence keeps the alert's state, so it cannot go pending.
    min_coverage: float = Field(0.5, ge=0, le=1, description=(
        "Enough samples: an aggregation other than `last` is undefined (the alert keeps its state, so at start "
        "it cannot go pending) until the series' samples in the window reach back this share of it: 0.5 of a "
        "2m window is one minute of samples. A counter (rate, increase) counts only its samples since its "
        "newest reset, so a restarted server's first delta is not read as the window's."))
    min_samples: int = Field(1, ge=1, description=(
        "Enough samples: and at least this many in the window (rate, increase and delta need 2 anyway)."))
    only_if: str | None = Field(None, pattern=r"^[a-zA-Z_:][a-zA-Z0-9_:]*$", description=(
        "A metric of the same target: the expression's series count only where its newest sample is not 0, "
        "and elsewhere there is no alert instance at all (`pg_replication_lag_seconds` with "
        "`only_if: pg_replication_is_replica`: a primary has no replica lag alert)."))
    absent: Literal["no_data", "zero"] = Field("no_data", description=(
        "With `by`: a series of a group that stops reporting while others of the group go on. no_data: the "
        "group is no data (stale). zero: it counts as 0 (a state with no sessions left, a pool with no waiting "
        "clients); the group is no data only once all its series stopped."))

    @field_validator("match", mode="before")
    @classmethod
    def _matchers(cls, v: Any) -> Any:
        return parse_matchers(v)

    @model_validator(mode="after")
    def _window_positive(self) -> Expr:
        if self.window <= 0:
            raise ValueError("window must be positive")
        if self.absent == "zero" and self.by is None:
            raise ValueError("absent: zero sums a family `by` labels: give `by` (for one series use the rule's "
                             "no_data)")
        return self


class Ratio(ConfigModel):
    """numerator / denominator; a list on either side is summed (hits / (hits + misses))."""

    numerator: Expr | list[Expr]
    denominator: Expr | list[Expr]
    min_denominator: float = Field(
        0.0, ge=0, description="Below this denominator the ratio is undefined and the alert keeps its state: "
                               "2 failures of 10 payments at night is not an outage.")

    def parts(self) -> tuple[list[Expr], list[Expr]]:
        def as_list(x: Expr | list[Expr]) -> list[Expr]:
            return x if isinstance(x, list) else [x]
        return as_list(self.numerator), as_list(self.denominator)


class Clear(ConfigModel):
    """Hysteresis: a firing level ends only once the value is past these (default: the threshold)."""

    warning: float | None = Field(None, description="A warning ends once the value is past this.")
    critical: float | None = Field(None, description="A critical level ends once the value is past this.")


class Rule(ConfigModel):
    name: str = Field(pattern=_RULE_NAME, description="Unique; becomes the `alertname` label.")
    expr: Expr | None = None
    ratio: Ratio | None = None
    op: Op = Field(">", description="How the value is compared with `warning` and `critical`: `>` fires above them.")
    warning: float | None = Field(None, description="Warning level: fires when `value op warning` holds.")
    critical: float | None = Field(None, description="Critical level: fires when `value op critical` holds.")
    clear: Clear = Field(default_factory=Clear, description="A number is the warning clear level.")
    for_: Duration = Field(0.0, alias="for", description="Pending this long before firing.")
    keep_firing_for: Duration = Field(0.0, description="Stay firing this long after the value cleared.")
    no_data: Literal["stale", "alerting", "ok", "keep_state"] = Field(
        "stale", description="stale (default): a stale-data alert naming the series; never a silent resolve.")
    labels: dict[str, str] = Field(default_factory=dict, description=(
        "Added to the alert's labels, for routes and silences; `severity` is set from the level."))
    annotations: dict[str, str] = Field(default_factory=dict,
                                        description="summary, description, runbook_url; {labels[x]}, {value}, "
                                                    "{warning}, {critical}, {op}, {severity}, {rule}, {items}.")
    items: ItemsSpec | None = Field(None, description=(
        "What `{items}` lists: the first `limit` items of a collector document for the alert's target (and "
        "database), e.g. {document: pg_index_audit, kind: duplicate, limit: 5} names each duplicate index "
        "with its table, size and scans (docs/alerting.md)."))
    unit: Unit | None = Field(None, description=(
        "How values and thresholds read in messages (`{value}` in a template): ratio, seconds, bytes, count, "
        "eur, usd or none. Default: what the metric's name declares (`_ratio`, `_seconds`, `_bytes`, `_total`); "
        "for a ratio rule `ratio`, or the numerator's unit when it is seconds, bytes or money over a count "
        "(seconds per call)."))

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("clear", mode="before")
    @classmethod
    def _clear_number(cls, v: Any) -> Any:
        return {"warning": v} if isinstance(v, (int, float)) and not isinstance(v, bool) else v

    @model_validator(mode="after")
    def _consistent(self) -> Rule:
        if (self.expr is None) == (self.ratio is None):
            raise ValueError("give exactly one of expr or ratio")
        if self.warning is None and self.critical is None:
            raise ValueError("give a warning or a critical threshold (or both)")
        upward = self.op in (">", ">=")
        if self.warning is not None and self.critical is not None:
            if (self.critical < self.warning) if upward else (self.critical > self.warning):
                raise ValueError(f"critical ({self.critical:g}) is less severe than warning ({self.warning:g}) "
                                 f"for op {self.op!r}")
        for sev in SEVERITIES:
            c, t = getattr(self.clear, sev), getattr(self, sev)
            if c is not None and t is not None and ((c > t) if upward else (c < t)):
                raise ValueError(f"clear.{sev} ({c:g}) must be on the good side of {sev} ({t:g})")
        for key, text in self.annotations.items():
            try:
                check_template(text)
            except ValueError as exc:
                raise ValueError(f"annotations.{key}: {exc}") from None
            if self.items is None and template_uses(text, "items"):
                raise ValueError(f"annotations.{key}: {{items}} needs the rule's `items:` "
                                 "(e.g. items: {document: pg_index_audit, kind: duplicate})")
        if "severity" in self.labels:
            raise ValueError("labels.severity is set per level from warning/critical; do not set it")
        return self

    @model_validator(mode="wrap")
    @classmethod
    def _name_the_rule(cls, data: Any, handler: Any) -> Rule:
        # pydantic locates errors by list index; people look rules up by name.
        try:
            return handler(data)
        except ValidationError as exc:
            name = data.get("name") if isinstance(data, dict) else None
            if not name:
                raise
            parts = []
            for e in exc.errors():
                key = ".".join(str(p) for p in e["loc"] if not str(p).startswith("function-"))
                msg = e["msg"].removeprefix("Value error, ")
                parts.append(f"{key}: {msg}" if key else msg)
            raise ValueError(f"rule {name!r}: " + "; ".join(parts)) from None

    def exprs(self) -> list[Expr]:
        if self.expr is not None:
            return [self.expr]
        assert self.ratio is not None
        num, den = self.ratio.parts()
        return num + den

    def metrics(self) -> set[str]:
        return {e.metric for e in self.exprs()}

    def value_unit(self) -> Unit:
        """``unit``, else the unit the rule's metrics declare (see the field's description)."""
        if self.unit is not None:
            return self.unit
        if self.expr is not None:
            return unit_for_metric(self.expr.metric)
        assert self.ratio is not None
        num, den = ({unit_for_metric(e.metric) for e in side} for side in self.ratio.parts())
        # seconds_total / calls_total is a time per call, not a share
        if len(num) == 1 and not num & {"ratio", "count", "none"} and den <= {"count", "none"}:
            return num.pop()
        return "ratio"

    def thresholds(self) -> dict[str, Any]:
        return {"op": self.op, "warning": self.warning, "critical": self.critical,
                "clear": {k: v for k, v in self.clear.model_dump().items() if v is not None}}


class Flapping(ConfigModel):
    transitions: int = Field(6, ge=2, description="More notifiable changes than this in `window` is flapping.")
    window: Duration = Field(1800.0, description="The span in which `transitions` are counted.")
    settle: Duration = Field(600.0, description="Flapping ends after this long without a change.")


class Dependency(ConfigModel):
    target: str = Field(description="When this target is down (lookout_target_up == 0) ...")
    dependents: list[str] = Field(default_factory=list,
                                  description="... alerts on these targets are suppressed too (its own always are).")


class MaintenanceWindow(ConfigModel):
    name: str = Field(description="Shown as the reason of the mute.")
    match: list[Matcher] = Field(default_factory=list, description="Alerts it mutes (empty: all).")
    weekdays: list[str] = Field(default_factory=list, description="mon..sun; empty means every day.")
    start: str | None = Field(None, description="HH:MM local time; with end, a daily range (may cross midnight).")
    end: str | None = Field(None, description="HH:MM local time the daily range ends.")
    cron: str | None = Field(None, description="'min hour dom month dow' start times, with duration.")
    duration: Duration | None = Field(None, description="How long a cron window lasts from each start (at most 7d).")
    timezone: str = Field("UTC", description="IANA time zone of start, end and cron, e.g. `Europe/Berlin`.")

    @field_validator("match", mode="before")
    @classmethod
    def _matchers(cls, v: Any) -> Any:
        return parse_matchers(v)

    @model_validator(mode="after")
    def _shape(self) -> MaintenanceWindow:
        from alerts.maintenance import check_window
        check_window(self)
        return self


class AlertingConfig(ConfigModel):
    evaluation_interval: Duration = Field(15.0, description="How often every rule is evaluated.")
    rules: list[Rule] = Field(default_factory=list, description=(
        "Alert rules. Removing (or renaming) a rule resolves its open alerts on the next full evaluation: "
        "one RESOLVED notification to the receivers that heard them fire, then no more repeats."))
    flapping: Flapping = Field(default_factory=Flapping, description=(
        "An alert that changes state too often is shown as flapping and its notifications are held until it settles."))
    maintenance: list[MaintenanceWindow] = Field(default_factory=list, description=(
        "Recurring windows that mute notifications of the alerts they match; evaluation and history go on."))
    dependencies: list[Dependency] = Field(default_factory=list, description=(
        "A target that is down mutes the alerts of the targets that depend on it."))
    unknown_metric_grace: Duration = Field(
        120.0, description="After this long running, a rule whose metric the store lacks is reported.")
    history_retention: Duration = Field(
        90 * 86400.0, description="Keep alert history this long: state changes, routed events, sent and "
                                  "dead-lettered notifications, expired silences, resolved alerts. Pending "
                                  "notifications and open alerts stay whatever their age.")
    notifications: NotificationsConfig = Field(default_factory=NotificationsConfig, description=(
        "Receivers (Slack, email, Alertmanager, sink), routes, grouping and retries."))

    @field_validator("history_retention")
    @classmethod
    def _retention_positive(cls, v: float) -> float:
        if v <= 0:
            raise ValueError("must be positive")
        return v

    @model_validator(mode="after")
    def _unique_rules(self) -> AlertingConfig:
        seen: set[str] = set()
        for i, r in enumerate(self.rules):
            if r.name in seen:
                raise ValueError(f"rules[{i}]: duplicate rule name {r.name!r}")
            seen.add(r.name)
        if self.evaluation_interval <= 0:
            raise ValueError("evaluation_interval must be positive")
        return self

    def rule(self, name: str) -> Rule:
        for r in self.rules:
            if r.name == name:
                return r
        raise KeyError(name)

