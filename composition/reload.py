"""Reload a running process's config: SIGHUP, ``python app.py reload`` and ``POST /api/reload``.

The file the process was started from is read again and checked exactly as
``check-config`` checks it (``load_config``). A file with mistakes is refused
with every one of them, and the running config stays in effect. A good file is
applied without a restart:

- targets added get a collector and are collected at once; targets removed lose
  their job, their series leave ``/metrics`` and their open alerts are closed;
  a changed target gets a new collector (collected at once). Every other target
  keeps its collector, its schedule, its ``/metrics`` series and its history;
- rules, promises, maintenance, dependencies and flapping take effect at the next
  evaluation; alert state is kept by rule name (alerts/engine.py ``reconfigure``);
  a changed ``notifications:`` section gets a new notifier; a changed
  ``evaluation_interval`` reschedules the evaluation;
- ``dashboards:`` and everything the pages and the API read from the config.

What a process set up at start needs a restart (:data:`RESTART_ONLY`): a change
there is named in the answer and the log, the running value stays, and the rest
of the file is applied. The role (``--role``) is a command-line choice, not a key.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from collectors.base import Collector
from collectors.registry import collector_for
from composition import alerting
from composition.config import Config, load_config
from composition.runtime import Runtime
from core.errors import ConfigError
from core.logs import MaskingFilter
from core.masking import mask

log = logging.getLogger("lookout.reload")

# Sections set up once at start, and why; a reload names a change there and keeps the running value.
RESTART_ONLY: dict[str, str] = {
    "server": "the address is bound and the cookie and link settings are made at start",
    "store": "the store is opened and migrated at start",
    "auth": "the request guard, its users and tokens are set up at start",
    "demo": "the embedded servers start with the process",
}
# Switched while running (--scenario, /api/demo), not a difference between files.
_RUNTIME_STATE = {("demo", "scenarios")}


@dataclass
class ReloadResult:
    applied: bool
    path: str
    errors: list[str] = field(default_factory=list)
    restart_needed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"status": "applied" if self.applied else "refused", "path": self.path, "errors": self.errors,
                "restart_needed": self.restart_needed,
                "targets": {"added": self.added, "removed": self.removed, "changed": self.changed},
                "changes": self.changes}

    def summary(self) -> str:
        if not self.applied:
            return f"reload of {self.path} refused, the running config stays: {len(self.errors)} problem(s)"
        parts = [f"targets {verb}: {', '.join(names)}" for verb, names in
                 (("added", self.added), ("removed", self.removed), ("changed", self.changed)) if names]
        return f"reloaded {self.path}: " + ("; ".join(parts + self.changes) or "nothing changed")


class Reloader:
    """Reloads one process's config; one reload at a time."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._lock = threading.Lock()
        # Called with the config in effect after each applied reload (e.g. the API's error masking).
        self.on_applied: list[Callable[[Config], None]] = []

    def reload(self) -> ReloadResult:
        with self._lock:
            try:
                result = self._reload()
            except Exception as exc:  # a bug here must not kill the SIGHUP thread silently
                log.exception("reload failed")
                result = ReloadResult(False, str(self.runtime.config_path), errors=[
                    mask(f"reload failed: {exc.__class__.__name__}: {exc}", self.runtime.config.secret_values)])
        _log(result)
        return result

    def _reload(self) -> ReloadResult:
        rt = self.runtime
        path = rt.config_path
        if path is None:
            return ReloadResult(False, "?", errors=[
                "this process was not started from a config file it can read again (a web replica under "
                "gunicorn reloads with `kill -HUP <gunicorn master pid>`; docs/own-backend.md)"])
        try:
            new = load_config(path)
        except ConfigError as exc:
            # An error may quote a value from the environment: mask the secrets this process knows.
            return ReloadResult(False, str(path), errors=[mask(p, rt.config.secret_values) for p in exc.problems])
        old = rt.config
        result = ReloadResult(True, str(path), restart_needed=restart_only_changes(old, new))
        config = _in_effect(old, new)
        before = {t.name: t for t in old.targets}
        after = {t.name: t for t in config.targets}
        result.added = sorted(after.keys() - before.keys())
        result.removed = sorted(before.keys() - after.keys())
        result.changed = sorted(n for n in after.keys() & before.keys()
                                if _dump(after[n]) != _dump(before[n]))
        built: dict[str, Collector] = {}
        if rt.scheduler is not None:
            for name in (*result.added, *result.changed):
                try:
                    built[name] = collector_for(after[name])
                except Exception as exc:  # noqa: BLE001 - refused whole: nothing is applied yet
                    result.errors.append(mask(f"{path}: targets: {name}: cannot build its collector: {exc}",
                                              config.secret_values))
            if result.errors:
                for c in built.values():
                    c.close()
                return ReloadResult(False, str(path), errors=result.errors)
        rt.config = config
        rt.pipeline.reconfigure({t.name: dict(t.labels) for t in config.targets}, config.secret_values)
        _mask_logs(config.secret_values)
        intervals = {t.name: float(t.interval) for t in config.targets}
        node = rt.cluster
        if node is not None:  # owns every target a job may still ask about, until the removed jobs are gone
            node.intervals = {**node.intervals, **intervals}
        if rt.scheduler is not None:
            rt.scheduler.apply([built[n] for n in result.added], [built[n] for n in result.changed], result.removed)
        else:
            for name in result.removed:
                rt.pipeline.forget(name)
        if node is not None:
            node.intervals = intervals
            for name in result.removed:
                node.release(name, "removed from the configuration")
        result.changes = alerting.reconfigure(rt, old, config, result.removed)
        if old.dashboards != config.dashboards:
            result.changes.append("dashboards reloaded")
        for hook in self.on_applied:
            hook(config)
        return result


