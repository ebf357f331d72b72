"""Figures drawn from log lines in one pass and bounded memory: levels and messages, traffic and latency."""

from __future__ import annotations

import bisect
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from opscheck.identity import NOT_USERS
from opscheck.judge import accessbulk
from opscheck.judge.logformats import AccessFormat, AppFormat

DEFAULT_ACCESS = AccessFormat.of()
DEFAULT_APP = AppFormat.of()
VARIABLE = re.compile(r"\d+(\.\d+)*|0x[0-9a-f]+|[0-9a-f]{16,}", re.IGNORECASE)
PARAMETER = re.compile(r"^[A-Z0-9][A-Z0-9._-]*$|^\d+$")
# Latency buckets: 1 ms to 60 s, about 10 % apart, so percentiles are within 10 % at fixed memory.
BUCKETS_MS = [round(1.1**i, 3) for i in range(116)]


@dataclass
class MessageGroup:
    count: int = 0
    first: str = ""
    last: str = ""


@dataclass
class LevelSummary:
    """Lines by level, and the ERROR/CRITICAL messages grouped (numbers folded) with first/last time."""

    counts: Counter[str] = field(default_factory=Counter)
    messages: dict[tuple[str, str], MessageGroup] = field(default_factory=dict)

    def top(self, n: int = 5) -> list[tuple[str, str, MessageGroup]]:
        ranked = sorted(self.messages.items(), key=lambda item: -item[1].count)[:n]
        return [(level, message, group) for (level, message), group in ranked]


def level_summary(lines: Iterable[bytes], form: AppFormat = DEFAULT_APP) -> LevelSummary:
    """Lines by level, for the application log's format (the manual's by default)."""
    summary = LevelSummary()
    for line in lines:
        entry = form.entry(line)
        if entry is None:
            continue
        summary.counts[entry.level] += 1
        if entry.level in ("ERROR", "CRITICAL"):
            message = VARIABLE.sub("#", entry.message)
            group = summary.messages.setdefault((entry.level, message), MessageGroup())
            group.count += 1
            group.first = group.first or entry.stamp
            group.last = entry.stamp
    return summary


@lru_cache(maxsize=65536)
def endpoint_of(path: str) -> str:
    """/api/predictions/AAPL → /api/predictions/{param}, so volumes group by endpoint, not by symbol."""
    return "/".join("{param}" if PARAMETER.match(seg) else seg for seg in path.split("/"))


def percentile_ms(histogram: list[int], fraction: float) -> float | None:
    """The latency below which `fraction` of requests fell (upper bound of its bucket)."""
    total = sum(histogram)
    if not total:
        return None
    rank, seen = fraction * total, 0
    for index, count in enumerate(histogram):
        seen += count
        if seen >= rank:
            return BUCKETS_MS[index] if index < len(BUCKETS_MS) else float("inf")
    return None


@dataclass
class EndpointTraffic:
    requests: int = 0
    client_errors: int = 0
    server_errors: int = 0
    latency_histogram: list[int] = field(default_factory=lambda: [0] * (len(BUCKETS_MS) + 1))

    def percentile_ms(self, fraction: float) -> float | None:
        return percentile_ms(self.latency_histogram, fraction)


@dataclass
class Traffic:
    requests: int = 0
    clients: set[str] = field(default_factory=set)
    per_client: Counter[str] = field(default_factory=Counter)  # requests per client: the manual's awk | sort | uniq
    statuses: Counter[int] = field(default_factory=Counter)
    endpoints: dict[str, EndpointTraffic] = field(default_factory=dict)
    latency_histogram: list[int] = field(default_factory=lambda: [0] * (len(BUCKETS_MS) + 1))
    hourly: Counter[int] = field(default_factory=Counter)  # requests per hour (epoch hour)

    @property
    def server_errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if status >= 500)

    def error_ratio(self) -> float:
        return self.server_errors / self.requests if self.requests else 0.0

    def percentile_ms(self, fraction: float) -> float | None:
        return percentile_ms(self.latency_histogram, fraction)


def merged(parts: Iterable[Traffic]) -> Traffic:
    """The traffic of consecutive windows as one (a week from its days): counts and histograms added up."""
    whole = Traffic()
    for part in parts:
        whole.requests += part.requests
        whole.clients |= part.clients
        whole.per_client.update(part.per_client)
        whole.statuses.update(part.statuses)
        whole.hourly.update(part.hourly)
        _add_histogram(whole.latency_histogram, part.latency_histogram)
        for name, endpoint in part.endpoints.items():
            into = whole.endpoints.setdefault(name, EndpointTraffic())
            into.requests += endpoint.requests
            into.client_errors += endpoint.client_errors
            into.server_errors += endpoint.server_errors
            _add_histogram(into.latency_histogram, endpoint.latency_histogram)
    return whole


