"""Load runs: refused before any request where the target does not allow load or the profile is over its caps; a
master and two workers whose traffic is all counted. (The healthy smoke run, and the weekly report carrying it, are
the whole suite's: tests.test_whole_suite.)"""

from __future__ import annotations

import json

from opscheck.identity import LOAD_AGENT
from tests.conftest import run_pytest, with_brief_profile


def load_requests_in_access_log(platform, run_id: str | None = None) -> int:
    marker = LOAD_AGENT + (run_id or "")
    with open(platform.logs / "access.log", encoding="utf-8") as log:
        return sum(1 for line in log if marker in line)


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


def test_master_and_two_workers_count_every_request(platform, tmp_path):
    """locust's distributed mode on loopback: what the master reports is what the API served."""
    target = tmp_path / "target.toml"
    target.write_text(with_brief_profile(platform.target_file.read_text(), tmp_path, "brief"))
    env = {k: v for k, v in platform.secrets().items() if k.startswith("OPSCHECK_")}
    args = ["checks", "--target", str(target), "-m", "load", "--load-workers", "2", "--load-profile", "brief"]
    run = run_pytest(args, tmp_path / "reports", env)
    assert run.failed() == {}, run.output
    result = json.loads((run.run_dir / "artifacts" / "locust-result.json").read_text())
    assert result["workers"] == 2
    served = load_requests_in_access_log(platform, run.summary["run_id"])
    assert served == result["total"]["requests"] > 100, f"API served {served}, locust counted {result['total']}"
