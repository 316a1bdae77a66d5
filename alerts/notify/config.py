"""The ``alerting.notifications`` section: receivers, routes, grouping, retries.

Example::

    notifications:
      receivers:
        - name: oncall-slack
          slack: {webhook_url: "${SLACK_WEBHOOK_URL}"}
        - name: oncall-mail
          email: {to: [oncall@example.com]}
        - name: demo-sink      # stores what Slack and email would get: /demo/notifications
          sink: {}             # each receiver has one channel: a key of channels/registry.py
      smtp: {host: smtp.example.com, port: 587, security: starttls,
             username: lookout, password: "${SMTP_PASSWORD}", from: lookout@example.com}
      routes:
        - match: {severity: critical}
          receivers: [oncall-slack, oncall-mail]
        - match: {team: payments}
          receivers: [oncall-mail]
      default_receivers: [oncall-slack]

Lookout's defaults differ from Alertmanager's on purpose: ``group_wait`` and
``group_interval`` are 0s because a rule's ``for``, ``clear`` and flapping
detection already debounce, and the detection-delay target (one evaluation
interval + 1 s) leaves no room for a 30 s wait. Set them to batch like
Alertmanager does.
"""
from __future__ import annotations

import re

from pydantic import Field, field_validator, model_validator

from alerts.notify.channels.email import SmtpConfig
from alerts.notify.receivers import Receiver
from core.configmodel import ConfigModel
from core.durations import Duration

ALL_LABELS = "..."  # group_by: ["..."] means every label, i.e. one group per alert


class RetryPolicy(ConfigModel):
    max_attempts: int = Field(12, ge=1, description="Dead-letter after this many failed attempts.")
    initial_backoff: Duration = Field(2.0, description="Wait before the second attempt.")
    max_backoff: Duration = Field(600.0, description="Longest wait between attempts.")
    multiplier: float = Field(2.0, ge=1.0, description="Each wait is this many times the previous one.")
    lease: Duration = Field(60.0, description="A row claimed longer than this by a dead dispatcher is retried.")

    def backoff(self, attempts: int) -> float:
        return min(self.max_backoff, self.initial_backoff * self.multiplier ** max(0, attempts - 1))


class Timing(ConfigModel):
    """Grouping and repetition, settable at the top and per route (a route's value wins)."""

    group_by: list[str] | None = Field(
        None, description="Labels whose equal values make one notification group; `[...]` is every label.")
    group_wait: Duration | None = Field(
        None, description="Wait this long after a group's first alert before notifying.")
    group_interval: Duration | None = Field(
        None, description="Wait this long before notifying about changes in a group.")
    repeat_interval: Duration | None = Field(None, description="Re-notify a still-firing group this often.")
    send_resolved: bool | None = Field(None, description="Also notify when an alert resolves.")


class Route(Timing):
    match: dict[str, str] = Field(default_factory=dict, description="Label equality (also `rule`).")
    match_re: dict[str, str] = Field(default_factory=dict, description="Label regex, fully matched.")
    receivers: list[str] = Field(min_length=1, description="Receivers of the alerts this route matches.")
    continue_: bool = Field(False, alias="continue", description="Keep matching later routes.")

    model_config = ConfigModel.model_config | {"populate_by_name": True}

    @field_validator("match_re")
    @classmethod
    def _regexes_compile(cls, v: dict[str, str]) -> dict[str, str]:
        for k, pattern in v.items():
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"match_re.{k}: {exc}") from None
        return v

    def matches(self, labels: dict[str, str]) -> bool:
        return (all(labels.get(k) == v for k, v in self.match.items())
                and all(re.fullmatch(p, labels.get(k, "")) for k, p in self.match_re.items()))


class NotificationsConfig(ConfigModel):
    receivers: list[Receiver] = Field(default_factory=list, description="Where notifications go: one channel each.")
    routes: list[Route] = Field(
        default_factory=list, description="Checked in order; the first match decides (unless it says `continue`).")
    default_receivers: list[str] | None = Field(
        None, description="Where an alert no route matches goes (default: every receiver).")
    smtp: SmtpConfig | None = Field(None, description="The mail server email receivers send through.")
    group_by: list[str] = Field(
        default_factory=lambda: [ALL_LABELS],
        description="Labels whose equal values make one notification group; `[...]` is every label "
                    "(one notification per alert).")
    group_wait: Duration = Field(
        0.0, description="Wait this long after a group's first alert before notifying; 0s because "
                         "`for`, `clear` and flapping already debounce.")
    group_interval: Duration = Field(0.0, description="Wait this long before notifying about changes in a group.")
    repeat_interval: Duration = Field(4 * 3600.0, description="A repeat says 'still firing since ...'.")
    send_resolved: bool = Field(True, description="Also notify when an alert resolves.")
    retry: RetryPolicy = Field(default_factory=RetryPolicy, description="Retries of failed deliveries from the outbox.")
    ack_secret_env: str = Field("LOOKOUT_SECRET_KEY", description="Env var holding the ack-link signing key.")
    ack_link_ttl: Duration = Field(24 * 3600.0, description="Signed ack links expire after this.")

    @model_validator(mode="after")
    def _names_resolve(self) -> NotificationsConfig:
        names = [r.name for r in self.receivers]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"duplicate receiver name(s): {', '.join(sorted(dup))}")
        for i, route in enumerate(self.routes):
            for n in route.receivers:
                if n not in names:
                    raise ValueError(f"routes[{i}].receivers: unknown receiver {n!r}")
        for n in self.default_receivers or []:
            if n not in names:
                raise ValueError(f"default_receivers: unknown receiver {n!r}")
        for r in self.receivers:
            try:
                r.settings.check_config(self)
            except ValueError as exc:
                raise ValueError(f"receiver {r.name!r}: {exc}") from None
        return self

    def receiver(self, name: str) -> Receiver:
        for r in self.receivers:
            if r.name == name:
                return r
        raise KeyError(name)
