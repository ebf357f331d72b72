"""The fleet (sandbox.fleet): the platform over hosts reached by ssh, each holding its own files and processes.

A check that read a log, a backup set or a plan on the machine running pytest would find nothing: they exist
only inside their host's namespace. The healthy fleet is green; the file-, process- and backup-related faults
fail exactly the checks they fail on one host (the host's name in place of `sandbox`).
"""

from __future__ import annotations

import pytest

from tests.conftest import faulted
from tests.test_faults import difference

FAULTS = ["api-down", "frontend-down", "streaming-stopped", "backup-stale", "backup-incomplete",
          "backup-empty-dump", "backup-corrupt", "backup-archive-cut", "backup-shrunk", "backup-truncated",
          "backup-old-tool", "backup-offsite-differs", "offsite-object-missing", "offsite-set-stale",
          "backup-unreadable", "backup-unscheduled", "error-burst", "critical-log-line", "5xx-burst",
          "access-log-missing", "plan-missing", "brute-force-burst"]  # fmt: skip


@pytest.mark.parametrize("selection", ["daily", "weekly", "security"])
def test_healthy_fleet_is_green(run_fleet_checks, fleet_platform, selection):
    run = run_fleet_checks("-m", selection)
    assert run.returncode == 0 and run.failed() == {}, run.output
    assert not any(any((fleet_platform.root / folder).iterdir()) for folder in ("logs", "plans", "backups")), (
        "the hosts' folders are empty on the machine running pytest: what passed was read on the hosts"
    )


@pytest.mark.parametrize("name", FAULTS)
def test_fault_fails_the_same_checks_on_the_fleet(fleet_platform, run_fleet_checks, name):
    with faulted(fleet_platform, name) as fault:
        broken = run_fleet_checks("-m", "daily")
    declared = {c["nodeid"]: c["level"] for c in broken.summary["checks"]}
    skipped = frozenset(c["nodeid"] for c in broken.summary["checks"] if c["outcome"] == "skipped")
    expected = fault.expected_failures(declared, shape="fleet", skipped=skipped)
    assert broken.failed() == expected, difference(broken.failed(), expected, broken.output)
