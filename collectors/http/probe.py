"""One probe: request, redirects within bounds, a capped streamed body, checks.

Never raises for anything the remote side does: every failure becomes a
``ProbeResult`` with ``reason`` (a short fixed word, used as a label) and
``error`` (a sentence naming the cause for the on-call engineer).

The same answer reads the same on both urllib3 majors requirements.txt allows
(tests/collectors/http/test_urllib3_majors.py runs the hostile answers on each):
a body shorter than its Content-Length is ``truncated`` (urllib3 1.26 does not
check that unless asked), a reply that is not HTTP is ``invalid_response``
whatever exception the library wraps it in, and an error the library raises
that no reason covers (a bug of a library or of Lookout) is ``reason="error"``
with a sentence naming the probe, never the library's message alone.

A probe with ``urls:`` requests each in turn within its budget and reports as
one probe: it succeeds when every request does (the first failure, naming its
URL, is the probe's reason and error); its durations are those of its slowest
request, its body bytes and redirects the sums; ``parts`` keeps each answer
(their cache headers are each counted).
"""
from __future__ import annotations

import http.client
import json
import logging
import socket
import ssl
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests
from urllib3 import exceptions as u3

from collectors import jsonpath
from collectors.http.config import HttpTarget, Probe
from collectors.http.transport import cert_not_after

log = logging.getLogger("lookout.collectors.http")

_CHUNK = 64 * 1024
_SHOWN = 80  # characters of a hostile reply quoted in an error
_CROSS_HOST_DROP = ("authorization", "cookie", "proxy-authorization")
# Failure reasons that still leave a complete answer to read (a 503 health document).
_ANSWERED = (None, "status", "keyword", "json_assertion", "mapping_miss")


@dataclass
class ProbeResult:
    name: str
    url: str
    ok: bool = False
    reason: str | None = None
    error: str | None = None
    status: int = 0
    tcp: float | None = None        # TCP connect, summed over hops that opened a connection
    tls: float | None = None        # TLS handshake, likewise
    total: float = 0.0
    redirects: int = 0
    cert_expires_at: float | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    body_size: int | None = None    # of several requests: the sum (body itself is then empty)
    parts: list[ProbeResult] = field(default_factory=list)
    _json: Any = None

    @property
    def nbytes(self) -> int:
        return len(self.body) if self.body_size is None else self.body_size

    @property
    def answered(self) -> bool:
        """A whole answer was read (whatever its status): its body can be mapped."""
        return self.status > 0 and self.reason in _ANSWERED

    def fail(self, reason: str, error: str) -> ProbeResult:
        self.ok, self.reason, self.error = False, reason, error
        return self

    def json(self) -> Any:
        """Parsed body; raises Fail('invalid_json')."""
        if self._json is None:
            try:
                self._json = json.loads(self.body)
            except ValueError as exc:
                raise Fail("invalid_json", f"body is not valid JSON: {exc}") from None
            except RecursionError:
                raise Fail("invalid_json", "body is JSON nested too deeply to read") from None
        return self._json


