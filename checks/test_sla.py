"""M2 — SLA 達成状況: the month's availability and latency against what the platform promises.

Read back from the suite's own daily runs (each recorded the day's requests, 5xx ratio and p95 in
D10, and its component health checks in D1), so a month is judged whole, not from one morning.
"""

import statistics

import pytest

from opscheck.judge.levels import Level, fail_at

pytestmark = [pytest.mark.monthly]


def _enough(month, spec) -> None:
    missing = month.shortfall(spec.history.min_days, "the month's SLA")
    if missing:
        fail_at(Level.WARNING, missing)


@pytest.mark.checklist("M2")
@pytest.mark.level("error")
def test_availability_meets_the_sla(recorded_month, target, measured):
    """Share of the month's requests answered without a 5xx, from each day's D10 figures."""
    _enough(recorded_month, target.spec)
    sla = target.spec.sla
    availability, errors, requests = recorded_month.availability()
    assert availability is not None, (
        f"no daily run in {recorded_month.reports} recorded its traffic (D10): cannot tell availability. "
        "Manual: keep D10 in the daily run"
    )
    measured("availability_percent", round(availability, 3))
    days = [(t, f) for t, f in recorded_month.daily_figures() if "error_ratio_percent" in f]
    worst = sorted(days, key=lambda d: -d[1]["error_ratio_percent"])[:3]
    found = (
        f"the month's availability is {availability:.3f} % ({errors:,.0f} of {requests:,} requests answered 5xx over "
        f"{len(days)} days; SLA {sla.availability_percent:g} %). Worst days: "
        + ", ".join(f"{t:%m-%d} {f['error_ratio_percent']:g} %" for t, f in worst)
    )
    if availability < sla.availability_percent - sla.critical_miss_points:
        fail_at(
            Level.CRITICAL,
            f"{found}. Manual (M2): the SLA is badly missed; tell the service owner today, find the cause",
        )
    assert availability >= sla.availability_percent, f"{found}. Manual (M2): the SLA is missed; report it"


@pytest.mark.checklist("M2", "D1")
@pytest.mark.level("error")
def test_health_checks_passed_over_the_month(recorded_month, target, measured):
    """Share of the daily runs' component health checks (D1) that passed."""
    _enough(recorded_month, target.spec)
    results = recorded_month.checks("D1")
    assert results, (
        f"no daily run in {recorded_month.reports} recorded a health check (D1). Manual: keep D1 in the daily run"
    )
    failed = [(t, c) for t, c in results if c.get("outcome") != "passed"]
    share = 100 * (1 - len(failed) / len(results))
    measured("health_checks_percent", round(share, 2))
    assert share >= target.spec.sla.health_checks_percent, (
        f"{len(failed)} of {len(results)} health checks failed this month ({share:.1f} % passed; at least "
        f"{target.spec.sla.health_checks_percent:g} %): "
        + ", ".join(f"{t:%m-%d} {c['nodeid'].split('[')[-1].rstrip(']')}" for t, c in failed[:6])
        + ". Manual (M2): report it with the month's SLA; find what kept failing in those days' runs"
    )


@pytest.mark.checklist("M2")
@pytest.mark.level("error")
def test_latency_meets_the_sla(recorded_month, target, measured):
    """The month's typical day: the median of the daily p95 latencies, against the SLA's p95."""
    _enough(recorded_month, target.spec)
    limit = target.spec.sla.latency_p95_ms
    p95 = recorded_month.series("latency_p95_ms")
    assert p95, f"no daily run in {recorded_month.reports} recorded its p95 latency (D10)"
    typical = statistics.median(v for _, v in p95)
    measured("latency_p95_median_ms", round(typical, 1))
    over = [(t, v) for t, v in p95 if v > limit]
    assert typical <= limit, (
        f"the month's median daily p95 is {typical:.0f} ms (SLA {limit:g} ms); {len(over)} of {len(p95)} days over: "
        + ", ".join(f"{t:%m-%d} {v:.0f} ms" for t, v in over[:6])
        + ". Manual (M2, P7): find the slow endpoint in the weekly reports (W1)"
    )
