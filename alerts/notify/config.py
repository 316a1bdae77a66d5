"""The ``alerting.notifications`` section: receivers, routes, grouping, retries.

Example::

    notifications:
      receivers:
        - name: oncall-slack
          slack: {webhook_url: "${SLACK_WEBHOOK_URL}"}
        - name: oncall-mail
          email: {to: [oncall@example.com]}
        - name: demo-sink      # stores what Slack and email would get: /demo/notifications
          sink: {}
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
from typing import Literal

from pydantic import Field, field_validator, model_validator

from core.durations import Duration
from core.configmodel import ConfigModel

ALL_LABELS = "..."  # group_by: ["..."] means every label, i.e. one group per alert


class SlackChannel(ConfigModel):
    webhook_url: str = Field(description="Incoming webhook URL, as `${ENV}`.")
    timeout: Duration = Field(10.0, description="HTTP timeout of one attempt.")
    min_interval: Duration = Field(1.0, description="Slack accepts one message per second per webhook.")


class EmailChannel(ConfigModel):
    to: list[str] = Field(min_length=1, description="Recipients; one SMTP transaction for all of them.")


class AlertmanagerChannel(ConfigModel):
    url: str = Field(description="Base URL of Alertmanager, e.g. http://alertmanager:9093.")
    timeout: Duration = Field(10.0)
    resend_interval: Duration = Field(
        60.0, description="Firing alerts are re-sent this often (Alertmanager resolves alerts it stops hearing about).")


class SinkChannel(ConfigModel):
    """A local sink (the demo's): stores what Slack and email would have received, shown at /demo/notifications."""

    keep: int = Field(500, ge=1, le=100_000, description="Messages kept per sink receiver; older ones are deleted.")
    email_to: list[str] = Field(default_factory=lambda: ["oncall@example.com"],
                                description="Recipients shown in the rendered email (nothing is sent).")


class Receiver(ConfigModel):
    name: str = Field(pattern=r"^[A-Za-z0-9_.:-]+$")
    slack: SlackChannel | None = None
    email: EmailChannel | None = None
    alertmanager: AlertmanagerChannel | None = None
    sink: SinkChannel | None = None

    @model_validator(mode="after")
    def _exactly_one_channel(self) -> Receiver:
        n = sum(x is not None for x in (self.slack, self.email, self.alertmanager, self.sink))
        if n != 1:
            raise ValueError(f"receiver {self.name!r} needs exactly one of slack, email, alertmanager, sink")
        return self

    @property
    def channel(self) -> str:
        return ("slack" if self.slack else "email" if self.email else "alertmanager" if self.alertmanager
                else "sink")


class SmtpConfig(ConfigModel):
    host: str
    port: int = Field(587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = Field(
        "starttls", description="starttls (port 587), tls = implicit TLS (port 465), none (local relay only).")
    username: str | None = None
    password: str | None = Field(None, description="As `${ENV}`.")
    from_: str = Field("lookout@localhost", alias="from")
    ca_file: str | None = Field(None, description="CA bundle to verify the server (default: system CAs).")
    timeout: Duration = 10.0
    message_id_domain: str = Field("lookout.local", description="Right-hand side of Message-IDs.")

    model_config = ConfigModel.model_config | {"populate_by_name": True}


class RetryPolicy(ConfigModel):
    max_attempts: int = Field(12, ge=1, description="Dead-letter after this many failed attempts.")
    initial_backoff: Duration = 2.0
    max_backoff: Duration = 600.0
    multiplier: float = Field(2.0, ge=1.0)
    lease: Duration = Field(60.0, description="A row claimed longer than this by a dead dispatcher is retried.")

    def backoff(self, attempts: int) -> float:
        return min(self.max_backoff, self.initial_backoff * self.multiplier ** max(0, attempts - 1))


class Timing(ConfigModel):
    """Grouping and repetition, settable at the top and per route (a route's value wins)."""

    group_by: list[str] | None = None
    group_wait: Duration | None = None
    group_interval: Duration | None = None
    repeat_interval: Duration | None = None
    send_resolved: bool | None = None


class Route(Timing):
    match: dict[str, str] = Field(default_factory=dict, description="Label equality (also `rule`).")
    match_re: dict[str, str] = Field(default_factory=dict, description="Label regex, fully matched.")
    receivers: list[str] = Field(min_length=1)
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
    receivers: list[Receiver] = Field(default_factory=list)
    routes: list[Route] = Field(default_factory=list)
    default_receivers: list[str] | None = Field(
        None, description="Where an alert no route matches goes (default: every receiver).")
    smtp: SmtpConfig | None = None
    group_by: list[str] = Field(default_factory=lambda: [ALL_LABELS])
    group_wait: Duration = 0.0
    group_interval: Duration = 0.0
    repeat_interval: Duration = Field(4 * 3600.0, description="A repeat says 'still firing since ...'.")
    send_resolved: bool = True
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
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
        if any(r.email for r in self.receivers) and self.smtp is None:
            raise ValueError("an email receiver needs the smtp section")
        return self

    def receiver(self, name: str) -> Receiver:
        for r in self.receivers:
            if r.name == name:
                return r
        raise KeyError(name)
