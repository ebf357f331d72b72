"""The whole suite, every schedule at once, on the sandbox: every item of the manual's checklist has a check, its
smoke load run passes every threshold and the weekly report carries it, and no secret reaches anything a run writes
or prints, also when database and HTTP libraries fail."""

from __future__ import annotations

import json

import pytest

from opscheck.catalogue import catalogue
from tests.conftest import CheckRun, faulted, run_pytest, with_brief_profile


@pytest.fixture(scope="module")
def runs(platform, tmp_path_factory) -> list[CheckRun]:
    """Every check (no -m: daily to post_stop, load, drill and security), then daily runs with the database and
    the cache down, so that their client libraries' error messages are in what is searched. Kept where the sandbox
    target's [history] says the suite keeps its runs: the weekly report reads the load run back from there. Its
    smoke profile is 8 s long (tests.conftest.with_brief_profile): 20 s of it proves nothing more here."""
    env = {k: v for k, v in platform.secrets().items() if k.startswith("OPSCHECK_")}
    target = tmp_path_factory.mktemp("whole-suite") / "target.toml"
    target.write_text(with_brief_profile(platform.target_file.read_text(), target.parent, "smoke"))

    def run(*args: str) -> CheckRun:
        return run_pytest(["checks", "--target", str(target), *args], platform.suite_history, env, 600)

    done = [run()]
    for fault in ("pg-down", "redis-down"):
        with faulted(platform, fault):
            done.append(run("-m", "daily"))
    return done


def test_every_catalogue_item_has_a_check(runs):
    checked = {item for check in runs[0].summary["checks"] for item in check["checklist"]}
    assert set(catalogue()) - checked == set(), "items of the manual with no check"


def test_smoke_load_run_passes_every_threshold_and_the_weekly_report_carries_it(runs, run_checks):
    """The target's default profile (smoke) on a healthy sandbox: green threshold by threshold, locust's own report
    kept and linked; W1 shows the week's load run, read back from the suite's history."""
    load = [c for c in runs[0].summary["checks"] if c["nodeid"].startswith("checks/test_load.py")]
    assert load and {c["outcome"] for c in load} == {"passed"}, runs[0].output
    artifacts = runs[0].run_dir / "artifacts"
    result = json.loads((artifacts / "locust-result.json").read_text())
    assert result["total"]["requests"] > 100 and result["stopped_early"] is None
    assert {c["measured"]["profile"] for c in load if "profile" in c["measured"]} == {"smoke"}
    assert (artifacts / "locust.html").is_file(), "locust's own report is kept with the run"
    assert "artifacts/locust.html" in (runs[0].run_dir / "report.html").read_text(), "and linked from the report"
    weekly = run_checks("-m", "weekly", "-k", "weekly_performance_report")
    report = json.loads((weekly.run_dir / "artifacts" / "weekly-performance.json").read_text())
    assert report["load_run"]["run_id"] == runs[0].summary["run_id"]
    assert {c["threshold"] for c in report["load_run"]["checks"]} >= {"overall-p95_ms", "overall-min_rps"}


def test_no_secret_reaches_any_file_or_output(platform, runs):
    secrets = {name: value for name, value in platform.secrets().items() if value}
    assert len(secrets) >= 5
    places = [(f"terminal output of run {n}", run.output.encode()) for n, run in enumerate(runs)]
    written = runs[0].run_dir.parent  # every run folder, the audit chain, the history page (the suite's history)
    places += [(str(p), p.read_bytes()) for p in written.rglob("*") if p.is_file()]
    assert len(places) > 20
    leaks = [f"{name} in {where}" for where, data in places for name, value in secrets.items()
             if value.encode() in data]  # fmt: skip
    assert leaks == []
    assert any("pg-down" in r.output or r.returncode != 0 for r in runs[1:]), "the faulted runs did fail"
