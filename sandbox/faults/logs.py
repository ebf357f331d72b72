"""Faults of the logs: application and access lines written just now, a log gone, rotation that
misses a log; and the log sizes `inject` records first so `heal` takes back what faults wrote."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sandbox import traffic
from sandbox.faults.base import DECLARED, ERROR, SECURITY_LOGS, WARNING, Fault, _put_back, _set_aside
from sandbox.shape import of
from sandbox.state import Sandbox, State, atomic_write


def _app_line(state: State, level: str, logger: str, message: str) -> str:
    """An application-log line written just now, as the sandbox's shape writes its lines."""
    return of(state.shape).app_line(datetime.now(UTC), level, logger, message)


def _append_app_lines(log: str, level: str, message: str, count: int) -> Callable[[Sandbox, State], None]:
    def inject(sandbox: Sandbox, state: State) -> None:
        with open(sandbox.logs / log, "a", encoding="utf-8") as out:
            out.writelines(_app_line(state, level, "miraikakaku", message) for _ in range(count))

    return inject


def _append_requests(status: int, count: int, clients: int, seconds: float = 0.01) -> Callable[[Sandbox, State], None]:
    def inject(sandbox: Sandbox, state: State) -> None:
        now = datetime.now(UTC)
        lines = [
            traffic.access_line(
                of(state.shape),
                f"203.0.113.{200 + i % clients}",
                now,
                "GET",
                "/api/predictions/AAPL",
                status,
                64,
                seconds,
            )
            for i in range(count)
        ]
        with open(sandbox.logs / "access.log", "a", encoding="utf-8") as out:
            out.writelines(lines)

    return inject


def _narrow_logrotate(narrow: bool) -> Callable[[Sandbox, State], None]:
    """The logrotate file names the API's logs one by one, and the front end's was forgotten (or put back)."""
    patterns = ("/*.log {", "/api.log {") if narrow else ("/api.log {", "/*.log {")

    def change(sandbox: Sandbox, state: State) -> None:
        config = sandbox.config_dir / "logrotate.conf"
        config.write_text(config.read_text().replace(*patterns))

    return change


def _grow_frontend_log(sandbox: Sandbox, state: State) -> None:
    """A front-end log that nothing rotates: 21 MB of the same warning (the sandbox's limit is 20 MB)."""
    line = _app_line(state, "WARNING", "frontend", "render slow, falling back to client-side rendering")
    with open(sandbox.logs / "frontend.log", "a", encoding="utf-8") as log:
        log.write(line * (21 * 2**20 // len(line) + 1))


def _log_sizes_file(sandbox: Sandbox) -> Path:
    return sandbox.root / "faults-logs.json"


def _remember_log_sizes(sandbox: Sandbox) -> None:
    """Before the first fault: how long every log is, so heal can take back what faults made them say."""
    if not _log_sizes_file(sandbox).exists():
        sizes = {p.name: p.stat().st_size for p in sandbox.logs.glob("*.log")}  # the live logs, not rotations
        atomic_write(_log_sizes_file(sandbox), json.dumps(sizes))


def _forget_log_size(sandbox: Sandbox, name: str) -> None:
    """A log written anew (its history rewritten): heal has nothing of it to take back; the other logs' sizes stay,
    for the faults injected with it."""
    try:
        sizes = json.loads(_log_sizes_file(sandbox).read_text())
    except OSError:
        return
    sizes.pop(name, None)
    atomic_write(_log_sizes_file(sandbox), json.dumps(sizes))


def _truncate_logs(sandbox: Sandbox) -> None:
    try:
        sizes = json.loads(_log_sizes_file(sandbox).read_text())
    except OSError:
        return
    for name, size in sizes.items():
        log = sandbox.logs / name
        if log.is_file() and log.stat().st_size > size:
            with open(log, "r+b") as handle:
                handle.truncate(size)
    _log_sizes_file(sandbox).unlink()


FAULTS: list[Fault] = [
    Fault("error-burst", "40 'database connection error' lines in api.log just now", ("D3",),
          {"checks/test_logs.py::test_log_errors_within_limits[app]": WARNING},
          _append_app_lines("api.log", "ERROR", "database connection error: OperationalError", 40)),
    Fault("error-flood", "200 'database connection error' lines in api.log just now: ten times D3's limit", ("D3",),
          {"checks/test_logs.py::test_log_errors_within_limits[app]": ERROR},
          _append_app_lines("api.log", "ERROR", "database connection error: OperationalError", 200)),
    Fault("critical-log-line", "a CRITICAL line in frontend.log", ("D3",),
          {"checks/test_logs.py::test_log_errors_within_limits[frontend]": ERROR},
          _append_app_lines("frontend.log", "CRITICAL", "render worker pool exhausted; serving 503", 1)),
    Fault("5xx-burst", "120 requests to /api/predictions answered 500 just now", ("D8",),
          {"checks/test_traffic.py::test_api_error_ratio_under_limit": ERROR}, _append_requests(500, 120, 20)),
    Fault("slow-day", "800 requests of the day answered in 1.2 s (the logged p95 past 500 ms)", ("D6", "D10"),
          {"checks/test_traffic.py::test_days_logged_latency_within_the_response_limit": WARNING},
          _append_requests(200, 800, 80, seconds=1.2)),
    Fault("traffic-spike", "3000 requests from 300 clients in the last minute", ("D7",),
          {"checks/test_traffic.py::test_user_activity_within_its_normal_band[*]": WARNING},
          _append_requests(200, 3000, 300)),
    Fault("access-log-missing", "access logging broken: the log and its rotations gone, nothing written",
          ("T2", "D7", "D8", "D10", "X1", "X2", "X3"),
          {"checks/test_logs.py::test_log_is_present_and_being_written[access]": WARNING,
           "checks/test_traffic.py::*": DECLARED, f"{SECURITY_LOGS}::*": DECLARED},
          _set_aside("access-log", lambda sb: list(sb.logs.glob("access.log*"))),
          _put_back("access-log", lambda sb: sb.logs)),
    Fault("logrotate-misses-logs", "logrotate's configuration names api.log only", ("W7",),
          {}, _narrow_logrotate(True), _narrow_logrotate(False),
          also={"weekly": {"checks/test_log_rotation.py::test_logrotate_covers_every_log[sandbox]": WARNING}}),
    Fault("log-unrotated-huge", "frontend.log grown to 21 MB past its 20 MB limit", ("W7", "W6"),
          {}, _grow_frontend_log,
          also={"weekly": {"checks/test_log_rotation.py::test_no_log_grows_past_its_limit": WARNING}}),
]  # fmt: skip
