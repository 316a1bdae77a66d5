"""A Lookout (web role, temp SQLite store with known data) served on a free port,
and one headless Chromium for the module (starting one per test costs seconds).

Runs with plain ``pytest``: Chromium is Debian's (/usr/bin/chromium, or
DASH_TEST_CHROMEPATH), headless, with the flags a root user in a container needs.
"""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from werkzeug.serving import make_server

from app import create_app
from composition.config import parse_config
from composition.runtime import build_runtime
from store import Store
from tests.dashboards.seed import CONFIG, seed

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "artifacts" / "screenshots"
CHROME = os.environ.get("DASH_TEST_CHROMEPATH", "/usr/bin/chromium")


def chrome_options():
    from selenium.webdriver.chrome.options import Options

    opts = Options()
    opts.binary_location = CHROME
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--disable-background-networking", "--disable-extensions", "--disable-sync",
                "--no-first-run", "--disable-default-apps", "--window-size=1400,1000"):
        opts.add_argument(arg)
    return opts


@pytest.fixture(scope="module")
def lookout(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lookout")
    cfg = parse_config(CONFIG, env={}, base_dir=tmp)
    runtime = build_runtime(cfg, role="web", store=Store(f"sqlite:///{tmp / 'lookout.db'}"))
    now = time.time()
    seed(runtime, now)
    app = create_app(cfg, runtime=runtime)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name="lookout-test-server", daemon=True)
    thread.start()
    yield SimpleNamespace(runtime=runtime, url=f"http://127.0.0.1:{server.server_port}", seeded_at=now)
    server.shutdown()
    thread.join(5)
    runtime.store.close()


@pytest.fixture(scope="module")
def browser():
    from dash.testing.browser import Browser

    if not Path(CHROME).exists():
        pytest.fail(f"Chromium not found at {CHROME}: apt-get install chromium chromium-driver")
    with Browser(browser="Chrome", headless=False, options=[chrome_options()], percy_run=False,
                 wait_timeout=15) as br:
        yield br


def wait_rendered(br, timeout: float = 15.0) -> None:
    """Until every graph on the page has drawn and no callback is pending."""
    script = """
      const page = document.getElementById('page');
      if (!page || !page.children.length) return false;
      if (document.querySelector('[data-dash-is-loading="true"]')) return false;
      const graphs = page.querySelectorAll('.dash-graph');
      for (const g of graphs) {
        if (g.offsetParent === null) continue;            // hidden: the panel says why instead
        if (!g.querySelector('.main-svg')) return false;
      }
      return true;"""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if br.driver.execute_script(script):
            time.sleep(0.2)  # a last figure update may still be painting
            if br.driver.execute_script(script):
                return
        time.sleep(0.1)
    raise AssertionError(f"page {br.driver.current_url} did not finish rendering in {timeout}s")


def figure(br, graph_id: str) -> dict:
    return br.driver.execute_script(
        "const el = document.getElementById(arguments[0]);"
        "const p = el && el.querySelector('.js-plotly-plot');"
        "return p ? {data: p.data.map(t => ({name: t.name, x: t.x, y: t.y})), layout: p.layout} : null;",
        graph_id)


def screenshot(br, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    br.driver.save_screenshot(str(path))
    return path


def pytest_collection_modifyitems(items):
    # selenium 4.2 (the newest dash[testing] allows) calls urllib3's deprecated getheader().
    mark = pytest.mark.filterwarnings("ignore:HTTPResponse.getheader:DeprecationWarning")
    for item in items:
        if "tests/dashboards" in str(item.fspath):
            item.add_marker(mark)
