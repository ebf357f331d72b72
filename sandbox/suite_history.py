"""The suite's own history as a month of scheduled runs would have left it: a daily run every morning,
a weekly one (with its restore drill) every Sunday, each a summary.json in its run folder.

The monthly checks (M1-M3) read these back exactly as they read a real deployment's reports folder;
faults rewrite them with a worse month (errors, latency, failed health checks, fast growth, a short record).
"""

from __future__ import annotations

import json
import random
import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sandbox import traffic

COMPONENTS = ["api/health", "api/api/health", "frontend/api/health", "ml_engine/api/ml/health",
              "streaming_engine/health", "monitoring/health"]  # fmt: skip
DAILY_AT = timedelta(hours=6)  # the morning run, 06:00 UTC


@dataclass(frozen=True)
class Month:
    """What the generated month looks like; the defaults are a healthy one."""

    days: int = 35
    error_percent: float = 0.02  # share of each day's requests answered 5xx
    p95_ms: float = 180.0
    failed_health_days: int = 0  # the most recent days on which the API's health check failed
    database_mb: float = 9.0  # the oldest day's database size
    database_growth_mb_per_day: float = 0.02


def write(folder: Path, end: datetime, month: Month = Month(), seed: int = 7) -> None:
    """Replace `folder`'s run records with `month.days` days of generated ones ending at `end`."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    rng = random.Random(seed)
    first = (end - timedelta(days=month.days)).replace(hour=0, minute=0, second=0, microsecond=0)
    for n in range(month.days):
        moment = first + timedelta(days=n + 1) + DAILY_AT
        if moment > end:
            break
        age_days = (end - moment).days
        requests = sum(traffic.requests_per_hour(moment - timedelta(hours=h)) for h in range(24))
        requests = round(requests * rng.uniform(0.95, 1.05))
        figures = {
            "requests": requests,
            "error_ratio_percent": round(month.error_percent * rng.uniform(0.9, 1.1), 3),
            "latency_p95_ms": round(month.p95_ms * rng.uniform(0.9, 1.1), 1),
            "database_size_mb": round(month.database_mb + n * month.database_growth_mb_per_day, 2),
            "disk_used_percent": 31 + rng.randint(0, 2),
        }
        healthy = age_days >= month.failed_health_days
        _write_run(folder, moment, "daily", _daily_checks(figures, healthy))
        if moment.weekday() == 6:
            _write_run(folder, moment + timedelta(hours=1), "weekly", _drill_checks(rng))


def _check(nodeid: str, items: list[str], level: str, measured: dict | None = None, passed: bool = True) -> dict:
    check = {"nodeid": nodeid, "outcome": "passed" if passed else "failed", "duration_s": 0.05,
             "message": "" if passed else "api: /health answered 503", "level": level, "checklist": items}  # fmt: skip
    if not passed:
        check["failed_level"] = level
    if measured:
        check["measured"] = measured
    return check


def _daily_checks(figures: dict, healthy: bool) -> list[dict]:
    health = [_check(f"checks/test_health.py::test_component_reports_healthy[{c}]", ["D1"], "error",
                     passed=healthy or not c.startswith("api/")) for c in COMPONENTS]  # fmt: skip
    traffic_figures = {k: figures[k] for k in ("requests", "error_ratio_percent", "latency_p95_ms")}
    return [
        *health,
        _check("checks/test_backups.py::test_latest_backup_is_fresh[daily]", ["D5", "B1"], "error"),
        _check("checks/test_traffic.py::test_daily_statistics_report_is_produced", ["D10"], "warning",
               traffic_figures),
        _check("checks/test_postgres.py::test_postgres_accepts_connections", ["T5"], "error",
               {"database_size_mb": figures["database_size_mb"]}),
        _check("checks/test_resources.py::test_disks_have_room[sandbox]", ["T3"], "warning",
               {"disk_used_percent": figures["disk_used_percent"]}),
    ]  # fmt: skip


def _drill_checks(rng: random.Random) -> list[dict]:
    return [_check("checks/test_drill.py::test_latest_dump_restores", ["W5", "MM3"], "critical",
                   {"restore_s": round(rng.uniform(2, 4), 2)})]  # fmt: skip


def _write_run(folder: Path, moment: datetime, selection: str, checks: list[dict]) -> None:
    run_id = f"{moment:%Y%m%dT%H%M%SZ}-sandbox-{selection}"
    failed = [c for c in checks if c["outcome"] == "failed"]
    summary = {
        "schema": "opscheck.summary/1",
        "run_id": run_id,
        "target": "sandbox",
        "target_file": None,
        "selection": selection,
        "fail_on": "error",
        "started": (moment - timedelta(seconds=10)).isoformat(),
        "finished": moment.isoformat(),
        "exit_status": 1 if failed else 0,
        "totals": {"passed": len(checks) - len(failed), **({"failed": len(failed)} if failed else {})},
        "failed_by_level": {"error": len(failed)} if failed else {},
        "checks": checks,
    }
    (folder / run_id).mkdir()
    (folder / run_id / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
