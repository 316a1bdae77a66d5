"""Label matchers (``=``, ``!=``, ``=~``, ``!~``) shared by rules, silences and maintenance.

Regexes are anchored, as in Prometheus: ``job=~"api|web"`` matches ``api``
but not ``api2``. A missing label matches as the empty string.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import cached_property
from typing import Any, Literal

from pydantic import model_validator

from core.configmodel import ConfigModel

_TEXT = re.compile(r'^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"?(.*?)"?\s*$')


class Matcher(ConfigModel):
    name: str
    op: Literal["=", "!=", "=~", "!~"] = "="
    value: str

    @model_validator(mode="after")
    def _regex_compiles(self) -> Matcher:
        if self.op in ("=~", "!~"):
            try:
                re.compile(self.value)
            except re.error as exc:
                raise ValueError(f"invalid regex {self.value!r} for label {self.name!r}: {exc}") from None
        return self

    @cached_property
    def _rx(self) -> re.Pattern[str]:
        return re.compile(f"(?:{self.value})\\Z")

    def matches(self, labels: Mapping[str, str]) -> bool:
        got = labels.get(self.name, "")
        if self.op == "=":
            return got == self.value
        if self.op == "!=":
            return got != self.value
        hit = self._rx.match(got) is not None
        return hit if self.op == "=~" else not hit

    def __str__(self) -> str:
        return f'{self.name}{self.op}"{self.value}"'


def parse_matcher(text: str) -> dict[str, str]:
    m = _TEXT.match(text)
    if not m:
        raise ValueError(f"{text!r} is not a label matcher (label=value, label!=value, label=~re, label!~re)")
    return {"name": m.group(1), "op": m.group(2), "value": m.group(3)}


def parse_matchers(value: Any) -> Any:
    """{label: value} (exact), ["label=~re", ...] or [{name, op, value}, ...] -> list of dicts."""
    if value is None:
        return []
    if isinstance(value, Mapping):
        return [{"name": k, "op": "=", "value": str(v)} for k, v in value.items()]
    if isinstance(value, list):
        return [parse_matcher(v) if isinstance(v, str) else v for v in value]
    return value


def all_match(matchers: Iterable[Matcher], labels: Mapping[str, str]) -> bool:
    return all(m.matches(labels) for m in matchers)


def exact(matchers: Iterable[Matcher]) -> dict[str, str]:
    """The ``=`` matchers, which the store can apply itself."""
    return {m.name: m.value for m in matchers if m.op == "="}
