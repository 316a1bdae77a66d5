from __future__ import annotations

from datetime import UTC

import pytest

from dashboards import PAGE_PATHS
from tests.dashboards.conftest import figure, screenshot, wait_rendered
from tests.dashboards.seed import DB_ERROR, P95, REVENUE_PER_STEP, STATEMENTS_REASON, SUMMARY

pytestmark = pytest.mark.browser

def open_page(br, lookout, path: str, query: str = "?range=1h&refresh=off") -> None:
    br.driver.get(lookout.url + path + query)
    wait_rendered(br)


@pytest.mark.parametrize("path", PAGE_PATHS)
def test_each_page_loads_without_a_console_or_callback_error(browser, lookout, path):
    browser.reset_log_timestamp()
    open_page(browser, lookout, path)
    screenshot(browser, (path.strip("/") or "overview"))
    assert browser.get_logs() == []


def test_overview_shows_the_down_target_with_its_error_and_the_measured_hit_rate(browser, lookout):
    open_page(browser, lookout, "/")
    db = browser.find_element("#health-shop-db").text
    assert "DOWN" in db and DB_ERROR in db
    assert "up" in browser.find_element("#health-shop-cache").text
    assert browser.find_element("#score-cache_hit_rate-value").text == "80.0 %"
    # 80 % hits burn a 90 % objective's budget 2x in the 6 h and 30 min windows: the ticket fires,
    # and the card says what the promise's alert says.
    assert browser.find_element("#score-cache_hit_rate-badge").text == "burning"
    assert "budget" in browser.find_element("#score-cache_hit_rate-note").text
    assert SUMMARY in browser.find_element("#ov-alerts").text


def test_cache_page_draws_the_hit_ratio_put_into_the_store_with_its_thresholds(browser, lookout):
    open_page(browser, lookout, "/cache")
    fig = figure(browser, "redis-hit-graph")
    ys = [y for y in fig["data"][0]["y"] if y is not None]
    assert ys and all(abs(y - 0.8) < 1e-9 for y in ys)
    assert sorted(s["y0"] for s in fig["layout"]["shapes"] if s["xref"] == "paper") == [0.9, 0.95]


def test_latency_page_shows_the_p95_and_why_statements_are_missing(browser, lookout):
    open_page(browser, lookout, "/latency")
    fig = figure(browser, "lat-all-graph")
    p95 = next(t for t in fig["data"] if t["name"] == "p95")
    assert max(y for y in p95["y"] if y is not None) == P95
    assert STATEMENTS_REASON in browser.find_element("#stmt-total").text


def test_revenue_page_draws_revenue_per_hour(browser, lookout):
    open_page(browser, lookout, "/revenue")
    fig = figure(browser, "rev-hour-graph")
    ys = [y for y in fig["data"][0]["y"] if y is not None]
    assert ys and all(abs(y - REVENUE_PER_STEP * 240) < 1e-6 for y in ys)


def test_picking_a_time_range_changes_the_url_and_the_data(browser, lookout):
    open_page(browser, lookout, "/cache")
    before = figure(browser, "redis-hit-graph")
    from selenium.webdriver.support.ui import Select
    Select(browser.find_element("#range-select")).select_by_value("6h")
    browser.wait_for_contains_text("#range-select", "6 hours")
    browser._wait_for(lambda d: "range=6h" in d.current_url, 10, "URL did not get range=6h")
    wait_rendered(browser)
    after = figure(browser, "redis-hit-graph")
    assert _ms_span(after["layout"]["xaxis"]["range"]) == pytest.approx(6 * 3600e3, rel=0.01)
    assert _ms_span(before["layout"]["xaxis"]["range"]) == pytest.approx(3600e3, rel=0.01)
    # Two hours were stored: the 6-hour view starts about an hour earlier than the 1-hour one.
    assert _first_x(after) < _first_x(before) - 50 * 60e3


def _ms_span(rng) -> float:
    from datetime import datetime
    def ms(v):
        if isinstance(v, (int, float)):
            return float(v)
        return datetime.fromisoformat(v.replace(" ", "T")).timestamp() * 1000
    return ms(rng[1]) - ms(rng[0])


