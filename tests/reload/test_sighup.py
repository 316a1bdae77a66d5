"""`python app.py` as run for real: SIGHUP and `python app.py reload` reload its config file."""
from __future__ import annotations

import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.reload.support import CountingApp, http_target, wait_for
from tests.support import free_port

ROOT = Path(__file__).resolve().parents[2]
SELF = "  - {name: self, kind: process, interval: 1s}\n"


class Running:
    """app.py in a subprocess; its stderr lines collected as they come."""

    def __init__(self, config: Path) -> None:
        self.config = config
        self.port = free_port()
        self.proc = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--config", str(config),
                                      "--port", str(self.port)], cwd=ROOT, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))

    def metrics(self) -> str:
        try:
            return requests.get(f"http://127.0.0.1:{self.port}/metrics", timeout=5).text
        except requests.RequestException:
            return ""

    def logged(self, text: str) -> list[str]:
        return [line for line in list(self.lines) if text in line]

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(ROOT / "app.py"), "reload", "--config", str(self.config),
                               "--port", str(self.port), *args], cwd=ROOT, capture_output=True, text=True,
                              timeout=60)

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=30)
        self.reader.join(5)
        return rc


@pytest.fixture
def app() -> Iterator[CountingApp]:
    a = CountingApp()
    yield a
    a.stop()


def write(path: Path, targets: str) -> None:
    path.write_text("store: {url: 'sqlite:///data/lookout.db'}\ntargets:\n" + targets)


def up(name: str, kind: str) -> str:
    return f'lookout_target_up{{target="{name}",kind="{kind}"}} 1'


def test_sighup_and_the_reload_command_reload_a_running_lookout(tmp_path, app):
    config = tmp_path / "config.yaml"
    write(config, SELF)
    lookout = Running(config)
    try:
        wait_for(lambda: up("self", "process") in lookout.metrics(), "Lookout up and collecting")

        # SIGHUP with a target added: it is collected.
        write(config, SELF + http_target("api", app))
        lookout.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: up("api", "http") in lookout.metrics(), "the added target in /metrics")
        wait_for(lambda: lookout.logged("targets added: api"), "the reload logged")

        # SIGHUP with a bad file: refused and logged, the running config stays.
        write(config, SELF + http_target("api", app).replace("interval", "intervall"))
        lookout.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: lookout.logged("reload refused:"), "the refusal logged")
        assert lookout.logged("unknown key 'intervall'")
        hits = app.hits
        wait_for(lambda: app.hits >= hits + 2, "the target still collected")
        assert up("api", "http") in lookout.metrics()

        # The reload command with a bad file: exit 1 with the problem, nothing sent.
        bad = lookout.cli()
        assert bad.returncode == 1 and "unknown key 'intervall'" in bad.stderr

        # The reload command with the target removed: applied, and it leaves /metrics.
        write(config, SELF)
        good = lookout.cli()
        assert good.returncode == 0, good.stderr
        assert "targets removed: api" in good.stdout
        assert 'target="api"' not in lookout.metrics()
        assert up("self", "process") in lookout.metrics()
    finally:
        rc = lookout.stop()
    assert rc == 0, "\n".join(lookout.lines[-20:])
    assert not lookout.logged("Traceback")
