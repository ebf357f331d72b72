"""The operator's toolbox against the sandbox: --version, targets list/check by name, items and explain, --item,
--co and --lf, documents on stdout (JUnit and TAP read by their own parsers), the cron quiet mode and Nagios
exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from junitparser import JUnitXml
from tap.parser import Parser as TapParser

from sandbox.state import DIR_ENV, Sandbox
from tests.conftest import REPO, faulted

D5_BACKUPS = "checks/test_backups.py"


def opscheck(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "opscheck.cli", *args], cwd=REPO, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=120)  # fmt: skip


def checks(platform: Sandbox, reports: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`pytest checks …` against the session's sandbox, stdout and stderr kept apart; pytest's cache (what --lf
    reads) of the test's own: in the repository's, every self-test's runs write their last failures at once."""
    env = {**os.environ, **{k: v for k, v in platform.secrets().items() if k.startswith("OPSCHECK_")}}
    command = [sys.executable, "-m", "pytest", "checks", "--target", str(platform.target_file),
               "--reports-dir", str(reports), "-p", "no:randomly", "-o", f"cache_dir={reports / '.pytest_cache'}",
               *args]  # fmt: skip
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, env=env, timeout=120)


def test_version_items_and_explain_answer_without_a_target():
    assert opscheck("--version").stdout.strip().startswith("opscheck ")
    items = opscheck("items").stdout.splitlines()
    assert any(
        line.startswith("D5 ") and "バックアップ状況の確認" in line and "Backup status" in line for line in items
    )
    explained = opscheck("explain", "d5")
    assert explained.returncode == 0, explained.stderr
    text = explained.stdout
    assert "D5: バックアップ状況の確認" in text and f"{D5_BACKUPS}::test_latest_backup_is_intact" in text
    assert "level CRITICAL" in text and "tuned by [thresholds] backup_max_age_hours" in text
    assert "remedy: Manual" in text and "backup-stale " in text, "the faults come from the sandbox's catalogue"
    refused = opscheck("explain", "ZZ9")
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1 and "opscheck items" in refused.stderr


def test_targets_list_and_check_accept_what_target_accepts(platform):
    assert "sandbox " in opscheck("targets", "list").stdout
    by_name = opscheck("targets", "check", "sandbox", env={DIR_ENV: str(platform.root)})
    assert by_name.returncode == 0 and "valid target 'sandbox'" in by_name.stdout, by_name.stderr
    secrets = {k: v for k, v in platform.secrets().items() if k.startswith("OPSCHECK_")}
    by_path = opscheck("targets", "check", str(platform.target_file), env=secrets)
    assert by_path.returncode == 0 and "valid target 'sandbox'" in by_path.stdout
    unknown = opscheck("targets", "check", "nosuchname")
    assert unknown.returncode == 2 and "no provider of that name" in unknown.stderr and "Errno" not in unknown.stderr


def test_item_selects_its_checks_and_collect_only_exits_as_pytest(platform, tmp_path):
    listed = checks(platform, tmp_path, "-m", "daily", "--item", "D5", "--co", "-q")
    assert listed.returncode == 0 and "collected only, nothing run (exit 0)" in listed.stdout, listed.stdout
    ids = [line for line in listed.stdout.splitlines() if "::" in line]
    assert ids and all(line.startswith(D5_BACKUPS) for line in ids)
    refused = checks(platform, tmp_path, "--item", "ZZ9")
    assert refused.returncode == 4 and "--item names unknown item(s) ZZ9" in refused.stderr


def test_formats_put_only_their_document_on_stdout(platform, tmp_path):
    junit = checks(platform, tmp_path, "-m", "daily", "--item", "D5", "--format", "junit")
    suites = list(JUnitXml.fromstring(junit.stdout))
    assert junit.returncode == 0 and sum(s.tests for s in suites) > 0, junit.stderr
    assert "Run record:" in junit.stderr, "pytest's own output goes to stderr"
    tap = checks(platform, tmp_path, "-m", "daily", "--item", "D5", "--format", "tap")
    lines = list(TapParser().parse_text(tap.stdout))
    results = [line for line in lines if line.category == "test"]
    assert results and all(r.ok for r in results) and len(results) == lines[1].expected_tests
    as_json = json.loads(checks(platform, tmp_path, "-m", "daily", "--item", "D5", "--format", "json").stdout)
    assert as_json["schema"] == "opscheck.summary/1" and as_json["totals"]["passed"] == len(results)
    assert len(list(tmp_path.glob("*/summary.json"))) == 3, "every run still writes its folder"


def test_quiet_cron_mode_nagios_codes_and_last_failed(platform, tmp_path):
    quiet = checks(platform, tmp_path, "-m", "daily", "--item", "D5", "--quiet-ok")
    assert quiet.returncode == 0 and quiet.stdout == "" and quiet.stderr == ""
    nothing = checks(platform, tmp_path, "-m", "daily and drill", "--quiet-ok")
    assert nothing.returncode == 5 and "NOTHING WAS CHECKED" in nothing.stdout, "a run that checked nothing is said"
    ok = checks(platform, tmp_path, "-m", "daily", "--item", "D5", "--format", "nagios", "--exit-codes", "nagios")
    assert ok.returncode == 0 and ok.stdout.startswith("OPSCHECK OK - sandbox daily: no check failed | checks=")
    with faulted(platform, "backup-stale"):
        failing = checks(platform, tmp_path, "-m", "daily", "--item", "D5", "--quiet-ok")
        assert (
            failing.returncode == 1
            and "[ERROR] D5 B1" in failing.stdout
            and "test_latest_backup_is_fresh" in (failing.stdout)
        )
        nagios = checks(platform, tmp_path, "-m", "daily", "--item", "D5", "--format", "nagios",
                        "--exit-codes", "nagios")  # fmt: skip
        assert nagios.returncode == 2 and nagios.stdout.startswith("OPSCHECK CRITICAL - "), nagios.stdout
        again = checks(platform, tmp_path, "-m", "daily", "--item", "D5", "--lf", "-q")
        assert again.returncode == 1 and "1 failed" in again.stdout and "passed" not in again.stdout, again.stdout
    unknown = checks(platform, tmp_path, "-m", "daily", "--item", "D5", "--exit-codes", "nagios", "--target=nosuch")
    assert unknown.returncode == 3 and "no provider of that name" in unknown.stderr
