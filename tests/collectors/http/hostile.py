"""Raw TCP servers that answer like broken or hostile HTTP servers, and what the probes make of them.

Run as a module (``python -m tests.collectors.http.hostile``) it probes each of them once and
prints ``{case: [reason, error]}`` as JSON: test_broken_http.py runs it under each urllib3
major that requirements.txt allows.
"""
from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from collectors.http import HttpCollector, HttpTarget

HUGE = 10 * 1024 * 1024
DEEP = 100_000

# case: (what the server sends back after reading the request, or a special word)
ANSWERS: dict[str, bytes | str] = {
    "not_http": b"garbage garbage\r\n\r\n",
    "binary": b"\x00\xff\xfe" * 100,
    "silent_close": b"",
    "truncated": b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
    "bad_status": b"HTTP/1.1 abc\r\n\r\n",
    "bad_chunk": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
    "bad_gzip": b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 5\r\n\r\nhello",
    "deep_json": (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % DEEP)
    + b"[" * DEEP,
    "bad_redirect": b"HTTP/1.1 302 Found\r\nLocation: http://[::1/x\r\nContent-Length: 0\r\n\r\n",
    "huge": "huge",
    "hang": "hang",
}

# case: the reason every urllib3 major must give
EXPECTED = {
    "not_http": "invalid_response", "binary": "invalid_response", "silent_close": "closed",
    "truncated": "truncated", "bad_status": "invalid_response", "bad_chunk": "invalid_response",
    "bad_gzip": "invalid_response", "deep_json": "invalid_json", "bad_redirect": "error",
    "huge": "too_large", "hang": "timeout",
}


class RawServer:
    """One loopback port that answers every connection with ``answer`` (bounded: closes at stop)."""

    def __init__(self, answer: bytes | str) -> None:
        self.answer = answer
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.settimeout(5)
                conn.recv(65536)
                if self.answer == "hang":
                    self.stopping.wait(10)
                elif self.answer == "huge":
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n")
                    chunk = b"x" * 65536
                    for _ in range(HUGE // len(chunk)):
                        conn.sendall(chunk)
                else:
                    assert isinstance(self.answer, bytes)
                    conn.sendall(self.answer)
            except OSError:
                pass  # the probe stopped reading (too_large, timeout): expected

    def stop(self) -> None:
        self.stopping.set()
        self.sock.close()
        self.thread.join(2)


@contextmanager
def servers() -> Iterator[dict[str, RawServer]]:
    running = {case: RawServer(answer) for case, answer in ANSWERS.items()}
    try:
        yield running
    finally:
        for s in running.values():
            s.stop()


def probe_all(running: dict[str, RawServer]) -> tuple[bool, str | None, dict[str, tuple[str, str]]]:
    """One target with a probe per server: (up, target error, {case: (reason, error)})."""
    probes = []
    for case, s in running.items():
        probe: dict[str, object] = {"name": case, "url": f"http://127.0.0.1:{s.port}/", "timeout": 1.0}
        if case == "deep_json":
            probe["health"] = {}
        probes.append(probe)
    target = HttpTarget.model_validate({"name": "hostile", "interval": 30.0, "timeout": 20.0, "probes": probes})
    collector = HttpCollector(target)
    try:
        batch = collector.run()
    finally:
        collector.close()
    docs = batch.documents.get("probes", {})
    return batch.up, batch.error, {case: (d["reason"], d["error"]) for case, d in docs.items()}


def main() -> None:
    import urllib3

    started = time.monotonic()
    with servers() as running:
        up, error, results = probe_all(running)
    print(json.dumps({"urllib3": urllib3.__version__, "up": up, "error": error, "results": results,
                      "seconds": round(time.monotonic() - started, 2)}))


if __name__ == "__main__":
    main()
