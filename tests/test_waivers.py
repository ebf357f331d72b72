"""Waivers: an item's known failure, waived in the audit chain, shows as WAIVED and does not fail the run; a waiver
that does not cover every item of a check, or has expired, does not apply, and the run says so."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta

from opscheck.record import audit
from tests.conftest import REPO, faulted

STALE = "checks/test_backups.py::test_latest_backup_is_fresh[daily]"


def waive(reports, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "opscheck.cli", "waive", *args, "--reports-dir", str(reports)]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, env=dict(os.environ), timeout=60)


def test_a_waived_failure_shows_as_waived_and_does_not_fail_the_run(platform, run_checks, tmp_path):
    reports = tmp_path / "reports"
    until = (date.today() + timedelta(days=4)).isoformat()
    with faulted(platform, "backup-stale"):
        assert (
            waive(reports, "d5", "--until", until, "--why", "job moving hosts (CHG-1)", "--by", "Tanaka").returncode
            == 0
        )
        partly = run_checks("-m", "daily", "--item", "D5")
        assert partly.returncode == 1 and partly.failed() == {STALE: "error"}, "B1 is not waived: it still fails"
        assert waive(reports, "B1", "--until", until, "--why", "same move", "--by", "Tanaka").returncode == 0
        run = run_checks("-m", "daily", "--item", "D5")
    assert run.returncode == 0, run.output
    assert f"WAIVED [D5 B1] {STALE}: D5 waived until {until} by Tanaka: job moving hosts (CHG-1)" in run.output
    entry = next(c for c in run.summary["checks"] if c["nodeid"] == STALE)
    assert entry["outcome"] == "waived" and entry["failed_level"] == "error" and "limit 26 h" in entry["message"]
    assert run.summary["failed_by_level"] == {} and run.summary["totals"]["waived"] == 1
    assert (
        run.summary["items"] == "D5"
        and f"D5 waived until {until} by Tanaka: job moving hosts (CHG-1)" in (run.summary["waivers"])
    )
    assert "<h2>Waivers</h2>" in (run.run_dir / "report.html").read_text()
    assert audit.verify(reports)[1] == [], "waivers are chain records like any other"


def test_an_expired_waiver_stops_applying_and_says_so(platform, run_checks, tmp_path):
    reports = tmp_path / "reports"
    yesterday = date.today() - timedelta(days=2)
    for item in ("D5", "B1"):
        audit.waive(reports, item, yesterday, "was moving hosts", "Tanaka", at=datetime.now(UTC) - timedelta(days=9))
    with faulted(platform, "backup-stale"):
        run = run_checks("-m", "daily", "--item", "D5")
    assert run.returncode == 1 and run.failed() == {STALE: "error"}, run.output
    assert f"EXPIRED waiver of D5 (until {yesterday}, by Tanaka: was moving hosts): no longer applied" in run.output
    assert f"D5 EXPIRED waived until {yesterday} by Tanaka: was moving hosts" in run.summary["waivers"]


def test_a_waiver_must_name_an_item_and_a_day_to_come(tmp_path):
    past = waive(tmp_path, "D5", "--until", "2020-01-01", "--why", "x", "--by", "y")
    assert past.returncode == 2 and "in the past" in past.stderr and past.stderr.count("\n") == 1
    unknown = waive(tmp_path, "ZZ9", "--until", "2099-01-01", "--why", "x", "--by", "y")
    assert unknown.returncode == 2 and "not a checklist item" in unknown.stderr