def attach(runtime: Runtime) -> Reloader:
    runtime.reloader = Reloader(runtime)
    return runtime.reloader


def restart_only_changes(old: Config, new: Config) -> list[str]:
    """One line per key of :data:`RESTART_ONLY` that differs between the running config and the file.

    Names the key, never its value (a store URL or a token may hold a secret).
    """
    out = []
    for section, why in RESTART_ONLY.items():
        for key in _differences(_dump(getattr(old, section)), _dump(getattr(new, section)), (section,)):
            out.append(f"{key}: changed in the file, but takes effect only after a restart ({why}); "
                       f"the running value stays")
    return out


def _differences(a: Any, b: Any, path: tuple[str, ...]) -> list[str]:
    if path in _RUNTIME_STATE:
        return []
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in sorted(a.keys() | b.keys()) for d in _differences(a.get(k), b.get(k), (*path, str(k)))]
    return [".".join(path)] if a != b else []


def _dump(model: Any) -> Any:
    return model.model_dump(mode="json", by_alias=True) if model is not None else None


def _in_effect(old: Config, new: Config) -> Config:
    """The file's config with the restart-only sections as they run; every secret of both stays masked."""
    config = new.model_copy(update={section: getattr(old, section) for section in RESTART_ONLY})
    config._base_dir = new.base_dir
    config._secret_values = old.secret_values | new.secret_values
    return config


def _mask_logs(secrets: frozenset[str]) -> None:
    """Log lines mask the new file's secrets too (core.logs installs the filter at start)."""
    for handler in logging.getLogger().handlers:
        for f in handler.filters:
            if isinstance(f, MaskingFilter):
                f.secrets = f.secrets | secrets


def _log(result: ReloadResult) -> None:
    if not result.applied:
        log.error("%s", result.summary())
        for problem in result.errors:
            log.error("reload refused: %s", problem)
        return
    log.info("%s", result.summary())
    for line in result.restart_needed:
        log.warning("reload: %s", line)
