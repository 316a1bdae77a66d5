"""requests plumbing that measures what requests does not expose.

Connect time: the urllib3 connection classes are subclassed so that the
TCP connect (``_new_conn``) and the whole ``connect()`` (TCP + TLS
handshake) of the very connection that carries the request are timed with
``perf_counter``. TLS time is the difference. A connection reused from the
pool has no connect phase: that request reports none rather than a guess.

Certificate expiry: right after the handshake the peer certificate is read
from that same socket (``getpeercert(binary_form=True)``, available even
when verification is off) and its notAfter is decoded from the DER below,
so no second handshake and no extra dependency.
"""
from __future__ import annotations

import calendar
import time

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool


class _Timed:
    lookout_tcp: float | None = None
    lookout_connect: float | None = None
    lookout_cert: bytes | None = None

    def _new_conn(self):
        t0 = time.perf_counter()
        sock = super()._new_conn()  # type: ignore[misc]
        self.lookout_tcp = time.perf_counter() - t0
        return sock

    def connect(self) -> None:
        t0 = time.perf_counter()
        super().connect()  # type: ignore[misc]
        self.lookout_connect = time.perf_counter() - t0
        getcert = getattr(self.sock, "getpeercert", None)  # type: ignore[attr-defined]
        self.lookout_cert = getcert(binary_form=True) if getcert else None

    def lookout_take(self) -> tuple[float | None, float | None, bytes | None]:
        """The timings of a connect() done since the last take, once."""
        out = (self.lookout_tcp, self.lookout_connect, self.lookout_cert)
        self.lookout_tcp = self.lookout_connect = None
        return out


class TimedHTTPConnection(_Timed, HTTPConnection):
    pass


class TimedHTTPSConnection(_Timed, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = TimedHTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = TimedHTTPSConnection

    def _validate_conn(self, conn) -> None:
        # Connect early as urllib3 does, without its InsecureRequestWarning:
        # an unverified probe is an explicit `tls_verify: false` in config.
        if getattr(conn, "sock", None) is None:
            conn.connect()


class TimedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        # A fresh dict: the module-level one is shared by every PoolManager.
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}


# -- DER: just enough to read Certificate.tbsCertificate.validity.notAfter ----

def _tlv(der: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, start of content, end of content) of the element at ``pos``."""
    tag = der[pos]
    length = der[pos + 1]
    pos += 2
    if length & 0x80:
        n = length & 0x7F
        length = int.from_bytes(der[pos:pos + n], "big")
        pos += n
    return tag, pos, pos + length


def _parse_time(tag: int, raw: bytes) -> float:
    text = raw.decode("ascii").rstrip("Z")
    if tag == 0x17:  # UTCTime YYMMDDHHMMSS: 50..99 are 19xx (RFC 5280)
        year = int(text[:2])
        text = str(1900 + year if year >= 50 else 2000 + year) + text[2:]
    return float(calendar.timegm(time.strptime(text[:14], "%Y%m%d%H%M%S")))


def cert_not_after(der: bytes) -> float:
    """Unix time of a DER certificate's notAfter. Raises ValueError if unreadable."""
    try:
        _, cert, _ = _tlv(der, 0)              # Certificate SEQUENCE
        _, pos, _ = _tlv(der, cert)            # tbsCertificate SEQUENCE
        tag, _, end = _tlv(der, pos)
        if tag == 0xA0:                        # [0] version
            pos = end
        for _ in range(3):                     # serial, signature alg, issuer
            _, _, pos = _tlv(der, pos)
        _, validity, _ = _tlv(der, pos)
        _, _, after_start = _tlv(der, validity)    # skip notBefore
        tag, start, end = _tlv(der, after_start)
        return _parse_time(tag, der[start:end])
    except (IndexError, ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read the certificate's expiry: {exc}") from None
