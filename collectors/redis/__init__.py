"""``kind: redis``: Redis INFO and latency in redis_exporter's names.

One round trip per poll: INFO all, CONFIG GET maxclients / databases,
SLOWLOG LEN / GET 1, LATENCY LATEST and (Redis 7+) LATENCY HISTOGRAM go in one
pipeline. Replies that are errors (a renamed CONFIG, LATENCY HISTOGRAM on
6.2) degrade that part only; an unreachable server fails the collection and
reports ``redis_up 0``.

Example::

    - name: cache
      kind: redis
      url: rediss://cache.internal:6380/0
      password: ${REDIS_PASSWORD}
      interval: 15s
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Literal

import redis
from pydantic import Field, model_validator
from redis.backoff import NoBackoff
from redis.retry import Retry

from collectors.base import Collector, CollectorError
from collectors.redis import latency
from collectors.redis.derived import Poll, derive
from collectors.redis.parse import number, parse_info
from collectors.redis.tables import info_samples
from core.durations import Duration
from core.samples import Sample
from core.targets import TargetBase

_URL_PW = re.compile(r"(://[^:/@]*):[^@/]*@")


class RedisTarget(TargetBase):
    kind: Literal["redis"] = "redis"
    url: str = Field("redis://127.0.0.1:6379/0", pattern=r"^(redis|rediss|unix)://",
                     description="redis://host:port/db, rediss:// for TLS, unix:///path/to/socket.")
    username: str | None = Field(None, description="ACL user (Redis 6+).")
    password: str | None = Field(None, description="Password; write `${REDIS_PASSWORD}`, never the value.")
    db: int | None = Field(None, ge=0, description="Database index; overrides the one in the URL.")
    socket_timeout: Duration | None = Field(None, description="Per-command timeout; default half the target timeout.")
    socket_connect_timeout: Duration | None = Field(
        None, description="Connect timeout; default half the target timeout.")
    tls_ca_file: str | None = Field(None, description="CA bundle for rediss:// (default: system CAs).")
    tls_verify: bool = Field(True, description="Verify the server certificate for rediss://.")
    latency_histogram: bool = Field(True, description="Ask LATENCY HISTOGRAM (Redis 7+) for interval percentiles.")

    @model_validator(mode="after")
    def _socket_timeouts_below_timeout(self) -> RedisTarget:
        limit = self.timeout if self.timeout is not None else min(10.0, self.interval * 0.8)
        for key in ("socket_timeout", "socket_connect_timeout"):
            value = getattr(self, key)
            if value is None:
                object.__setattr__(self, key, limit / 2)
            elif value >= limit:
                raise ValueError(f"{key} ({value:g}s) must be shorter than the target timeout ({limit:g}s)")
        return self


def safe_url(url: str) -> str:
    return _URL_PW.sub(r"\1:***@", url)


class RedisCollector(Collector):
    kind = "redis"
    up_metric = "redis_up"
    up_help = "1 if the Redis server could be scraped."

    def __init__(self, target: RedisTarget, **kw: Any) -> None:
        super().__init__(target, **kw)
        self.client: redis.Redis | None = None
        self._prev: Poll | None = None
        self._prev_hist: dict[str, latency.Histogram] | None = None
        self._histogram_supported: bool | None = None if target.latency_histogram else False
        self._histogram_reason = "disabled in config (latency_histogram: false)"

    def _connect(self) -> redis.Redis:
        t = self.target
        kw: dict[str, Any] = dict(
            username=t.username, password=t.password, socket_timeout=t.socket_timeout,
            socket_connect_timeout=t.socket_connect_timeout, decode_responses=True, protocol=2,
            client_name="lookout", retry=Retry(NoBackoff(), 0), health_check_interval=0,
        )
        if t.url.startswith("rediss://"):
            kw.update(ssl_ca_certs=t.tls_ca_file, ssl_cert_reqs="required" if t.tls_verify else "none",
                      ssl_check_hostname=t.tls_verify)
        client = redis.Redis.from_url(t.url, **kw)
        if t.db is not None:  # from_url lets the URL's /N win over a db= argument
            client.connection_pool.connection_kwargs["db"] = t.db
        client.set_response_callback("INFO", lambda raw, **_: raw)  # our parser tolerates anything
        return client

    def collect(self) -> Iterable[Sample]:
        if self.client is None:
            self.client = self._connect()
        ask_hist = self._histogram_supported is not False
        pipe = self.client.pipeline(transaction=False)
        pipe.execute_command("INFO", "all")
        pipe.execute_command("CONFIG", "GET", "maxclients")
        pipe.execute_command("CONFIG", "GET", "databases")
        pipe.execute_command("SLOWLOG", "LEN")
        pipe.execute_command("SLOWLOG", "GET", "1")
        pipe.execute_command("LATENCY", "LATEST")
        if ask_hist:
            pipe.execute_command("LATENCY", "HISTOGRAM")
        try:
            replies = pipe.execute(raise_on_error=False)
        except redis.AuthenticationError as exc:  # a ConnectionError subclass: test it first
            self.close()
            raise CollectorError(f"redis at {safe_url(self.target.url)}: {exc}", permanent=True) from None
        except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
            self.close()  # a fresh connection next time
            raise CollectorError(f"redis at {safe_url(self.target.url)}: {exc}") from None
        info_raw, maxclients_r, databases_r, slow_len, slow_last, latest = replies[:6]
        if isinstance(info_raw, Exception) or not isinstance(info_raw, str):
            raise CollectorError(f"redis at {safe_url(self.target.url)}: INFO failed: {info_raw}",
                                 permanent=isinstance(info_raw, redis.AuthenticationError))
        now = self.clock()
        info = parse_info(info_raw)
        flat = {k: v for sec in info.values() for k, v in sec.items()}
        maxclients = _config_value(maxclients_r) or number(flat.get("maxclients"))
        databases = int(_config_value(databases_r) or 16)  # redis_exporter's default too

        yield from info_samples(info, databases, now)
        if maxclients is not None:
            yield Sample("redis_config_maxclients", maxclients, help="The maxclients setting.")
        if (maxmemory := number(flat.get("maxmemory"))) is not None:
            yield Sample("redis_config_maxmemory", maxmemory, help="The maxmemory setting.")
        yield from latency.slowlog(slow_len, slow_last)
        yield from latency.latency_latest(latest)
        yield from self._histogram(replies[6] if ask_hist else None, flat.get("redis_version", "?"))

        poll = Poll(at=now, hits=number(flat.get("keyspace_hits")), misses=number(flat.get("keyspace_misses")),
                    commands=number(flat.get("total_commands_processed")), evicted=number(flat.get("evicted_keys")),
                    used_memory=number(flat.get("used_memory")), maxmemory=maxmemory,
                    clients=number(flat.get("connected_clients")), maxclients=maxclients)
        derived, doc = derive(self._prev, poll)
        self._prev = poll
        yield from derived
        self.documents["redis_derived"] = doc
        self.documents["redis_replication"] = _replication_doc(info.get("replication", {}))
        self.documents["redis_slowlog_last"] = latency.slow_command(slow_last)

    def _histogram(self, reply: Any, version: str) -> Iterable[Sample]:
        if isinstance(reply, redis.ResponseError) and self._histogram_supported is None:
            self._histogram_supported = False
            self._histogram_reason = f"LATENCY HISTOGRAM needs Redis 7.0+; server is {version} ({reply})"
        if self._histogram_supported is False or reply is None or isinstance(reply, Exception):
            self.documents["redis_latency_histogram"] = {"available": False, "reason": self._histogram_reason}
            return
        self._histogram_supported = True
        hist = latency.parse_histogram(reply)
        prev, self._prev_hist = self._prev_hist, hist
        doc: dict[str, object]
        if prev is None:
            doc = {"available": True, "percentiles": None, "reason": "first poll: percentiles need two polls"}
        else:
            pcts = latency.percentiles(latency.merged_delta(hist, prev))
            doc = {"available": True, "percentiles": {f"{q:g}": s for q, s in pcts.items()} or None}
            if not pcts:
                doc["reason"] = "no commands since the previous poll"
            yield from latency.histogram_samples(pcts)
        self.documents["redis_latency_histogram"] = doc


    def close(self) -> None:
        client, self.client = self.client, None
        if client is not None:
            client.close()
            client.connection_pool.disconnect()


def _config_value(reply: Any) -> float | None:
    # CONFIG GET in a pipeline comes back as a flat [name, value] list; an
    # error (CONFIG renamed on managed Redis) means "unknown".
    if isinstance(reply, list) and len(reply) >= 2:
        return number(str(reply[1]))
    return None


def _replication_doc(section: dict[str, str]) -> dict[str, Any]:
    doc: dict[str, Any] = {"role": section.get("role")}
    if "master_link_status" in section:
        doc.update(master_host=section.get("master_host"), master_port=section.get("master_port"),
                   link_status=section.get("master_link_status"),
                   last_io_seconds_ago=number(section.get("master_last_io_seconds_ago")))
    doc["replicas"] = [dict(p.split("=", 1) for p in v.split(",") if "=" in p)
                       for k, v in section.items() if re.fullmatch(r"slave\d+", k)]
    return doc
