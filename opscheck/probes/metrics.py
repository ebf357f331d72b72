"""Resource history from a Prometheus-compatible query API (`/api/v1/query_range`), for D11's day-long view.

A host's load at 09:00 says nothing about the 14:00 peak; the monitoring system has been
sampling all day, so D11 asks it rather than sampling itself.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from urllib.parse import urlencode

from opscheck.errors import ProbeError
from opscheck.probes.http import HttpProbe


@dataclass(frozen=True)
class Series:
    """One resource of one host over a window: (unix time, value) at the query's step."""

    points: list[tuple[float, float]]
    start: float
    end: float
    step_s: int

    @property
    def coverage(self) -> float:
        """Share of the window's steps that hold a sample (gaps are where the monitoring saw nothing)."""
        expected = int((self.end - self.start) // self.step_s) + 1
        return min(1.0, len(self.points) / expected) if expected else 0.0

    def longest_gap_s(self) -> float:
        times = [self.start - self.step_s, *(t for t, _ in self.points), self.end + self.step_s]
        return max(b - a for a, b in itertools.pairwise(times)) - self.step_s

    def minutes_above(self, limit: float) -> float:
        return sum(1 for _, v in self.points if v > limit) * self.step_s / 60

    def peak(self) -> tuple[float, float]:
        """(time, value) of the highest sample."""
        return max(self.points, key=lambda p: p[1])

    def mean(self) -> float:
        return sum(v for _, v in self.points) / len(self.points)


class MetricsSource:
    def __init__(self, http: HttpProbe, url: str) -> None:
        self.http = http
        self.url = url

    def range(self, query: str, start: float, end: float, step_s: int) -> Series:
        """Evaluate `query` over [start, end]; it must give exactly one series (one host, one resource)."""
        params = urlencode({"query": query, "start": f"{start:.0f}", "end": f"{end:.0f}", "step": str(step_s)})
        endpoint = f"{self.url}/api/v1/query_range"
        try:
            answer = self.http.get(f"{endpoint}?{params}")
        except ProbeError as exc:  # one address for every query, so one outage reads as one cause
            raise ProbeError("metrics", endpoint, exc.cause) from None
        try:
            body = answer.json()
            if answer.status != 200 or body.get("status") != "success":
                raise ProbeError("metrics", self.url, f"HTTP {answer.status}: {body.get('error', 'query failed')}")
            result = body["data"]["result"]
        except (ValueError, KeyError, TypeError, AttributeError):
            raise ProbeError("metrics", self.url, f"HTTP {answer.status}, not a Prometheus query answer") from None
        if len(result) > 1:
            labels = ", ".join(str(r.get("metric")) for r in result[:3])
            raise ProbeError("metrics", self.url, f"{query!r} gives {len(result)} series, not one ({labels})")
        values = result[0]["values"] if result else []
        points = [(float(t), float(v)) for t, v in values if v not in ("NaN", "+Inf", "-Inf")]
        return Series(points, start, end, step_s)
