"""What a valid config means: checks the models cannot make alone.

The models check the shape of each section; these check what the sections say about one
another and about the metrics Lookout produces, after the models have accepted the file:

- rule (``alerting.rules``: expr, ratio numerator/denominator, ``only_if``) and promise
  (``promises.objectives``) metric names against the metric catalogue, with did-you-mean;
  their label names (``match:``, ``by:``) against the labels of the metric;
- JSON paths (pool ``fields`` read from a JSON ``url``; an http probe's ``health`` mapping
  and ``expect_json.path``) parse;
- ``alerting.dependencies`` name targets that exist;
- a postgres target's ``intervals:`` name families that exist.

A metric the catalogue does not know is not an error when the config can produce it: a SQL
query's ``metric:``, or a series an application scrape re-exports. Names in Lookout's own
namespaces (``lookout_``, ``pg_``, ``redis_``, ``pgbouncer_``) must be in the catalogue.
Each problem is reported at the line of the key at fault, as ``file:line path: message``.
"""
from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from collectors import jsonpath
from collectors.catalogue import ADDED_LABELS, Catalogue, Metric
from collectors.postgres.families import NAMES as PG_FAMILIES

if TYPE_CHECKING:
    from composition.config import Config

Locate = Callable[[tuple], str]  # a path in the YAML -> "file:line path"
OWN_PREFIXES = ("lookout_", "pg_", "redis_", "pgbouncer_")
_HINT = "`python app.py metrics` lists every name"


def problems(cfg: Config, data: dict[str, Any], locate: Locate) -> list[str]:
    """Every meaning problem of a config the models accepted; ``data`` is the YAML as written."""
    catalogue = Catalogue(cfg.targets)
    target_labels = {k for t in cfg.targets for k in t.labels}
    names = [t.name for t in cfg.targets]
    out: list[str] = []
    out += _rules(_get(data, "alerting", "rules"), catalogue, target_labels, locate)
    out += _promises(_get(data, "promises", "objectives"), catalogue, target_labels, locate)
    out += _dependencies(_get(data, "alerting", "dependencies"), names, locate)
    for i, t in enumerate(_list(data.get("targets"))):
        if isinstance(t, dict):
            out += _target(t, ("targets", i), locate)
    return out


# -- metrics and labels ---------------------------------------------------------------
def known(catalogue: Catalogue, name: str) -> Metric | None:
    """The catalogue's entry for ``name``, or None when nothing in this config can produce it."""
    m = catalogue.lookup(name)
    if m is None or not (m.is_pattern and m.origin):
        return m
    own = next((p for p in OWN_PREFIXES if name.startswith(p)), None)
    literal = m.name.split("<", 1)[0]
    # An unfiltered scrape could re-export anything, but not a misspelt Lookout or exporter name.
    return None if own and not literal.startswith(own) else m


def _metric(name: Any, path: tuple, catalogue: Catalogue, locate: Locate) -> tuple[list[str], Metric | None]:
    if not isinstance(name, str):
        return [], None
    m = known(catalogue, name)
    if m is not None:
        return [], m
    close = catalogue.suggest(name)
    hint = f" (did you mean {close[0]!r}?)" if close else f" ({_HINT})"
    return [f"{locate(path)}: unknown metric {name!r}{hint}; no target of this config produces it"], None


