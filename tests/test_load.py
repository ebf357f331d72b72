"""Load runs: green on a healthy sandbox under smoke, and carried by the weekly report; refused before any request
where the target does not allow load or the profile is over its caps; a master and two workers whose traffic is all
counted."""

from __future__ import annotations

import json

from opscheck.identity import LOAD_AGENT
from tests.conftest import run_pytest


def load_requests_in_access_log(platform, run_id: str | None = None) -> int:
    marker = LOAD_AGENT + (run_id or "")
    with open(platform.logs / "access.log", encoding="utf-8") as log:
        return sum(1 for line in log if marker in line)


def test_healthy_smoke_run_passes_every_threshold_and_the_weekly_report_carries_it(platform, run_checks):
    """W1 shows the week's load run threshold by threshold, read back from the suite's history (where the run is
    kept, as the sandbox target's [reports] says)."""
    env = {k: v for k, v in platform.secrets().items() if k.startswith("OPSCHECK_")}
    run = run_pytest(["checks", "--target", str(platform.target_file), "-m", "load"], platform.suite_history, env)
    assert run.returncode == 0 and run.failed() == {}, run.output
    assert run.outcomes() == {"passed": len(run.summary["checks"])}
    result = json.loads((run.run_dir / "artifacts" / "locust-result.json").read_text())
    assert result["total"]["requests"] > 100 and result["stopped_early"] is None
    assert (run.run_dir / "artifacts" / "locust.html").is_file(), "locust's own report is kept with the run"
    assert "artifacts/locust.html" in (run.run_dir / "report.html").read_text(), "and linked from the report"
    weekly = run_checks("-m", "weekly", "-k", "weekly_performance_report")
    report = json.loads((weekly.run_dir / "artifacts" / "weekly-performance.json").read_text())
    assert report["load_run"]["run_id"] == run.summary["run_id"]
    assert {c["threshold"] for c in report["load_run"]["checks"]} >= {"overall-p95_ms", "overall-min_rps"}


def test_target_without_allow_load_is_refused_and_sent_nothing(platform, tmp_path):
    refusing = tmp_path / "no-load.toml"
    refusing.write_text(platform.target_file.read_text().replace("allow_load = true", "allow_load = false"))
    before = load_requests_in_access_log(platform)
    env = {k: v for k, v in platform.secrets().items() if k.startswith("OPSCHECK_")}
    run = run_pytest(["checks", "--target", str(refusing), "-m", "load"], tmp_path / "reports", env)
    assert run.returncode == 4, run.output
    assert "does not allow load ([permissions] allow_load = false)" in run.output
    assert "Traceback" not in run.output
    assert load_requests_in_access_log(platform) == before, "a refused run sends no request"


def test_profile_over_the_targets_caps_is_refused(run_checks):
    run = run_checks("-m", "load", "--load-profile", "stress")
    assert run.returncode == 4, run.output
    assert "caps load at 20 users and 60 s" in run.output


def test_master_and_two_workers_count_every_request(platform, run_checks):
    """locust's distributed mode on loopback: what the master reports is what the API served."""
    run = run_checks("-m", "load", "--load-workers", "2")
    assert run.failed() == {}, run.output
    result = json.loads((run.run_dir / "artifacts" / "locust-result.json").read_text())
    assert result["workers"] == 2
    served = load_requests_in_access_log(platform, run.summary["run_id"])
    assert served == result["total"]["requests"] > 100, f"API served {served}, locust counted {result['total']}"
