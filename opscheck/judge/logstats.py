"""Figures drawn from log lines in one pass and bounded memory: levels and messages, traffic and latency."""

from __future__ import annotations

import bisect
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from opscheck.identity import NOT_USERS
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


# Traffic figures leave the suite's own requests out (the security checks do not: an agent is easy to spoof;
# they trust addresses).


def traffic(
    lines: Iterable[bytes], form: AccessFormat = DEFAULT_ACCESS, leave_out: frozenset[str] = frozenset()
) -> Traffic:
    """Users' traffic: the suite's own requests are left out, or its load runs would read as a traffic spike;
    and the clients in `leave_out` (the site's own monitoring, where user activity is what is asked)."""
    figures = Traffic()
    for line in lines:
        record = form.parse(line)
        if record is None or record.agent.startswith(NOT_USERS) or record.client in leave_out:
            continue
        figures.requests += 1
        figures.clients.add(record.client)
        figures.statuses[record.status] += 1
        figures.hourly[int(record.time // 3600)] += 1
        endpoint = figures.endpoints.setdefault(f"{record.method} {endpoint_of(record.path)}", EndpointTraffic())
        endpoint.requests += 1
        if record.status >= 500:
            endpoint.server_errors += 1
        elif record.status >= 400:
            endpoint.client_errors += 1
        if record.request_time is not None:
            bucket = bisect.bisect_left(BUCKETS_MS, record.request_time * 1000)
            figures.latency_histogram[bucket] += 1
            endpoint.latency_histogram[bucket] += 1
    return figures


def clients_and_statuses(blocks: Iterable[list[bytes]]) -> tuple[Counter[bytes], Counter[bytes]]:
    """Requests per client address and per status: the manual's `awk '{print $1}' | sort | uniq -c`, in one pass.

    Works a block of lines at a time so the counting loops run inside Counter.update (C), not in Python.
    """
    clients: Counter[bytes] = Counter()
    statuses: Counter[bytes] = Counter()
    for block in blocks:
        clients.update([line.partition(b" ")[0] for line in block])
        statuses.update([line.split(b'"', 3)[2][1:4] for line in block if line.count(b'"') >= 2])
    return clients, statuses
