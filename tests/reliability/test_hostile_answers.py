"""Hostile answers not covered in tests/collectors: a million Prometheus series, non-UTF-8 text."""
from __future__ import annotations

import threading
import tracemalloc
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from collectors.registry import collector_for
from composition.config import parse_config

SERIES = 1_000_000


class Hostile:
    def __init__(self) -> None:
        self.sent = 0
        outer = self

        class H(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.end_headers()
                if self.path == "/million":
                    try:
                        self.wfile.write(b"# TYPE x gauge\n")
                        for start in range(0, SERIES, 10_000):
                            chunk = "".join(f'x{{i="{i}"}} {i}\n' for i in range(start, start + 10_000)).encode()
                            self.wfile.write(chunk)
                            outer.sent += len(chunk)
                    except OSError:
                        return  # the client hung up at its cap
                else:
                    self.wfile.write(b"# TYPE y gauge\ny{l=\"\xff\xfe\"} 1\n\xc3\x28 garbage \x80\n")

            def log_message(self, *a) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def hostile():
    h = Hostile()
    yield h
    h.httpd.shutdown()


def _collector(url: str):
    cfg = parse_config(f"""
targets:
  - {{name: t, kind: http, interval: 10s, timeout: 8s, probes: [{{name: p, url: "{url}", prometheus: {{}}}}]}}
""", env={})
    return collector_for(cfg.targets[0])


def _probe(batch) -> float:
    return next(s.value for s in batch.samples if s.name == "lookout_http_probe_success")


def test_a_million_series_answer_is_cut_at_the_body_cap_with_bounded_memory(hostile):
    c = _collector(hostile.base + "/million")
    tracemalloc.start()
    batch = c.run()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert batch.up and _probe(batch) == 0.0  # reported as a failed probe
    assert len(batch.samples) < 1000
    assert peak < 64 * 2**20, peak  # ~25 MB of text, never read whole, never parsed into a million samples
    c.close()


def test_non_utf8_prometheus_text_is_reported_not_raised(hostile):
    c = _collector(hostile.base + "/bytes")
    batch = c.run()
    assert batch.up  # the collector survived; the probe says what it got
    assert _probe(batch) in (0.0, 1.0)
    c.close()
