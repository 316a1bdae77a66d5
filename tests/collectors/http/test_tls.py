"""HTTPS probes against a server with a certificate from a throwaway CA."""
from __future__ import annotations

from tests.collectors.http.conftest import CERT_DAYS
from tests.collectors.http.helpers import failure, run, target, value


def test_an_untrusted_certificate_is_a_tls_failure(tls_shop):
    b = run(target(url=f"{tls_shop.url}/ok"))
    assert b.up
    reason, error = failure(b, "shop")
    assert reason == "tls"
    assert error.startswith("TLS certificate verification failed")
    assert value(b, "lookout_http_probe_success", probe="shop") == 0


def test_with_verification_off_the_probe_succeeds_and_reports_days_to_expiry(tls_shop):
    b = run(target(url=f"{tls_shop.url}/ok", tls_verify=False))
    assert value(b, "lookout_http_probe_success", probe="shop") == 1
    remaining = value(b, "lookout_http_probe_tls_cert_remaining_seconds", probe="shop")
    assert abs(remaining / 86400 - CERT_DAYS) < 0.1
    assert abs(b.documents["probes"]["shop"]["tls_cert_days_to_expiry"] - CERT_DAYS) < 0.1


def test_with_the_ca_file_the_certificate_verifies_and_tls_time_is_measured(tls_shop, tls_files):
    b = run(target(url=f"{tls_shop.url}/ok", ca_file=str(tls_files["ca"])))
    assert value(b, "lookout_http_probe_success", probe="shop") == 1
    assert value(b, "lookout_http_probe_duration_seconds", probe="shop", phase="tls") > 0
    assert value(b, "lookout_http_probe_duration_seconds", probe="shop", phase="connect") > 0
    assert value(b, "lookout_http_probe_tls_cert_remaining_seconds", probe="shop") > 0