class Fail(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def safe_url(url: str) -> str:
    """The URL without user:password, for documents and errors."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def run_probe(session: requests.Session, target: HttpTarget, probe: Probe, budget: float) -> ProbeResult:
    urls = target.probe_urls(probe)
    if len(urls) == 1:
        return _run_one(session, target, probe, urls[0], budget)
    deadline = time.perf_counter() + budget
    parts = []
    for url in urls:
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            parts.append(ProbeResult(probe.name, safe_url(url)).fail(
                "timeout", "not requested: the earlier URLs used up the probe's timeout"))
        else:
            parts.append(_run_one(session, target, probe, url, remaining))
    return combine(probe.name, parts)


def combine(name: str, parts: list[ProbeResult]) -> ProbeResult:
    """One probe's result from its requests (see the module docstring)."""
    failed = next((p for p in parts if not p.ok), None)
    first = failed or parts[-1]
    res = ProbeResult(name, first.url, ok=failed is None, status=first.status, parts=parts,
                      redirects=sum(p.redirects for p in parts), body_size=sum(p.nbytes for p in parts),
                      total=max(p.total for p in parts))
    if failed is not None:
        res.reason, res.error = failed.reason, f"{failed.url}: {failed.error}"
    for attr in ("tcp", "tls"):
        values = [getattr(p, attr) for p in parts if getattr(p, attr) is not None]
        setattr(res, attr, max(values) if values else None)
    expiries = [p.cert_expires_at for p in parts if p.cert_expires_at is not None]
    res.cert_expires_at = min(expiries) if expiries else None
    return res


def _run_one(session: requests.Session, target: HttpTarget, probe: Probe, url: str, budget: float) -> ProbeResult:
    res = ProbeResult(probe.name, safe_url(url))
    t0 = time.perf_counter()
    try:
        _fetch(session, target, probe, url, t0 + budget, res)
        res.ok = True
        check(probe, res, target.error_status)
    except Fail as exc:
        res.fail(exc.reason, str(exc))
    except requests.RequestException as exc:
        res.fail(*classify(exc, budget))
    except Exception as exc:  # noqa: BLE001 - one probe's surprise must not take the target down
        res.fail(*unexpected(probe.name, exc))
    finally:
        res.total = time.perf_counter() - t0
    return res


def _fetch(session: requests.Session, target: HttpTarget, probe: Probe, url: str,
           deadline: float, res: ProbeResult) -> None:
    headers = {**target.headers, **probe.headers}
    if not target.keep_alive:
        headers.setdefault("Connection", "close")
    method, body = probe.method, probe.body
    verify: bool | str = probe.ca_file or probe.tls_verify
    host = urlsplit(url).hostname
    while True:
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            raise Fail("timeout", f"timed out after {res.redirects} redirect(s)")
        resp = session.request(method, url, headers=headers, data=body, timeout=(remaining, remaining),
                               verify=verify, allow_redirects=False, stream=True)
        conn = getattr(resp.raw, "connection", None)
        # urllib3 2 checks this by default, 1.26 only when asked: a short body is then
        # IncompleteRead on both instead of a silently truncated "success".
        resp.raw.enforce_content_length = True
        try:
            _take_timings(conn, res)
            res.status = resp.status_code
            if probe.follow_redirects and resp.is_redirect:
                nxt = urljoin(url, resp.headers["location"])
                new_host = urlsplit(nxt).hostname
                if new_host != host and not probe.allow_cross_host_redirects:
                    raise Fail("cross_host_redirect", f"redirect from {host} to another host {new_host} "
                                                      f"({safe_url(nxt)}); set allow_cross_host_redirects")
                if res.redirects >= probe.max_redirects:
                    raise Fail("too_many_redirects", f"more than {probe.max_redirects} redirects "
                                                     f"(last to {safe_url(nxt)})")
                res.redirects += 1
                if resp.status_code == 303 or (resp.status_code in (301, 302) and method == "POST"):
                    method, body = "GET", None
                if new_host != host:
                    headers = {k: v for k, v in headers.items() if k.lower() not in _CROSS_HOST_DROP}
                url, host = nxt, new_host
                continue
            res.headers = dict(resp.headers)
            res.body = _read_capped(resp, probe.max_body_bytes, deadline)
            return
        finally:
            resp.close()
            if conn is not None and not target.keep_alive:
                conn.close()  # the next probe measures a fresh connect, as a client would


def _take_timings(conn: Any, res: ProbeResult) -> None:
    take = getattr(conn, "lookout_take", None)
    if take is None:
        return
    tcp, connect, cert = take()
    if tcp is not None:
        res.tcp = (res.tcp or 0.0) + tcp
        if connect is not None and cert is not None:
            res.tls = (res.tls or 0.0) + max(0.0, connect - tcp)
    if cert is not None:
        try:
            res.cert_expires_at = cert_not_after(cert)
        except ValueError:
            res.cert_expires_at = None


def _read_capped(resp: requests.Response, cap: int, deadline: float) -> bytes:
    length = resp.headers.get("content-length", "")
    if length.isdigit() and int(length) > cap:
        raise Fail("too_large", f"Content-Length {int(length)} exceeds max_body_bytes {cap}; body not read")
    buf = bytearray()
    for chunk in resp.iter_content(_CHUNK):
        buf += chunk
        if len(buf) > cap:
            raise Fail("too_large", f"body exceeds max_body_bytes {cap}; stopped reading after {len(buf)} bytes")
        if time.perf_counter() > deadline:
            raise Fail("timeout", f"body not complete within the probe timeout ({len(buf)} bytes read)")
    return bytes(buf)


def check(probe: Probe, res: ProbeResult, error_status: list[int | str] | None = None) -> None:
    """Status, keyword and JSON assertions, in that order; raises Fail.

    A status must be accepted by ``expect_status``; and a code the target's
    ``error_status`` names exactly fails even so, unless ``expect_status`` names it
    exactly too: with ``expect_status: [2xx, 4xx]`` and ``error_status: [5xx, 402]``
    a 402 fails, with ``expect_status: [402]`` it passes.
    """
    if not probe.status_ok(res.status):
        want = ", ".join(str(s) for s in probe.expect_status)
        raise Fail("status", f"status {res.status}, expected {want}")
    if error_status and _named(res.status, error_status) and not _named(res.status, probe.expect_status):
        errors = ", ".join(str(s) for s in error_status)
        raise Fail("status", f"status {res.status} counts as an error (error_status: {errors})")
    if probe.expect_keyword is not None and probe.expect_keyword.encode() not in res.body:
        raise Fail("keyword", f"body does not contain {probe.expect_keyword!r}")
    if probe.expect_json is not None:
        exp = probe.expect_json
        try:
            got = jsonpath.get(res.json(), exp.path)
        except jsonpath.PathError as exc:
            raise Fail("json_assertion", f"expect_json: {exc}") from None
        if exp.equals is not None and got != exp.equals:
            raise Fail("json_assertion", f"{exp.path} is {got!r}, expected {exp.equals!r}")


def _named(code: int, statuses: list[int | str]) -> bool:
    return str(code) in {str(s) for s in statuses}


def _causes(exc: BaseException) -> list[BaseException]:
    """The exception and everything it wraps (requests -> urllib3 -> socket/ssl/http.client).

    An implicit ``__context__`` is followed only where the raiser did not suppress it:
    urllib3 1.26 raises the real error ``from None`` inside an ``except TypeError`` of its
    own (a Python 2 fallback), and that TypeError is not the cause of anything.
    """
    out: list[BaseException] = []
    todo = [exc]
    while todo and len(out) < 20:
        e = todo.pop(0)
        if e in out:
            continue
        out.append(e)
        context = None if e.__suppress_context__ else e.__context__
        for nxt in (getattr(e, "reason", None), e.__cause__, context, *getattr(e, "args", ())):
            if isinstance(nxt, BaseException):
                todo.append(nxt)
    return out


def _quote(e: BaseException) -> str:
    text = str(e).strip() or type(e).__name__
    return repr(text[:_SHOWN]) + ("..." if len(text) > _SHOWN else "")


def classify(exc: requests.RequestException, budget: float) -> tuple[str, str]:
    causes = _causes(exc)
    for e in causes:
        if isinstance(e, ssl.SSLCertVerificationError):
            return "tls", f"TLS certificate verification failed: {e.verify_message or e.reason}"
    for e in causes:
        if isinstance(e, ssl.SSLError):
            return "tls", f"TLS handshake failed: {e.reason or e}"
    if isinstance(exc, requests.ConnectTimeout):
        return "timeout", f"connect timed out (probe timeout {budget:.3g}s)"
    if isinstance(exc, requests.ReadTimeout) or any(isinstance(e, (socket.timeout, TimeoutError)) for e in causes):
        return "timeout", f"no response within the probe timeout ({budget:.3g}s)"
    for e in causes:
        if isinstance(e, ConnectionRefusedError):
            return "refused", "connection refused (nothing listens on that port)"
        if isinstance(e, socket.gaierror):
            return "dns", f"cannot resolve the host name: {e.strerror or e}"
    if isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema
                  | requests.exceptions.InvalidSchema):
        return "invalid_url", f"invalid URL: {exc}"
    for e in causes:
        # RemoteDisconnected is a BadStatusLine and a ConnectionResetError: first.
        if isinstance(e, http.client.RemoteDisconnected):
            return "closed", "the server closed the connection without answering"
        if isinstance(e, u3.InvalidChunkLength):
            length = getattr(e, "length", b"")
            shown = length.decode("latin-1").strip() if isinstance(length, bytes) else str(length)
            return "invalid_response", f"the chunked body is not valid HTTP (chunk length {shown[:_SHOWN]!r})"
        if isinstance(e, http.client.IncompleteRead):
            got, more = len(e.partial) if isinstance(e.partial, bytes) else e.partial, e.expected
            return "truncated", (f"the body ended early: {got} bytes read, {more} more expected "
                                 f"(Content-Length)")
        if isinstance(e, ConnectionResetError):
            return "reset", "the server reset the connection"
        if isinstance(e, u3.DecodeError):
            return "invalid_response", "the body is not encoded as its Content-Encoding header says"
    if any(isinstance(e, u3.ProtocolError | http.client.HTTPException) for e in causes):
        deepest = causes[-1]
        return "invalid_response", f"the answer is not valid HTTP ({type(deepest).__name__}: {_quote(deepest)})"
    deepest = causes[-1] if causes else exc
    return "connection", f"connection failed: {type(deepest).__name__}: {_quote(deepest)}"


def unexpected(probe: str, exc: BaseException) -> tuple[str, str]:
    """An error no reason covers: a sentence naming the probe, the library's words after it.

    The log line names the probe and the type only (the message may hold the URL);
    the traceback is logged at DEBUG.
    """
    log.warning("http probe %s: unexpected %s (a bug of the HTTP client or of Lookout)", probe,
                type(exc).__name__, exc_info=log.isEnabledFor(logging.DEBUG))
    return "error", (f"probe {probe} could not be completed: unexpected {type(exc).__name__} in the HTTP client "
                     f"({_quote(exc)})")
