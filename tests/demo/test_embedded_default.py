"""Issue 7: what the README's first command runs, on a fresh data folder, end to end.

``bash scripts/run.sh`` runs ``python app.py`` on the shipped config.yaml. This
runs the same on a copy of config.yaml that differs only in free ports and its
own data folder (see COPY_CHANGES).
"""
from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import requests

from dashboards import PAGE_PATHS

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "config.yaml"
TARGET_METRICS = {  # a metric each target of the shipped config produces
    "lookout": "lookout_process_resident_memory_bytes", "shop-db": "pg_up",
    "shop-pool": "lookout_pool_utilization_ratio", "shop-cache": "redis_up",
    "shop-api": "lookout_http_probe_success", "shop-business": "shop_orders_total",
}
PAGES = [*PAGE_PATHS, "/demo/notifications"]
RULE = "promise_payment_success"  # what pages for the payment_outage scenario

pytestmark = [pytest.mark.slow,
              # selenium 4.2 (the newest dash[testing] allows) calls urllib3's deprecated getheader().
              pytest.mark.filterwarnings("ignore:HTTPResponse.getheader:DeprecationWarning")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def copy_config(dest: Path, demo_dir: Path, ports: dict[str, int]) -> Path:
    text = SHIPPED.read_text()
    # COPY_CHANGES: ports and data folders, so the test collides with nothing. Everything
    # else is shipped, the promises' demo burn windows included.
    changes = [
        ("port: 8050", f"port: {ports['server']}"),
        ("55432", str(ports["pg"])), ("56379", str(ports["redis"])), ("8060", str(ports["shop"])),
        ("data_dir: data/demo", f"data_dir: {demo_dir}"),
        ("url: sqlite:///data/lookout.db", f"url: sqlite:///{dest / 'lookout.db'}"),
    ]
    for old, new in changes:
        assert old in text, f"config.yaml no longer contains {old!r}: update this test"
        text = text.replace(old, new)
    path = dest / "config.yaml"
    path.write_text(text)
    return path


def get(port: int, path: str, **params) -> requests.Response:
    return requests.get(f"http://127.0.0.1:{port}{path}", params=params, timeout=10)


def wait_until(what: str, fn, timeout: float, every: float = 1.0):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = fn()
            if last:
                return last
        except requests.RequestException as exc:
            last = exc
        time.sleep(every)
    raise AssertionError(f"{what}: not within {timeout:g}s (last: {last!r})")


def sink_messages(port: int, rule: str, kinds: tuple[str, ...], after_id: int) -> list[dict]:
    msgs = get(port, "/api/sink", since_id=after_id).json()["messages"]
    return [m for m in msgs if rule in m["rules"] and set(kinds) & set(m["kinds"])]


def dashboard_pages_draw_live_data(port: int) -> None:
    """Every dashboard page, in headless Chromium, draws the demo's data (issue 7: "every
    panel alive"): no console error, and no panel saying a source is missing except
    replication (the demo runs no replica). Screenshots go to artifacts/screenshots/demo-*.png."""
    from dash.testing.browser import Browser

    from tests.dashboards.conftest import chrome_options, screenshot, wait_rendered

    allowed_missing = ("replica", "replication")
    with Browser(browser="Chrome", headless=False, options=[chrome_options()], percy_run=False,
                 wait_timeout=15) as br:
        for page in PAGES[:-1]:
            br.driver.get(f"http://127.0.0.1:{port}{page}?range=15m")
            wait_rendered(br, timeout=30)
            drawn = br.driver.execute_script(
                "return [...document.querySelectorAll('#page .dash-graph')]"
                ".filter(g => g.offsetParent !== null && g.querySelector('.main-svg .trace')).length")
            said = br.driver.execute_script(
                "return [...document.querySelectorAll('#page .lk-panel .alert')].map(a => a.innerText)")
            screenshot(br, "demo-" + (page.strip("/") or "overview"))
            assert br.get_logs() == [], page
            if page != "/alerts":
                assert drawn > 0, (page, said)
            assert [m for m in said if not any(w in m.lower() for w in allowed_missing)] == [], (page, said)
            if page == "/":
                cards_agree_with_alerts(br, port)


def cards_agree_with_alerts(br, port: int) -> None:
    """Issue 15, one truth: a promise card says burning or breached exactly while its alert fires."""
    def seen() -> tuple[dict[str, str], dict[str, str]]:
        badges = br.driver.execute_script(
            "return Object.fromEntries([...document.querySelectorAll('[id^=score-][id$=-badge]')]"
            ".map(b => [b.id.slice(6, -6), b.innerText.trim()]))")
        alerts = {a["rule"][len("promise_"):]: a["severity"] for a in get(port, "/api/alerts").json()["alerts"]
                  if a["rule"].startswith("promise_") and a["state"] in ("firing", "flapping")}
        return badges, alerts

    for _ in range(3):  # the page and the API are read a moment apart: a change between them is no contradiction
        badges, alerts = seen()
        wrong = {p: (b, alerts.get(p)) for p, b in badges.items()
                 if (b in ("burning", "breached")) != (p in alerts)
                 or (p in alerts and b != ("breached" if alerts[p] == "critical" else "burning"))}
        if not wrong:
            return
        from tests.dashboards.conftest import wait_rendered

        br.driver.refresh()
        wait_rendered(br, timeout=30)
    raise AssertionError(f"promise cards contradict their alerts: {wrong}")


@pytest.fixture
def lookout(tmp_path) -> Iterator[tuple[subprocess.Popen, dict[str, int], Path]]:
    ports = {k: free_port() for k in ("server", "pg", "redis", "shop")}
    # Not under tmp_path: as root the embedded PostgreSQL runs as another user and needs every
    # parent folder traversable, and each pytest session resets pytest-of-root/ to 0700.
    demo_dir = Path(tempfile.mkdtemp(prefix="lookout-demo-test-"))
    cfg = copy_config(tmp_path, demo_dir, ports)
    log = (tmp_path / "lookout.log").open("w")
    proc = subprocess.Popen([sys.executable, "app.py", "--config", str(cfg)], cwd=ROOT, stdout=log,
                            stderr=subprocess.STDOUT, text=True)
    try:
        yield proc, ports, demo_dir
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        log.close()
        # Shown by pytest when the test failed: what Lookout printed, without the request lines.
        print("\n".join(line for line in (tmp_path / "lookout.log").read_text().splitlines()
                        if "GET " not in line and "POST " not in line)[-4000:])
        for p in psutil.process_iter(["cmdline"]):  # leave nothing behind even when the test failed
            if str(demo_dir) in " ".join(p.info["cmdline"] or []):
                p.kill()
        shutil.rmtree(demo_dir, ignore_errors=True)


def test_the_shipped_config_runs_the_live_demo_fires_and_resolves_an_alert_and_stops_on_ctrl_c(lookout):
    proc, ports, demo_dir = lookout
    tmp = Path(proc.args[-1]).parent  # the config copy's folder: store and Lookout's output
    port = ports["server"]
    started = time.monotonic()

    wait_until("/api/health passes", lambda: get(port, "/api/health").json()["status"] == "pass", 60)
    for target, metric in TARGET_METRICS.items():
        wait_until(f"{target} has {metric}", lambda t=target, m=metric: any(
            any(p[4] is not None for p in s["points"])
            for s in get(port, "/api/series", name=m, labels=f"target={t}", start="now-5m").json()["series"]),
            max(5.0, 60 - (time.monotonic() - started)))
    for page in PAGES:
        assert get(port, page).status_code == 200, page

    # payment_outage: wait for a defined failure ratio first (two counter samples), then switch on.
    wait_until("payments are counted twice", lambda: len(get(port, "/api/series", name="shop_payments_total",
                                                             start="now-5m").json()["series"][0]["points"]) >= 2, 45)
    last = max([m["id"] for m in get(port, "/api/sink").json()["messages"]], default=0)
    on = subprocess.run([sys.executable, "app.py", "scenario", "payment_outage", "--port", str(port)], cwd=ROOT,
                        check=False, capture_output=True, text=True, timeout=30)
    assert on.returncode == 0 and "payment_outage: on" in on.stdout, on.stderr
    # 60 % failures against a 98 % objective burn the budget 30x: the payment promise pages
    # once its 2 min window burns 14.4x (config.yaml: the demo's shortened burn windows).
    [fired] = wait_until("the payment promise's page in the sink", lambda: sink_messages(
        port, RULE, ("firing", "escalated"), last)[:1], 150, every=2)
    assert fired["title"].startswith("[FIRING]")
    assert fired["email"]["subject"].startswith(f"[Lookout] [FIRING] {RULE}")
    text = fired["email"]["text"]
    # A fresh demo's 30 days hold minutes of history: one outage can overspend them.
    assert "burning the 30d error budget" in text and ("of the budget left" in text or "overspent" in text), text
    assert fired["slack"]["blocks"][0]["type"] == "header"
    dashboard_pages_draw_live_data(port)

    off = subprocess.run([sys.executable, "app.py", "scenario", "payment_outage", "--off", "--port", str(port)],
                         cwd=ROOT, check=False, capture_output=True, text=True, timeout=30)
    assert off.returncode == 0, off.stderr
    wait_until("the resolve in the sink", lambda: sink_messages(port, RULE, ("resolved",), fired["id"]), 180, every=2)
    page = get(port, "/demo/notifications").text
    assert f"[RESOLVED] {RULE}" in page and fired["title"] in page
    # Issue 15: no threshold rule pages for what a promise holds.
    rules = {r for m in get(port, "/api/sink").json()["messages"] for r in m["rules"]}
    assert not {"payment_failure_ratio", "cache_hit_ratio", "pool_utilization"} & rules, rules

    # Ctrl-C: everything stops, nothing is left behind.
    family = psutil.Process(proc.pid).children(recursive=True) + [
        p for p in psutil.process_iter(["cmdline"]) if str(demo_dir) in " ".join(p.info["cmdline"] or [])]
    names = {p.name() for p in family}
    assert any("postgres" in n for n in names) and any("redis" in n for n in names), names
    proc.send_signal(signal.SIGINT)
    assert proc.wait(60) == 0
    left = [p for p in family if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    log_tail = "\n".join(line for line in (tmp / "lookout.log").read_text().splitlines()
                         if "GET " not in line and "POST " not in line)[-3000:]
    assert left == [], ([(p.pid, p.name(), p.cmdline()) for p in left], log_tail)
    assert [name for name, p in ports.items() if port_open(p)] == []
    output = (tmp / "lookout.log").read_text()
    assert f"http://127.0.0.1:{port}" in output and "/api/health" in output and "/metrics" in output
    assert "demo: starting embedded PostgreSQL" in output and "embedded servers stopped" in output
