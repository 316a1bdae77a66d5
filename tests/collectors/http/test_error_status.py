"""Which statuses count as errors: the target's ``error_status`` (default 5xx), for probes and the app's ratio."""
from __future__ import annotations

import requests

from collectors.http.collector import HttpCollector
from tests.collectors.http.helpers import failure, run, target, value


def test_a_402_passes_a_probe_that_accepts_4xx_by_default(shop):
    b = run(target(url=f"{shop.url}/shop/pay?declined=1", expect_status=["2xx", "4xx"]))
    assert value(b, "lookout_http_probe_success", probe="shop") == 1


def test_a_402_fails_the_probe_when_error_status_names_it(shop):
    b = run(target(url=f"{shop.url}/shop/pay?declined=1", expect_status=["2xx", "4xx"], error_status=["5xx", 402]))
    assert value(b, "lookout_http_probe_success", probe="shop") == 0
    assert failure(b, "shop") == ("status", "status 402 counts as an error (error_status: 5xx, 402)")


def test_an_exact_code_in_expect_status_wins_over_error_status(shop):
    b = run(target(url=f"{shop.url}/error", expect_status=[500]))
    assert value(b, "lookout_http_probe_success", probe="shop") == 1


def test_the_app_error_ratio_counts_402_only_when_error_status_names_it(shop):
    probe = [{"name": "metrics", "url": f"{shop.url}/metrics", "prometheus": {}}]
    default = HttpCollector(target(probes=probe))
    payments = HttpCollector(target(probes=probe, error_status=["5xx", 402]))
    try:
        default.run(), payments.run()              # the baseline of the window
        with requests.Session() as s:
            for declined in (False, False, False, True):
                s.get(f"{shop.url}/shop/pay", params={"declined": "1"} if declined else {})
        by_default, with_402 = default.run(), payments.run()
    finally:
        default.close()
        payments.close()
    assert value(by_default, "lookout_http_app_error_ratio", route="/shop/pay") == 0.0
    assert value(with_402, "lookout_http_app_error_ratio", route="/shop/pay") == 0.25


def test_a_class_in_error_status_does_not_fail_a_probe_that_accepts_that_class(shop):
    b = run(target(url=f"{shop.url}/error", expect_status=["2xx", "5xx"], error_status=["5xx"]))
    assert value(b, "lookout_http_probe_success", probe="shop") == 1
