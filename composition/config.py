"""config.yaml -> validated pydantic models, parsed once.

Every problem is reported with file, line and key path, and no traceback::

    config.yaml:12 targets[1].interval: '5 minutes' is not a duration (use 15s, 5m, 1h)

Secrets come from the environment as ``${NAME}``; the substituted values are
remembered (``Config.secret_values``) so logs and pages can mask them.
"""
from __future__ import annotations

import difflib
import os
import re
from pathlib import Path
from typing import Annotated, Any, Union

import yaml
from pydantic import Field, PrivateAttr, ValidationError, model_validator
from pydantic_core import ErrorDetails

from alerts.config import AlertingConfig, Rule
from collectors.registry import target_models
from composition import checks
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
        where = f"{name}:{mark.line + 1}" if mark else name
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([f"{where}: invalid YAML: {problem}"]) from None
    if data is None:
        data = {}
    lines: dict[tuple, int] = {}
    problems: list[str] = []
    if node is not None:
        _walk_lines(node, (), lines, problems, name)
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
        for e in [e for e in exc.errors() if not _other_branch(e, data)] or exc.errors():
            for line in _rule_errors(e, data, lines, name) or [_format_error(e, data, lines, name)]:
                where = line.split(" ", 2)[1].rstrip(":")
                if where in said or ("(top level)" in line and "duplicate target name" in line):
                    continue
                problems.append(line)
    else:
        if check and not problems:
            problems += checks.problems(cfg, data, lambda p: f"{_where(name, lines, p)} {format_path(p)}")
    if problems:
        raise ConfigError(problems)
    cfg._base_dir = base_dir or Path.cwd()
    cfg._secret_values = frozenset(s for s in secrets if s)
    return cfg


def format_path(path: tuple) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(top level)"


def _walk_lines(node: yaml.Node, path: tuple, lines: dict, problems: list[str], name: str) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            k = key.value
            if k in seen:
                problems.append(f"{name}:{key.start_mark.line + 1} {format_path(path + (k,))}: duplicate key")
            seen.add(k)
            lines[path + (k,)] = key.start_mark.line + 1
            _walk_lines(value, path + (k,), lines, problems, name)
            lines[path + (k,)] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk_lines(item, path + (i,), lines, problems, name)


def _line(lines: dict, path: tuple) -> int | None:
    while path not in lines and path:
        path = path[:-1]
    return lines.get(path)


def _where(name: str, lines: dict, path: tuple) -> str:
    line = _line(lines, path)
    return f"{name}:{line}" if line else name