def _labels(m: Metric | None, given: Iterator[tuple[str, tuple]], target_labels: set[str],
            locate: Locate) -> list[str]:
    if m is None or m.open_labels:
        return []
    allowed = set(m.labels) | set(ADDED_LABELS) | target_labels
    out = []
    for label, path in given:
        if label not in allowed:
            close = difflib.get_close_matches(label, sorted(allowed), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            out.append(f"{locate(path)}: {m.name!r} has no label {label!r} ({hint}its labels: "
                       f"{', '.join(sorted(allowed))})")
    return out


def _match_labels(match: Any, path: tuple) -> Iterator[tuple[str, tuple]]:
    if isinstance(match, dict):
        for k in match:
            yield str(k), path + (k,)
    elif isinstance(match, list):
        for j, item in enumerate(match):
            if isinstance(item, str):
                label = item.split("=", 1)[0].rstrip("!~ ").strip()
                yield label, path + (j,)
            elif isinstance(item, dict) and isinstance(item.get("name"), str):
                yield item["name"], path + (j, "name")


def _expr(expr: Any, path: tuple, catalogue: Catalogue, target_labels: set[str], locate: Locate) -> list[str]:
    if not isinstance(expr, dict):
        return []
    out, m = _metric(expr.get("metric"), path + ("metric",), catalogue, locate)
    out += _labels(m, _match_labels(expr.get("match"), path + ("match",)), target_labels, locate)
    by = expr.get("by")
    if isinstance(by, list):
        out += _labels(m, ((str(b), path + ("by", j)) for j, b in enumerate(by)), target_labels, locate)
    if expr.get("only_if") is not None:
        out += _metric(expr["only_if"], path + ("only_if",), catalogue, locate)[0]
    return out


def _rules(rules: Any, catalogue: Catalogue, target_labels: set[str], locate: Locate) -> list[str]:
    out: list[str] = []
    for i, rule in enumerate(_list(rules)):
        if not isinstance(rule, dict):
            continue
        base = ("alerting", "rules", i)
        out += _expr(rule.get("expr"), base + ("expr",), catalogue, target_labels, locate)
        ratio = rule.get("ratio")
        for side in ("numerator", "denominator"):
            part = ratio.get(side) if isinstance(ratio, dict) else None
            parts = list(enumerate(part)) if isinstance(part, list) else [(None, part)]
            for j, e in parts:
                p = base + ("ratio", side) + (() if j is None else (j,))
                out += _expr(e, p, catalogue, target_labels, locate)
    return out


def _promises(objectives: Any, catalogue: Catalogue, target_labels: set[str], locate: Locate) -> list[str]:
    """The selectors the user wrote (a shipped promise's own metrics are not the user's to fix)."""
    out: list[str] = []
    for i, p in enumerate(_list(objectives)):
        if not isinstance(p, dict) or p.get("enabled") is False:
            continue
        base = ("promises", "objectives", i)
        sels: list[tuple[Any, tuple]] = []
        for section, keys in (("events", ("good", "bad", "total")), ("threshold", ("numerator", "denominator"))):
            sec = p.get(section)
            if isinstance(sec, dict):
                for key in keys:
                    sels += [(s, base + (section, key, j)) for j, s in enumerate(_list(sec.get(key)))]
        threshold = p.get("threshold")
        if isinstance(threshold, dict) and threshold.get("metric") is not None:
            sels.append((threshold["metric"], base + ("threshold", "metric")))
        for sel, path in sels:
            if isinstance(sel, dict):
                errs, m = _metric(sel.get("metric"), path + ("metric",), catalogue, locate)
                errs += _labels(m, _match_labels(sel.get("match"), path + ("match",)), target_labels, locate)
                out += errs
    return out


# -- targets --------------------------------------------------------------------------
def _dependencies(deps: Any, names: list[str], locate: Locate) -> list[str]:
    out: list[str] = []
    for i, d in enumerate(_list(deps)):
        if not isinstance(d, dict):
            continue
        base: tuple = ("alerting", "dependencies", i)
        refs: list[tuple[Any, tuple]] = [(d.get("target"), base + ("target",))]
        refs += [(n, base + ("dependents", j)) for j, n in enumerate(_list(d.get("dependents")))]
        for name, path in refs:
            if isinstance(name, str) and name not in names:
                close = difflib.get_close_matches(name, names, n=1)
                hint = f"did you mean {close[0]!r}?" if close else f"targets: {', '.join(names) or 'none'}"
                out.append(f"{locate(path)}: no target is named {name!r} ({hint})")
    return out


def _target(t: dict[str, Any], path: tuple, locate: Locate) -> list[str]:
    kind = t.get("kind")
    if kind == "postgres" and isinstance(t.get("intervals"), dict):
        out = []
        for fam in t["intervals"]:
            if fam not in PG_FAMILIES:
                close = difflib.get_close_matches(str(fam), PG_FAMILIES, n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                out.append(f"{locate(path + ('intervals', fam))}: unknown family {fam!r} ({hint}families: "
                           f"{', '.join(PG_FAMILIES)})")
        return out
    if kind == "pool":
        return [err for j, app in enumerate(_list(t.get("apps"))) if isinstance(app, dict) and app.get("url")
                for role, p in (app.get("fields") or {}).items()
                if (err := _path(p, path + ("apps", j, "fields", role), locate))]
    if kind == "http":
        probes = _list(t.get("probes")) if "probes" in t else [t]
        out = []
        for j, probe in enumerate(probes):
            if not isinstance(probe, dict):
                continue
            ppath = path + ("probes", j) if "probes" in t else path
            health = probe.get("health")
            if isinstance(health, dict):
                out += [err for key in ("dependencies", "name", "status", "latency", "overall")
                        if (err := _path(health.get(key), ppath + ("health", key), locate))]
            expect = probe.get("expect_json")
            if isinstance(expect, dict) and (err := _path(expect.get("path"), ppath + ("expect_json", "path"), locate)):
                out.append(err)
        return out
    return []


def _path(text: Any, path: tuple, locate: Locate) -> str | None:
    if not isinstance(text, str):
        return None
    try:
        jsonpath.parse(text)
    except jsonpath.PathError as exc:
        return f"{locate(path)}: {exc}"
    return None


def _get(data: Any, *keys: str) -> Any:
    for k in keys:
        data = data.get(k) if isinstance(data, dict) else None
    return data


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
