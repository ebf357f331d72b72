"""--settle: a post_deploy check that fails while a part is still coming back passes once it is back within the
window, its attempts recorded; a part that stays down fails when the window is over, not before, not forever."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from sandbox import faults
from tests.conftest import REPO

FRONTEND = "checks/test_health.py::test_component_reports_healthy[frontend/api/health]"


def start(platform, reports, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, **{k: v for k, v in platform.secrets().items() if k.startswith("OPSCHECK_")}}
    command = [sys.executable, "-m", "pytest", "checks", "-m", "post_deploy", "--target", str(platform.target_file),
               "--reports-dir", str(reports), "-p", "no:randomly", "--settle-sleep", "0.5", *args]  # fmt: skip
    env["PYTHONUNBUFFERED"] = "1"  # each line as pytest writes it: the test acts on what the run is doing
    return subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def summary(reports) -> dict:
    return json.loads(next(reports.glob("*/summary.json")).read_text())


def test_a_part_back_within_the_window_passes_with_its_attempts_recorded(platform, tmp_path):
    faults.inject(platform, "frontend-down")
    seen = b""
    try:
        run = start(platform, tmp_path, "--settle", "60", "-v")
        assert run.stdout is not None
        while FRONTEND.encode() not in seen:  # -v names the check as it starts (its result follows on that line)
            chunk = os.read(run.stdout.fileno(), 4096)
            if not chunk:
                break
            seen += chunk
        time.sleep(2)  # a few attempts at --settle-sleep 0.5 fail meanwhile
    finally:
        faults.heal(platform)  # the front end comes back while the run is settling
    output = seen.decode(errors="replace") + run.communicate(timeout=90)[0]
    assert run.returncode == 0, output
    assert f"SETTLE {FRONTEND}: passed after" in output
    entry = next(c for c in summary(tmp_path)["checks"] if c["nodeid"] == FRONTEND)
    assert entry["outcome"] == "passed" and entry["measured"]["settle_attempts"] >= 2
    assert "cannot connect" in entry["measured"]["settle_first_failure"]
    log = entry["measured"]["settle_log"].split("; ")
    assert (
        len(log) == entry["measured"]["settle_attempts"]
        and log[0].startswith("failed at ")
        and log[-1].startswith("passed at ")
    ), "each attempt is recorded"


def test_a_part_that_stays_down_fails_when_the_window_is_over(platform, tmp_path):
    faults.inject(platform, "frontend-down")
    try:
        started = time.monotonic()
        output, _ = start(platform, tmp_path, "--settle", "3").communicate(timeout=90)
        took = time.monotonic() - started
    finally:
        faults.heal(platform)
    assert f"SETTLE {FRONTEND}: failed after" in output and 3 <= took < 30, (took, output)
    assert summary(tmp_path)["failed_by_level"] == {"error": 2}, output
