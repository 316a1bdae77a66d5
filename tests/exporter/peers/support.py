"""The real exporters beside Lookout: start a Debian build, scrape it, compare families.

Each side-by-side test starts the peer on a free port against the same test server as
Lookout's collector, scrapes both, and compares what dashboards and rules depend on: family
names, types, label names and (on an idle server) values. A missing binary fails the test
(scripts/test.sh installs it) instead of skipping it.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families


def binary(name: str) -> str:
    path = shutil.which(name) or (f"/usr/bin/{name}" if os.access(f"/usr/bin/{name}", os.X_OK) else None)
    if path is None:
        pytest.fail(f"{name} is not installed (scripts/test.sh installs it: apt-get install {name})")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running(argv: Sequence[str], port: int, env: Mapping[str, str] | None = None,
            path: str = "/metrics", wait: float = 20.0) -> Iterator[str]:
    """Start a peer exporter; yield its metrics URL once it answers; stop it afterwards."""
    url = f"http://127.0.0.1:{port}{path}"
    proc = subprocess.Popen(list(argv), env={**os.environ, **(env or {})},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + wait
        while True:
            if proc.poll() is not None:
                out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
                pytest.fail(f"{argv[0]} exited with {proc.returncode}: {out[-2000:]}")
            try:
                if requests.get(url, timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"{argv[0]} did not answer on {url} within {wait:.0f} s")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass(frozen=True)
class Family:
    name: str
    type: str
    labels: frozenset[str]
    samples: tuple[tuple[str, tuple[tuple[str, str], ...], float], ...]  # (sample name, labels, value)

    def values(self, **match: str) -> list[float]:
        return [v for _n, lab, v in self.samples if all(dict(lab).get(k) == w for k, w in match.items())]


def families(text: str, drop_labels: Sequence[str] = ()) -> dict[str, Family]:
    """Parsed exposition, keyed by sample name as PromQL sees it: ``x_total`` stays ``x_total``
    and a counter written ``x`` stays ``x``. ``drop_labels`` removes labels one side adds
    (Lookout's ``target``) before label sets are compared.
    """
    # prometheus_client's parser reports a counter's samples as ``x_total`` even where the text
    # says ``x`` (postgres_exporter's counters): key them by the name the text really uses.
    written = {line.split("{", 1)[0].split(" ", 1)[0] for line in text.splitlines()
               if line and not line.startswith("#")}
    out: dict[str, Family] = {}
    for fam in text_string_to_metric_families(text):
        by_name: dict[str, list[tuple[str, tuple[tuple[str, str], ...], float]]] = {}
        for s in fam.samples:
            name = s.name if s.name in written else s.name.removesuffix("_total")
            lab = tuple(sorted((k, v) for k, v in s.labels.items() if k not in drop_labels))
            by_name.setdefault(name, []).append((name, lab, float(s.value)))
        for name, samples in by_name.items():
            labels = frozenset(k for _n, lab, _v in samples for k, _ in lab) - {"le", "quantile"}
            out[name] = Family(name, fam.type, labels, tuple(samples))
    return out


def scrape(url: str, drop_labels: Sequence[str] = ()) -> dict[str, Family]:
    r = requests.get(url, timeout=30, headers={"Accept": "text/plain;version=0.0.4"})
    r.raise_for_status()
    return families(r.text, drop_labels)