def _substitute(value: Any, path: tuple, env: dict, secrets: set, problems: list, lines: dict, name: str) -> Any:
    if isinstance(value, dict):
        return {k: _substitute(v, path + (k,), env, secrets, problems, lines, name) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, path + (i,), env, secrets, problems, lines, name) for i, v in enumerate(value)]
    if isinstance(value, str) and "${" in value:
        def repl(m: re.Match[str]) -> str:
            var = m.group(1)
            if var not in env:
                problems.append(f"{_where(name, lines, path)} {format_path(path)}: "
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
                out.append(f"{_where(name, lines, p)} {format_path(p)}: duplicate target name {n!r} "
                           f"(first at targets[{first[n]}])")
            else:
                first[n] = i
    return out


# Location parts pydantic adds that are no key of the YAML: a union member's type
# (`Expr`, `list[Expr]`), a validator function (`function-after[...]`).
_TAG = re.compile(r"^(function-[a-z-]+\[.*\]|[A-Z]\w*|(list|dict|tuple|set)\[.*\]|str|int|float|bool|none)$")


def _data_path(loc: tuple, data: Any) -> tuple:
    """Map a pydantic error location to a path in the YAML data.

    Discriminated unions put the tag into the location
    (``targets.1.postgres.dsn``); drop it so the path reads as written, and so
    for a union member's type (``ratio.numerator.Expr.metric``).
    """
    out: list = []
    cur = data
    for el in loc:
        if isinstance(cur, dict) and el not in cur and cur.get("kind") == el:
            continue
        if isinstance(el, str) and _TAG.match(el) and not (isinstance(cur, dict) and el in cur):
            continue
        out.append(el)
        if isinstance(cur, dict):
            cur = cur.get(el)
        elif isinstance(cur, list) and isinstance(el, int) and el < len(cur):
            cur = cur[el]
        else:
            cur = None
    return tuple(out)


def _other_branch(err: ErrorDetails, data: Any) -> bool:
    """An error of the union member the YAML did not mean: `Expr | list[Expr]` given a mapping
    also fails as a list; that half says nothing to the person who wrote the mapping."""
    cur = data
    for el in err["loc"]:
        if isinstance(el, str) and _TAG.match(el) and not (isinstance(cur, dict) and el in cur):
            if (el.startswith(("list[", "tuple[", "set[")) and not isinstance(cur, list)) or \
                    (el[:1].isupper() and not isinstance(cur, dict)):
                return True
            continue
        if isinstance(cur, dict):
            cur = cur.get(el)
        elif isinstance(cur, list) and isinstance(el, int) and el < len(cur):
            cur = cur[el]
        else:
            cur = None
    return False


class _LocatedRule(Rule):
    """A rule validated with each error at its own key: the rule model's wrapper folds them
    into one message at the rule (to name it); here they keep their place and the rule's
    name is put in front of each message instead."""

    @model_validator(mode="wrap")
    @classmethod
    def _name_the_rule(cls, data: Any, handler: Any) -> Any:
        return handler(data)


def _rule_errors(err: ErrorDetails, data: dict, lines: dict, name: str) -> list[str] | None:
    """A rule's folded error, unfolded: each mistake at the line of its key (a bad `for:` at
    the `for:` line, not the rule's). None when the error is not a rule's."""
    path = _data_path(tuple(err["loc"]), data)
    if err["type"] != "value_error" or len(path) != 3 or path[:2] != ("alerting", "rules"):
        return None
    rules = data.get("alerting", {}).get("rules")
    rule = rules[path[2]] if isinstance(rules, list) and isinstance(path[2], int) else None
    if not isinstance(rule, dict):
        return None
    try:
        _LocatedRule.model_validate(rule, context={"from_file": True})
    except ValidationError as exc:
        label = f"rule {rule.get('name')!r}: " if rule.get("name") else ""
        inner = [e for e in exc.errors() if not _other_branch(e, rule)] or exc.errors()
        out = []
        for e in inner:
            moved: Any = {**e, "loc": path + tuple(e["loc"])}
            where, _, msg = _format_error(moved, data, lines, name).partition(": ")
            out.append(f"{where}: {label}{msg}")
        return out
    return None


def _known_keys() -> set[str]:
    keys: set[str] = set()
    stack: list[type[ConfigModel]] = [Config, *target_models()]
    seen: set[type[ConfigModel]] = set()
    while stack:
        m = stack.pop()
        if m in seen:
            continue
        seen.add(m)
        for fname, f in m.model_fields.items():
            keys.add(fname)
            ann = f.annotation
            if isinstance(ann, type) and issubclass(ann, ConfigModel):
                stack.append(ann)
    return keys


def _format_error(err: ErrorDetails, data: dict, lines: dict, name: str) -> str:
    path = _data_path(tuple(err["loc"]), data)
    msg = err["msg"]
    kind = err["type"]
    if kind == "extra_forbidden":
        key = path[-1] if path else "?"
        close = difflib.get_close_matches(str(key), sorted(_known_keys()), n=1)
        msg = f"unknown key {key!r}" + (f" (did you mean {close[0]!r}?)" if close else "")
    elif kind == "missing":
        msg = "required key is missing"
    elif kind in ("union_tag_not_found", "union_tag_invalid"):
        kinds = ", ".join(sorted(t.model_fields["kind"].default for t in target_models()))
        got = err.get("input", {}).get("kind") if isinstance(err.get("input"), dict) else None
        msg = (f"unknown kind {got!r} (one of: {kinds})" if got is not None
               else f"required key 'kind' is missing (one of: {kinds})")
        if got is not None:
            path = path + ("kind",)
    else:
        msg = _PLAIN.get(kind, msg.removeprefix("Value error, "))
        if kind == "list_type" and path and path[-1] in ("by", "dependents", "labels_by"):
            msg = f"must be a list of names, e.g. `{path[-1]}: [target]`"
        msg = msg.replace("Input should be", "must be").replace("String should match pattern", "must match")
        if "input" in err and not isinstance(err["input"], (dict, list)) and kind not in ("value_error",):
            msg += f" (got {err['input']!r})"
    return f"{_where(name, lines, path)} {format_path(path)}: {msg}"


# pydantic's wording of the common type errors, as a person writing YAML reads them.
_PLAIN = {
    "list_type": "must be a list, e.g. [a, b]",
    "dict_type": "must be a mapping (key: value)",
    "model_type": "must be a mapping (key: value)",
    "model_attributes_type": "must be a mapping (key: value)",
    "string_type": "must be text",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
}