def _first_x(fig) -> float:
    x = fig["data"][0]["x"][0]
    if isinstance(x, (int, float)):
        return float(x)
    from datetime import datetime
    return datetime.fromisoformat(x.replace(" ", "T")).replace(tzinfo=UTC).timestamp() * 1000


def test_the_firing_alert_is_listed_on_the_overview_and_marked_on_the_time_axis(browser, lookout):
    open_page(browser, lookout, "/")
    assert "CacheHitRateLow" in browser.find_element("#ov-alerts").text
    assert "critical" in browser.find_element("#health-shop-cache").text
    open_page(browser, lookout, "/cache")
    fig = figure(browser, "redis-hit-graph")
    assert "CacheHitRateLow" in [t["name"] for t in fig["data"]]  # its marker row and legend entry
    assert any(s["type"] == "rect" and s["xref"] == "x" for s in fig["layout"]["shapes"])  # its firing band
    # Not on the panels of other metrics: the cache alert says nothing about memory or revenue.
    assert "CacheHitRateLow" not in [t["name"] for t in figure(browser, "memory-graph")["data"]]
    open_page(browser, lookout, "/revenue")
    assert "CacheHitRateLow" not in [t["name"] for t in figure(browser, "rev-hour-graph")["data"]]


def test_a_silence_created_in_the_page_appears_in_the_api(browser, lookout):
    import json
    from urllib.request import urlopen

    open_page(browser, lookout, "/alerts")
    browser.find_element("#sil-matchers").send_keys("alertname=CacheHitRateLow, target=shop-cache")
    browser.find_element("#sil-author").send_keys("oncall")
    browser.find_element("#sil-comment").send_keys("redis resize in progress")
    browser.find_element("#sil-create").click()
    browser.wait_for_contains_text("#sil-status", "created")
    browser.wait_for_contains_text("#al-silences", "redis resize in progress")
    with urlopen(lookout.url + "/api/silences") as res:
        silences = json.load(res)["silences"]
    [s] = [s for s in silences if s["comment"] == "redis resize in progress"]
    assert s["author"] == "oncall" and s["status"] == "active"
    assert {(m["name"], m["value"]) for m in s["matchers"]} == {("alertname", "CacheHitRateLow"),
                                                               ("target", "shop-cache")}
    screenshot(browser, "alerts")


def test_custom_range_and_auto_refresh_are_kept_in_the_url(browser, lookout):
    from selenium.webdriver.support.ui import Select

    open_page(browser, lookout, "/revenue")
    Select(browser.find_element("#refresh-select")).select_by_value("5s")
    browser._wait_for(lambda d: "refresh=5s" in d.current_url, 10, "URL did not get refresh=5s")
    Select(browser.find_element("#range-select")).select_by_value("custom")
    browser._wait_for(lambda d: "range=custom" in d.current_url and "from=" in d.current_url, 10,
                      "URL did not get the custom range")
    assert browser.find_element("#custom-from").is_displayed()
    wait_rendered(browser)
    url = browser.driver.current_url
    browser.driver.get(url)  # the link alone reproduces the view
    wait_rendered(browser)
    assert browser.find_element("#range-select").get_attribute("value") == "custom"
    assert browser.find_element("#refresh-select").get_attribute("value") == "5s"
    assert browser.find_element("#custom-from").get_attribute("value")


def test_the_dark_switch_turns_the_page_and_the_figures_dark(browser, lookout):
    open_page(browser, lookout, "/cache")
    browser.find_element("#dark-switch").click()
    browser._wait_for(lambda d: d.execute_script(
        "return document.documentElement.getAttribute('data-bs-theme')") == "dark", 10, "page did not turn dark")
    browser._wait_for(lambda d: figure(browser, "redis-hit-graph")["layout"]["font"]["color"] == "#dee2e6", 10,
                      "figures kept the light font")
    wait_rendered(browser)
    screenshot(browser, "cache-dark")
    browser.find_element("#dark-switch").click()  # the switch persists in localStorage: leave it light
    browser._wait_for(lambda d: d.execute_script(
        "return document.documentElement.getAttribute('data-bs-theme')") == "light", 10, "page did not turn light")