def _add_histogram(into: list[int], part: list[int]) -> None:
    for index, count in enumerate(part):
        into[index] += count


# Traffic figures leave the suite's own requests out (the security checks do not: an agent is easy to spoof;
# they trust addresses).


def traffic(
    lines: Iterable[bytes], form: AccessFormat = DEFAULT_ACCESS, leave_out: frozenset[str] = frozenset()
) -> Traffic:
    """Users' traffic: the suite's own requests are left out, or its load runs would read as a traffic spike;
    and the clients in `leave_out` (the site's own monitoring, where user activity is what is asked)."""
    figures = Traffic()
    _add_lines(figures, lines, form, leave_out)
    return figures


def traffic_in(
    chunks: Iterable[bytes],
    form: AccessFormat = DEFAULT_ACCESS,
    leave_out: frozenset[str] = frozenset(),
    least: int = accessbulk.LEAST,
) -> Traffic:
    """`traffic` of a log read as chunks (`LogFile.chunks`): the manual's format parsed in bulk, on every core;
    any other format, any chunk under `least` bytes and any the bulk parse refuses, line by line."""
    return traffic_by(((0, chunk) for chunk in chunks), 1, form, leave_out, least)[0]


def traffic_by(
    pieces: Iterable[tuple[int, bytes]],
    windows: int,
    form: AccessFormat = DEFAULT_ACCESS,
    leave_out: frozenset[str] = frozenset(),
    least: int = accessbulk.LEAST,
) -> list[Traffic]:
    """`traffic_in` of each of several windows read in one pass (`LogFile.windows`: chunks tagged with their
    window's index): the log read once however many windows it is split into."""
    figures = [Traffic() for _ in range(windows)]
    if form.regex is not None:
        for window, chunk in pieces:
            _add_lines(figures[window], chunk.split(b"\n"), form, leave_out)
        return figures
    for window, found in accessbulk.grouped(pieces, KEYS, NOT_USERS, leave_out, least):
        if isinstance(found, bytes):
            _add_lines(figures[window], found.split(b"\n"), form, leave_out)
        else:
            _add_groups(figures[window], found)
    return figures


def _add_groups(figures: Traffic, found: accessbulk.Groups) -> None:
    figures.clients.update(found.clients)
    figures.per_client.update(found.clients)
    for hour, count in found.hours:
        figures.hourly[hour] += count
    for endpoint, status, bucket, count in found.requests:
        _tally(figures, endpoint, status, bucket, count)


def _add_lines(figures: Traffic, lines: Iterable[bytes], form: AccessFormat, leave_out: frozenset[str]) -> None:
    for line in lines:
        record = form.parse(line)
        if record is None or record.agent.startswith(NOT_USERS) or record.client in leave_out:
            continue
        figures.clients.add(record.client)
        figures.per_client[record.client] += 1
        figures.hourly[int(record.time // 3600)] += 1
        _tally(figures, endpoint_name(record.method, record.path), record.status, bucket_of(record.request_time), 1)


def endpoint_name(method: str, path: str) -> str:
    """What a request's volume and latency are counted under: `GET /api/predictions/{param}`."""
    return f"{method} {endpoint_of(path)}"


def bucket_of(seconds: float | None) -> int | None:
    """The latency bucket of a `$request_time` (None: not logged)."""
    return None if seconds is None else bisect.bisect_left(BUCKETS_MS, seconds * 1000)


KEYS = accessbulk.Keys(endpoint_name, bucket_of)


def _tally(figures: Traffic, name: str, status: int, bucket: int | None, count: int) -> None:
    """`count` requests of one endpoint, status and latency bucket (None: not logged), whichever way they were
    read."""
    figures.requests += count
    figures.statuses[status] += count
    endpoint = figures.endpoints.setdefault(name, EndpointTraffic())
    endpoint.requests += count
    if status >= 500:
        endpoint.server_errors += count
    elif status >= 400:
        endpoint.client_errors += count
    if bucket is not None:
        figures.latency_histogram[bucket] += count
        endpoint.latency_histogram[bucket] += count
