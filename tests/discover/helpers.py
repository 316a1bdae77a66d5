"""Discover -> config file -> check-config -> every target's collector, twice."""
from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from collectors.registry import collector_for
from composition.config import Config, load_config
from core.samples import Batch, Sample
from discover.cli import discover
from discover.findings import Findings
from discover.render import render


@dataclass
class Run:
    found: Findings
    text: str
    config: Config
    batches: dict[str, list[Batch]]

    def samples(self, target: str | None = None) -> list[Sample]:
        return [s for name, runs in self.batches.items() if target in (None, name)
                for b in runs for s in (*b.samples, *b.carried)]

    def names(self, target: str | None = None) -> set[str]:
        return {s.name for s in self.samples(target)}

    def last(self, target: str) -> Batch:
        return self.batches[target][-1]


def write_and_load(tmp_path: Path, found: Findings, env: dict[str, str] | None = None) -> tuple[str, Config]:
    text = render(found)
    path = tmp_path / "lookout.yaml"
    path.write_text(text, encoding="utf-8")
    return text, load_config(path, env=env or {})


def discover_and_collect(tmp_path: Path, traffic: Callable[[], None] = lambda: None,
                         env: dict[str, str] | None = None, **given: str) -> Run:
    """Discover, load the written config as check-config does, then run each target's collector
    twice with traffic before and between (counters and quantiles need two polls)."""
    traffic()
    found = discover(**given)
    text, cfg = write_and_load(tmp_path, found, env)
    collectors = [collector_for(t) for t in cfg.targets]
    batches: dict[str, list[Batch]] = {c.target.name: [] for c in collectors}
    try:
        for turn in range(2):
            if turn:
                traffic()
                time.sleep(2)  # a few seconds apart, as a scheduler would poll
                traffic()
            for c in collectors:
                batches[c.target.name].append(c.run())
    finally:
        for c in collectors:
            c.close()
    return Run(found, text, cfg, batches)


def _matches(labels: dict[str, str], match: list) -> bool:
    for m in match:
        value = labels.get(m.name, "")
        ok = {"=": value == m.value, "!=": value != m.value, "=~": re.fullmatch(m.value, value) is not None,
              "!~": re.fullmatch(m.value, value) is None}[m.op]
        if not ok:
            return False
    return True


def missing_claims(run: Run) -> list[str]:
    """Every metric a rule or an enabled promise of the config reads, with its matchers, that no
    sample of the two collections carries."""
    samples = run.samples()
    missing = []
    for rule in run.config.alerting.rules:
        for e in rule.exprs():
            if e.only_if:
                wanted = [(e.only_if, [])]
                if any(s.name == e.only_if and s.value for s in samples):
                    wanted.append((e.metric, e.match))
            else:
                wanted = [(e.metric, e.match)]
            for metric, match in wanted:
                if not any(s.name == metric and _matches(s.labels, match) for s in samples):
                    missing.append(f"rule {rule.name}: {metric} {match or ''}".rstrip())
    for p in run.config.promises.objectives:
        if not p.enabled:
            continue
        sels = []
        if p.events:
            sels += p.events.good + p.events.bad + p.events.total
        if p.threshold:
            sels += p.threshold.numerator + p.threshold.denominator
            sels += [p.threshold.metric] if p.threshold.metric else []
        for sel in sels:
            if not any(s.name == sel.metric and sel.matches(s.labels) for s in samples):
                missing.append(f"promise {p.id}: {sel.metric} {sel.match or ''}".rstrip())
    return missing
