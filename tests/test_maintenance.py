"""After a real maintenance window every post_maintenance check passes; each step left out fails its check.

The window rotates logs and restarts services, so it gets a sandbox of its own: the shared one
keeps its week of log history for the other self-tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox import maintain
from sandbox.state import Sandbox
from tests.conftest import CheckRun, run_pytest, started_sandbox, with_brief_profile

MAINTENANCE = "checks/test_maintenance.py"
# Each step left out, and what must fail for it. The backup comes first: the sandbox's scheduled daily
# set is hours old, and the window's own backup of a later scenario must not count for this one.
SKIPPED = [
    ("backup", {f"{MAINTENANCE}::test_a_full_backup_was_taken_before_the_window": "error"}),
    ("vacuum", {f"{MAINTENANCE}::test_tables_were_vacuumed_and_analyzed_in_the_window": "warning"}),
    ("logrotate", {f"{MAINTENANCE}::test_logs_were_rotated_in_the_window": "warning"}),
    ("restart", {f"{MAINTENANCE}::test_services_were_restarted_in_the_window[sandbox]": "warning"}),
]


@pytest.fixture(scope="module")
def window_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with started_sandbox(tmp_path_factory, "maintained") as sandbox:
        yield sandbox


def after_window(sandbox: Sandbox, tmp_path: Path, skip: tuple[str, ...]) -> CheckRun:
    """Run the window (less `skip`), then the post_maintenance checks against it (the smoke load run only
    after the full window: a step left out fails no load threshold).

    The target demands the backup within a minute of the window, so a set from an earlier scenario
    in this test cannot stand in for the one this window left out; and its smoke profile is its own, 8 s
    long (a site's `profiles_file`): which profile post_maintenance runs is what is proven, not 20 s of it.
    """
    maintain.maintain(sandbox, frozenset(skip))
    strict = tmp_path / f"target-{'-'.join(skip) or 'full'}.toml"
    demanding = sandbox.target_file.read_text().replace("backup_lead_hours = 0.5", "backup_lead_hours = 0.01")
    strict.write_text(with_brief_profile(demanding, tmp_path, "smoke"))
    env = {k: v for k, v in sandbox.secrets().items() if k.startswith("OPSCHECK_")}
    selection = "post_maintenance" if not skip else "post_maintenance and not load"
    args = ["checks", f"--target={strict}", "-m", selection]  # no --window-start: the window records itself
    return run_pytest(args, tmp_path / "reports", env)


def test_each_step_left_out_fails_its_check_and_a_full_window_passes(window_sandbox, tmp_path):
    for step, expected in SKIPPED:
        run = after_window(window_sandbox, tmp_path, (step,))
        assert run.failed() == expected, f"--skip {step}:\n{run.output}"
    full = after_window(window_sandbox, tmp_path, ())
    assert full.returncode == 0 and full.failed() == {}, full.output
    assert full.outcomes() == {"passed": len(full.summary["checks"])}
    items = {i for c in full.summary["checks"] for i in c["checklist"]}
    assert {"MW1", "MW2", "MW3", "D1"} <= items, "backup, maintenance steps, function and performance checks"
    profiles = {c["measured"]["profile"] for c in full.summary["checks"] if "test_load_threshold" in c["nodeid"]}
    assert profiles == {"smoke"}, "and the smoke load run"
