"""Command-line switches for the demo's incident scenarios."""
from __future__ import annotations

import sys

import requests

from composition.config import Config
from demo.shop.scenarios import SCENARIOS


def with_scenarios(config: Config, names: list[str]) -> Config:
    """The config with these scenarios switched on at start (``--scenario NAME``)."""
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        raise SystemExit(f"--scenario: unknown {', '.join(unknown)} (one of: {', '.join(SCENARIOS)})")
    demo = config.demo.model_copy(update={"scenarios": sorted({*config.demo.scenarios, *names})})
    new = config.model_copy(update={"demo": demo})
    new._base_dir, new._secret_values = config._base_dir, config._secret_values
    return new


def switch_scenario(config: Config, name: str | None, *, on: bool, host: str | None, port: int | None) -> int:
    """``python app.py scenario NAME [--off]``: switch a scenario on a running Lookout."""
    if not name or name not in SCENARIOS:
        lines = "\n".join(f"  {n}: {d}" for n, d in SCENARIOS.items())
        print(f"scenario: name one of\n{lines}", file=sys.stderr)
        return 1
    url = f"http://{host or config.server.host}:{port or config.server.port}/api/demo/scenarios/{name}"
    try:
        res = requests.post(url, json={"active": on}, timeout=10)
    except requests.RequestException as exc:
        print(f"scenario: Lookout is not reachable at {url}: {exc}", file=sys.stderr)
        return 1
    if res.status_code != 200:
        print(f"scenario: {res.status_code} {res.text.strip()}", file=sys.stderr)
        return 1
    print(f"{name}: {'on' if on else 'off'}")
    return 0
