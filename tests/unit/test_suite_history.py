"""Which recorded run is the week's load run (W1 reads it back from the suite's history)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from opscheck.record.suite_history import latest_running

WEEK_AGO = datetime(2026, 11, 29, tzinfo=UTC)


def _run(run_id: str, day: int, selection: str, *nodeids: str) -> dict:
    finished = (WEEK_AGO + timedelta(days=day)).isoformat()
    return {"run_id": run_id, "finished": finished, "selection": selection, "checks": [{"nodeid": n} for n in nodeids]}


def test_the_last_run_with_load_thresholds_is_the_weeks_load_run_whatever_its_selection():
    threshold = "checks/test_load.py::test_load_threshold[overall-p95_ms]"
    recorded = [
        _run("old", -1, "load", threshold),
        _run("marked", 2, "load", threshold),
        _run("whole", 4, "", threshold, "checks/test_health.py::test_component_reports_healthy[api]"),
        _run("not-load", 5, "daily and not load", "checks/test_health.py::test_component_reports_healthy[api]"),
    ]
    assert latest_running(recorded, "test_load_threshold", WEEK_AGO)["run_id"] == "whole"
    assert latest_running(recorded[:2], "test_load_threshold", WEEK_AGO)["run_id"] == "marked"
    assert latest_running(recorded[:1], "test_load_threshold", WEEK_AGO) is None, "older than the week"
