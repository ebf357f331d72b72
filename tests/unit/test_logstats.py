"""Figures from log lines: levels and grouped messages, users' traffic without the suite's own requests."""

from __future__ import annotations

from opscheck.identity import PROBE_AGENT
from opscheck.judge.logstats import endpoint_of, level_summary, percentile_ms, traffic


def access(client: str, path: str, status: int, seconds: float, agent: str = "Mozilla/5.0") -> bytes:
    return (
        f'{client} - - [29/Nov/2026:08:00:00 +0000] "GET {path} HTTP/1.1" {status} 10 "-" "{agent}" {seconds}'.encode()
    )


def test_error_messages_are_grouped_with_their_numbers_folded():
    summary = level_summary([
        b"2026-11-29 08:00:00,001 ERROR api timeout after 3001 ms on 10.0.0.5",
        b"2026-11-29 08:05:00,001 ERROR api timeout after 2999 ms on 10.0.0.6",
        b"2026-11-29 08:06:00,001 INFO api ok",
    ])  # fmt: skip
    assert summary.counts == {"ERROR": 2, "INFO": 1}
    [(level, message, group)] = summary.top()
    assert (level, message, group.count) == ("ERROR", "timeout after # ms on #", 2)
    assert (group.first, group.last) == ("2026-11-29 08:00:00", "2026-11-29 08:05:00")


def test_traffic_leaves_out_the_suites_own_requests_and_groups_endpoints():
    figures = traffic([
        access("10.0.0.1", "/api/predictions/AAPL", 200, 0.1),
        access("10.0.0.2", "/api/predictions/MSFT", 503, 0.2),
        access("10.0.0.9", "/health", 200, 0.001, agent=f"{PROBE_AGENT}0.1.0"),
    ])  # fmt: skip
    assert figures.requests == 2 and figures.clients == {"10.0.0.1", "10.0.0.2"}
    assert figures.server_errors == 1 and figures.error_ratio() == 0.5
    assert figures.endpoints["GET /api/predictions/{param}"].requests == 2


def test_percentiles_are_within_a_bucket_of_the_truth():
    figures = traffic([access("10.0.0.1", "/", 200, ms / 1000) for ms in range(1, 1001)])
    p95 = figures.percentile_ms(0.95)
    assert p95 is not None and 950 <= p95 <= 950 * 1.1


def test_no_requests_no_percentile():
    assert percentile_ms([0, 0, 0], 0.95) is None


def test_parameters_of_a_path_are_folded_but_words_are_kept():
    assert endpoint_of("/api/stock_prices/AAPL") == "/api/stock_prices/{param}"
    assert endpoint_of("/api/users/42/sessions") == "/api/users/{param}/sessions"
    assert endpoint_of("/api/health") == "/api/health"
