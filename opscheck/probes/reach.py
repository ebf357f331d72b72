"""The preflight: every part of the platform reached once, concurrently, the whole bounded by one timeout.

Each part is asked the least that proves it answers in its own protocol — an HTTP answer of any status, a
PostgreSQL login begun without a password (the server asking for one is its answer), a Redis reply to PING
— so a silent listener that accepts TCP and never answers is down, as it is for every check that needs it.
"""

from __future__ import annotations

import math
import socket
import ssl
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

from opscheck.errors import ProbeError
from opscheck.probes.http import HttpProbe


@dataclass(frozen=True)
class Part:
    """One address to reach: `kind` says how (http, postgres, redis), `url` is what is asked for there."""

    kind: str
    address: str  # host:port, the key parts that share a process are reached under once
    url: str


def reach(parts: list[Part], timeout_s: float, ca_bundle: Path | None = None) -> dict[str, str]:
    """address → why it is down, for each part that did not answer within `timeout_s`; the others are absent."""
    unique = {part.address: part for part in parts}
    if not unique:
        return {}
    pool = ThreadPoolExecutor(max_workers=len(unique), thread_name_prefix="opscheck-preflight")
    futures = {pool.submit(_reach_one, part, timeout_s, ca_bundle): address for address, part in unique.items()}
    wait(futures, timeout=timeout_s + 0.5)  # each is bounded by its own timeout; this bounds them all
    pool.shutdown(wait=False, cancel_futures=True)
    down = {}
    for future, address in futures.items():
        if not future.done():
            down[address] = f"no answer within {timeout_s:g} s"
        elif future.result() is not None:
            down[address] = future.result()
    return down


def _reach_one(part: Part, timeout_s: float, ca_bundle: Path | None) -> str | None:
    try:
        if part.kind == "http":
            probe = HttpProbe("preflight", timeout_s, ca_bundle)
            try:
                probe.get(part.url)
            finally:
                probe.close()
            return None
        if part.kind == "postgres":
            return _ping_postgres(part.url, timeout_s)
        host, port = part.address.rsplit(":", 1)
        return _ping_redis(host, int(port), timeout_s, tls=part.url.startswith("rediss://"))
    except ProbeError as exc:
        return exc.cause
    except OSError as exc:
        return _os_cause(exc, timeout_s)


def _ping_postgres(url: str, timeout_s: float) -> str | None:
    """Start a login without a password, as psql does before it prompts: the server asking for one proves it
    answers; a server that trusts the role lets the session open, and it is closed at once."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout_s):
        pass  # refused or unroutable is said plainly
    try:
        psycopg.connect(
            host=parts.hostname, port=parts.port, user=parts.username, dbname=parts.path.lstrip("/"),
            connect_timeout=max(2, math.ceil(timeout_s)),  # libpq: whole seconds, with a floor of 2
        ).close()  # fmt: skip
    except psycopg.errors.ConnectionTimeout:
        return f"no PostgreSQL answer within {timeout_s:g} s"
    except psycopg.OperationalError as exc:
        if exc.sqlstate == "57P03":
            return "the server is up but rejects connections (starting, stopping or in recovery)"
        if exc.sqlstate is None and "fe_sendauth" not in str(exc):
            return " ".join(str(exc).split())
    return None


def _ping_redis(host: str, port: int, timeout_s: float, tls: bool) -> str | None:
    with socket.create_connection((host, port), timeout=timeout_s) as raw:
        sock = ssl.create_default_context().wrap_socket(raw, server_hostname=host) if tls else raw
        sock.sendall(b"PING\r\n")
        first = sock.recv(1)
    if first in (b"+", b"-"):  # PONG, or NOAUTH: Redis answers either way
        return None
    return "the port answers, but not as Redis" if first else "closed the connection without answering"


def _os_cause(exc: OSError, timeout_s: float) -> str:
    if isinstance(exc, TimeoutError | socket.timeout):
        return f"no answer within {timeout_s:g} s"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    return " ".join((exc.strerror or str(exc) or type(exc).__name__).split())


def address_of(url: str, default_port: int) -> str:
    """host:port of a URL, the port its scheme implies when it names none."""
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme, default_port)
    return f"{parts.hostname}:{port}"
