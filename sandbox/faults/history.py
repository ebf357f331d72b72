"""Faults of the platform's recorded past: the access log's weeks and the suite's own month, rewritten."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sandbox import suite_history, traffic
from sandbox.faults.base import CRITICAL, ERROR, WARNING, Fault
from sandbox.faults.logs import _forget_log_size
from sandbox.shape import of
from sandbox.state import Sandbox, State

W1 = "checks/test_weekly_report.py"
SLA = "checks/test_sla.py"
M3 = "checks/test_capacity.py::test_capacity_lasts_past_the_horizon"


def _rewrite_traffic(slowdown: float = 1.0, server_error_rate: float = 0.0, days: int = traffic.HISTORY_DAYS):
    """The access log's history rewritten: a slow week, an erroring week, or a short history (heal: as at up)."""

    def change(sandbox: Sandbox, state: State) -> None:
        for old in sandbox.logs.glob("access.log.*"):
            old.unlink()
        traffic.write_history(sandbox.logs, end=datetime.now(UTC), days=days, slowdown=slowdown,
                              server_error_rate=server_error_rate, shape=of(state.shape))  # fmt: skip
        _forget_log_size(sandbox, "access.log")  # new: nothing of it to take back

    return change


def _rewrite_suite_history(**month: float) -> Callable[[Sandbox, State], None]:
    """The suite's recorded month, rewritten as a worse one (or, with nothing given, as the healthy one)."""

    def rewrite(sandbox: Sandbox, state: State) -> None:
        suite_history.write(sandbox.suite_history, datetime.now(UTC), suite_history.Month(**month))

    return rewrite


FAULTS: list[Fault] = [
    Fault("slow-week", "every request of the last two weeks 25 times slower", ("W1",),
          {}, _rewrite_traffic(slowdown=25), _rewrite_traffic(),
          also={"weekly": {f"{W1}::test_weekly_performance_report": WARNING}}),
    Fault("erroring-week", "8 % of the last two weeks' requests answered 503", ("W1",),
          {}, _rewrite_traffic(server_error_rate=0.08), _rewrite_traffic(),
          also={"weekly": {f"{W1}::test_weekly_performance_report": ERROR}}),
    Fault("short-access-history", "only five days of access log kept (logrotate's rotate 4)", ("W1",),
          {}, _rewrite_traffic(days=5), _rewrite_traffic(),
          also={"weekly": {f"{W1}::test_weekly_performance_report": WARNING}}),
    Fault("sla-availability-missed", "1 % of the month's requests answered 5xx (99.0 % against 99.9 %)", ("M2",),
          {}, _rewrite_suite_history(error_percent=1.0), _rewrite_suite_history(),
          also={"monthly": {f"{SLA}::test_availability_meets_the_sla": ERROR}}),
    Fault("sla-availability-collapsed", "3 % of the month's requests answered 5xx", ("M2",),
          {}, _rewrite_suite_history(error_percent=3.0), _rewrite_suite_history(),
          also={"monthly": {f"{SLA}::test_availability_meets_the_sla": CRITICAL}}),
    Fault("sla-latency-missed", "the month's daily p95 around 700 ms", ("M2",),
          {}, _rewrite_suite_history(p95_ms=700), _rewrite_suite_history(),
          also={"monthly": {f"{SLA}::test_latency_meets_the_sla": ERROR}}),
    Fault("health-checks-failing", "the API's health checks failed on the last three mornings", ("M2", "M1"),
          {}, _rewrite_suite_history(failed_health_days=3), _rewrite_suite_history(),
          also={"monthly": {f"{SLA}::test_health_checks_passed_over_the_month": ERROR}}),
    Fault("history-short", "the suite's record holds nine days (its reports folder was wiped)", ("M1", "M2", "M3"),
          {}, _rewrite_suite_history(days=9), _rewrite_suite_history(),
          also={"monthly": {f"{SLA}::*": WARNING, f"{M3}[*]": WARNING,
                            "checks/test_monthly_report.py::test_monthly_report_is_produced": WARNING}}),
    Fault("database-outgrowing", "the database grows 8 MB a day toward its 1 GB limit", ("M3",),
          {}, _rewrite_suite_history(database_mb=600, database_growth_mb_per_day=8), _rewrite_suite_history(),
          also={"monthly": {f"{M3}[database_size_mb]": WARNING}}),
]  # fmt: skip
