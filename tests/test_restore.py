"""A real restore of the sandbox from its newest daily set passes every post_restore check, and the daily run."""

from __future__ import annotations

import json

from sandbox import backup, restore


def test_restored_sandbox_passes_post_restore(platform, run_checks):
    folder = restore.restore(platform)
    record = json.loads((platform.root / "restored.json").read_text())
    assert record["set"] == folder.name

    after = run_checks("-m", "post_restore")
    assert after.returncode == 0 and after.failed() == {}, after.output
    assert after.outcomes() == {"passed": len(after.summary["checks"])}, "nothing skipped after a real restore"
    assert {"R1", "R2", "D1"} <= {i for c in after.summary["checks"] for i in c["checklist"]}

    daily = run_checks("-m", "daily")
    assert daily.failed() == {}, daily.output


def test_post_restore_against_another_set(platform, run_checks):
    """--restored-from names the set; against an older set than the one restored, nothing is lost, so it passes."""
    oldest_daily = backup.sets_of_kind(platform, "daily")[0].name
    run = run_checks("-m", "post_restore", "--restored-from", oldest_daily)
    assert run.failed() == {}, run.output
    missing = run_checks("-m", "post_restore", "--restored-from", "19990101_000000")
    assert missing.returncode == 1 and "no backup set 19990101_000000" in missing.output
