"""The HTML report opened from a file in headless Chromium, with no network: every chart draws, nothing fails."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from report import html
from report.build import build
from store import Store
from tests.report.seed import SINCE, promises, recent

CHROME = "/usr/bin/chromium"
pytestmark = pytest.mark.filterwarnings("ignore:HTTPResponse.getheader:DeprecationWarning")


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    store = Store(recent())
    try:
        report = build(promises(), store, store.clock(), SINCE)
    finally:
        store.close()
    path = tmp_path_factory.mktemp("report-html") / "claims.html"
    path.write_text(html.render(report), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def chromium():
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options

    if not Path(CHROME).exists():
        pytest.fail(f"Chromium not found at {CHROME}: apt-get install chromium chromium-driver")
    opts = Options()
    opts.binary_location = CHROME
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--disable-extensions", "--no-first-run", "--window-size=1300,1000",
                # Offline: any name lookup fails, so a fetch from anywhere would show as an error.
                "--host-resolver-rules=MAP * ~NOTFOUND", "--disable-background-networking"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=opts)
    yield driver
    driver.quit()


def charts_drawn(driver, timeout: float = 20.0) -> list[dict]:
    script = """
      return [...document.querySelectorAll('.js-plotly-plot')].map(gd => ({
        id: gd.id, svg: !!gd.querySelector('.main-svg'),
        traces: gd.querySelectorAll('.scatterlayer .trace').length,
        shapes: (gd.layout.shapes || []).length,
        legend: [...gd.querySelectorAll('.legendtext')].map(t => t.textContent)}));"""
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = driver.execute_script(script)
        if found and all(c["svg"] and c["traces"] for c in found):
            return found
        time.sleep(0.2)
    raise AssertionError(f"charts not drawn in {timeout}s: {driver.execute_script(script)}")


def test_the_report_opens_offline_and_draws_every_chart_without_an_error(chromium, page):
    chromium.get(page.as_uri())
    charts = {c["id"]: c for c in charts_drawn(chromium)}
    # Uptime has no samples: no chart, a sentence instead.
    assert sorted(charts) == ["chart-payment_success", "chart-pool_utilisation"]
    pay = charts["chart-payment_success"]
    assert pay["traces"] == 2 and pay["shapes"] == 1  # the SLI, the objective; the incident shaded
    assert pay["legend"][:2] == ["Payment success", "objective ≥ 98.0 % of events"]
    assert "incident (critical)" in pay["legend"]
    assert "No chart: no samples of lookout_target_up." in chromium.find_element("id", "uptime").text
    errors = [e for e in chromium.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
    assert errors == []
    fetched = chromium.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name).filter(n => !n.startsWith('file:'))")
    assert fetched == []
