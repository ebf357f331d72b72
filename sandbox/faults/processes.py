"""Faults of the platform's processes: a service, Redis or PostgreSQL stopped."""

from __future__ import annotations

import time
from pathlib import Path

from sandbox import lifecycle, postgres
from sandbox.faults.base import (
    BACKUPS,
    BATCH,
    CACHE,
    CRITICAL,
    D11,
    DECLARED,
    ERROR,
    HEALTH,
    PERF,
    PG,
    WARNING,
    Fault,
    _stop,
)
from sandbox.faults.cache import _redis
from sandbox.state import Sandbox, State

T1 = "checks/test_processes.py"
OUTSIDE = "checks/test_outside.py::test_public_name_resolves_and_answers"
PROCESSES = f"{T1}::test_declared_processes_run*"  # a stopped process is its own finding, not a consequence
INTEGRITY = "checks/test_integrity.py"
STREAM_MAX_AGE_S = 5


def _stop_streaming(sandbox: Sandbox, state: State) -> None:
    """Stop the engine, then wait until its newest tick is older than the sandbox target's limit."""
    _stop("streaming")(sandbox, state)
    client = _redis(sandbox, state)
    deadline = time.monotonic() + STREAM_MAX_AGE_S + 5
    while time.monotonic() < deadline:
        newest = client.xrevrange("ticks", count=1)
        if not newest or time.time() - int(newest[0][0].split(b"-")[0]) / 1000 > STREAM_MAX_AGE_S + 0.5:
            return
        time.sleep(0.2)


def _stop_postgres(sandbox: Sandbox, state: State) -> None:
    """Stop the server with the prediction cache warm, as it is on a live system: cached answers keep coming."""
    lifecycle.warm_up(sandbox, state)
    postgres.stop(Path(state.pg_dir))


FAULTS: list[Fault] = [
    Fault("api-down", "the API process is killed", ("D1", "S1", "T1", "D6"),
          {f"{HEALTH}[api/health]": ERROR, f"{HEALTH}[api/api/health]": ERROR,
           f"{HEALTH}[ml_engine/api/ml/health]": ERROR, f"{HEALTH}[frontend/api/health]": ERROR,
           f"{T1}::*": ERROR, f"{PERF}::test_*_within_the_response_limit*": WARNING,
           "checks/test_predictions.py::test_ml_engine_model_is_freshly_trained": WARNING,
           f"{OUTSIDE}[https://localhost:*/health]": ERROR},
          _stop("api"), roots=("api",), independent=(PROCESSES,)),
    Fault("frontend-down", "the front-end process is killed while the API lives", ("D1", "S1", "T1", "T6"),
          {f"{HEALTH}[frontend/api/health]": ERROR, f"{T1}::*": ERROR, f"{OUTSIDE}[http://localhost:*/]": ERROR},
          _stop("frontend"), roots=("frontend",), independent=(PROCESSES,)),
    Fault("platform-down", "API and front end both killed: nothing answers users", ("D1",),
          {f"{HEALTH}[api/health]": ERROR, f"{HEALTH}[api/api/health]": ERROR,
           f"{HEALTH}[ml_engine/api/ml/health]": ERROR, f"{HEALTH}[frontend/api/health]": ERROR,
           "checks/test_health.py::test_platform_answers_its_users": CRITICAL, f"{T1}::*": ERROR,
           f"{PERF}::test_*_within_the_response_limit*": WARNING,
           "checks/test_predictions.py::test_ml_engine_model_is_freshly_trained": WARNING, f"{OUTSIDE}[*]": ERROR},
          _stop("api", "frontend"), roots=("api", "frontend"),
          independent=(PROCESSES, "checks/test_health.py::test_platform_answers_its_users")),  # its own conclusion
    Fault("streaming-stopped", "the streaming engine process is killed", ("D1", "T1"),
          {f"{HEALTH}[streaming_engine/health]": ERROR, f"{T1}::test_declared_processes_run[sandbox]": ERROR,
           f"{CACHE}::test_streaming_engine_ticks_are_fresh": ERROR}, _stop_streaming,
          on={"manual": {"daily": {f"{HEALTH}[streaming_engine/health]": ERROR,  # it keeps no stream to go stale
                                   f"{T1}::test_declared_processes_run[sandbox]": ERROR}}},
          roots=("streaming_engine",), independent=(PROCESSES, f"{CACHE}::test_streaming_engine_ticks_are_fresh")),
    Fault("monitoring-down", "the monitoring process is killed", ("D1", "T1", "D11"),
          {f"{HEALTH}[monitoring/health]": ERROR, f"{T1}::test_declared_processes_run[sandbox]": ERROR,
           f"{D11}[*]": WARNING}, _stop("monitoring"), roots=("monitoring",), independent=(PROCESSES,)),
    Fault("redis-down", "Redis is killed", ("D1", "T1", "P5"),
          {"checks/test_health.py::test_redis_answers": ERROR, f"{HEALTH}[api/api/health]": ERROR,
           f"{HEALTH}[streaming_engine/health]": ERROR, f"{T1}::test_declared_ports_listen[sandbox]": ERROR,
           f"{CACHE}::*": DECLARED, f"{PERF}::test_endpoint_answers_within_the_response_limit[/api/health]":
           WARNING},
          _stop("redis"), roots=("redis",),
          # the API scan says it could not judge while the API's own health fails, never "an attacker can repeat"
          also={"security": {"checks/test_api_scan.py::test_no_input_makes_the_api_fail": DECLARED,
                             "checks/test_api_scan.py::test_answers_match_the_api_schema": DECLARED,
                             "checks/test_privileges.py::test_redis_user_cannot_flush_or_reconfigure": DECLARED}}),
    Fault("pg-down", "PostgreSQL is stopped", ("T5", "D1", "D2", "D4", "D5", "D9", "P6", "T1"),
          {f"{PG}::*": DECLARED, f"{BATCH}::*": DECLARED, f"{INTEGRITY}::test_stock_prices_keep_the_rule[*]": DECLARED,
           # blocked at the reachability level: an unreachable database has not been found to have lost data
           f"{INTEGRITY}::test_stock_prices_did_not_shrink_since_the_last_backup": ERROR,
           "checks/test_predictions.py::test_prediction_accuracy_holds": WARNING,
           "checks/test_traffic.py::test_daily_statistics_report_is_produced": WARNING,
           f"{PERF}::test_application_pool_fits_under_max_connections": WARNING,
           f"{PERF}::test_endpoint_answers_within_the_response_limit[/api/stock_prices/AAPL]": WARNING,
           f"{PERF}::test_endpoint_answers_within_the_response_limit[/api/health]": WARNING,
           f"{T1}::test_declared_ports_listen[sandbox]": ERROR,
           f"{HEALTH}[api/api/health]": ERROR, f"{HEALTH}[ml_engine/api/ml/health]": ERROR,
           "checks/test_predictions.py::test_ml_engine_model_is_freshly_trained": WARNING,
           f"{BACKUPS}::test_dump_tool_is_not_older_than_the_server": ERROR},
          _stop_postgres, roots=("postgres",)),
]  # fmt: skip
