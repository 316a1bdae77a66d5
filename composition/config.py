"""config.yaml -> validated pydantic models, parsed once.

Every problem is reported with file, line and key path, and no traceback::

    config.yaml:12 targets[1].interval: '5 minutes' is not a duration (use 15s, 5m, 1h)

Secrets come from the environment as ``${NAME}``; the substituted values are
remembered (``Config.secret_values``) so logs and pages can mask them.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, Union

import yaml
from pydantic import Field, PrivateAttr, ValidationError, model_validator

from alerts.config import AlertingConfig
from collectors.registry import target_models
from composition import checks
from composition.config_errors import format_error, format_path, other_branch, rule_errors, walk_lines, where
from core.configmodel import ConfigModel
from core.errors import ConfigError
from core.targets import TargetBase
from dashboards.config import DashboardsConfig
from demo.config import DemoConfig
from promises.config import PromisesConfig
from store.config import StoreConfig
from webauth.config import AuthConfig

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class ServerConfig(ConfigModel):
    host: str = Field("127.0.0.1", description="Address to bind. Loopback by default.")
    port: int = Field(8050, ge=1, le=65535, description="Port of the dashboard, /api and /metrics.")
    public_url: str | None = Field(None, description="URL people reach Lookout at; used in alert links.")


def _target_union() -> Any:
    models = tuple(target_models())
    if len(models) == 1:
        return models[0]
    return Annotated[Union[models], Field(discriminator="kind")]  # noqa: UP007 - built at runtime


class Config(ConfigModel):
    server: ServerConfig = Field(default_factory=ServerConfig,
                                 description="Where the dashboard, /api and /metrics listen.")
    store: StoreConfig = Field(default_factory=StoreConfig, description="Where samples live and for how long.")
    targets: list[_target_union()] = Field(default_factory=list)  # type: ignore[valid-type]
    alerting: AlertingConfig = Field(default_factory=AlertingConfig,
                                     description="Alert rules, their evaluation and where notifications go.")
    promises: PromisesConfig = Field(default_factory=PromisesConfig, description=(
        "The shop's promises as service-level objectives: measured, budgeted and alerted on by burn rate."))
    dashboards: DashboardsConfig = Field(default_factory=DashboardsConfig, description=(
        "The shop's business metric names and the panels' resolution."))
    demo: DemoConfig = Field(default_factory=DemoConfig, description=(
        "The embedded default: PostgreSQL, Redis and a demo shop under load, started by Lookout."))
    auth: AuthConfig | None = Field(None, description="Users, API tokens and /metrics credentials; none: open.")

    _base_dir: Path = PrivateAttr(default_factory=Path.cwd)
    _secret_values: frozenset[str] = PrivateAttr(default_factory=frozenset)

    @model_validator(mode="after")
    def _unique_names(self) -> Config:
        seen: set[str] = set()
        for t in self.targets:
            if t.name in seen:
                raise ValueError(f"duplicate target name {t.name!r}")
            seen.add(t.name)
        return self

    @property
    def base_dir(self) -> Path:
        return self._base_dir

    @property
    def secret_values(self) -> frozenset[str]:
        return self._secret_values

    def store_url(self) -> str:
        """The store URL with a relative SQLite path resolved next to the config."""
        url = self.store.url
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
            rel = url[len("sqlite:///"):]
            if rel and rel != ":memory:":
                return "sqlite:///" + str((self._base_dir / rel).resolve())
        return url

    def target(self, name: str) -> TargetBase:
        for t in self.targets:
            if t.name == name:
                return t
        raise KeyError(name)


# -- loading ------------------------------------------------------------------

def load_config(path: str | os.PathLike[str], env: dict[str, str] | None = None, *, check: bool = True) -> Config:
    """The config file, validated; ``check`` also checks what it means (composition/checks.py)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read config: {exc.strerror or exc}"]) from None
    return parse_config(text, name=str(path), base_dir=path.resolve().parent, env=env, check=check)


def parse_config(text: str, *, name: str = "config.yaml", base_dir: Path | None = None,
                 env: dict[str, str] | None = None, check: bool = False) -> Config:
    """``text`` validated by the models; with ``check``, also by meaning (metric names, label
    names, JSON paths, target and family names: composition/checks.py)."""
    env = dict(os.environ) if env is None else env
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f"{name}:{mark.line + 1}" if mark else name
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([f"{at}: invalid YAML: {problem}"]) from None
    if data is None:
        data = {}
    lines: dict[tuple, int] = {}
    problems: list[str] = []
    if node is not None:
        walk_lines(node, (), lines, problems, name)
    if not isinstance(data, dict):
        raise ConfigError([f"{name}:1: the config must be a mapping of sections (server, store, targets)"])

    secrets: set[str] = set()
    data = _substitute(data, (), env, secrets, problems, lines, name)
    problems.extend(_duplicate_targets(data, lines, name))
    try:
        cfg = Config.model_validate(data, context={"from_file": True})
    except ValidationError as exc:
        # Report every mistake at once, but each place only once: a missing
        # ${VAR} or a duplicate name was already said above.
        said = {p.split(" ", 2)[1].rstrip(":") for p in problems if " " in p}
        for e in [e for e in exc.errors() if not other_branch(e, data)] or exc.errors():
            for line in rule_errors(e, data, lines, name, Config) or [format_error(e, data, lines, name, Config)]:
                place = line.split(" ", 2)[1].rstrip(":")
                if place in said or ("(top level)" in line and "duplicate target name" in line):
                    continue
                problems.append(line)
    else:
        if check and not problems:
            problems += checks.problems(cfg, data, lambda p: f"{where(name, lines, p)} {format_path(p)}")
    if problems:
        raise ConfigError(problems)
    cfg._base_dir = base_dir or Path.cwd()
    cfg._secret_values = frozenset(s for s in secrets if s)
    return cfg


def _substitute(value: Any, path: tuple, env: dict, secrets: set, problems: list, lines: dict, name: str) -> Any:
    if isinstance(value, dict):
        return {k: _substitute(v, path + (k,), env, secrets, problems, lines, name) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, path + (i,), env, secrets, problems, lines, name) for i, v in enumerate(value)]
    if isinstance(value, str) and "${" in value:
        def repl(m: re.Match[str]) -> str:
            var = m.group(1)
            if var not in env:
                problems.append(f"{where(name, lines, path)} {format_path(path)}: "
                                f"environment variable {var} is not set")
                return ""
            secrets.add(env[var])
            return env[var]
        return _ENV.sub(repl, value)
    return value


def _duplicate_targets(data: dict, lines: dict, name: str) -> list[str]:
    targets = data.get("targets")
    if not isinstance(targets, list):
        return []
    first: dict[str, int] = {}
    out = []
    for i, t in enumerate(targets):
        if isinstance(t, dict) and isinstance(t.get("name"), str):
            n = t["name"]
            if n in first:
                p = ("targets", i, "name")
                out.append(f"{where(name, lines, p)} {format_path(p)}: duplicate target name {n!r} "
                           f"(first at targets[{first[n]}])")
            else:
                first[n] = i
    return out


# Location parts pydantic adds that are no key of the YAML: a union member's type
# (`Expr`, `list[Expr]`), a validator function (`function-after[...]`).
