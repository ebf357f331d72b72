"""Every fault fails exactly the checks the catalogue names, each at its level; heal makes the run green again."""

from __future__ import annotations

import pytest

from sandbox.faults import CATALOGUE
from tests.conftest import faulted

LEVELS = ["warning", "error", "critical"]


def difference(failed: dict[str, str], expected: dict[str, str], output: str) -> str:
    """What the fault should have failed and did not (or at another level), and what it failed besides."""
    missed = {k: f"expected {v}, got {failed.get(k, 'no failure')}" for k, v in expected.items() if failed.get(k) != v}
    extra = {k: v for k, v in failed.items() if k not in expected}
    verdict = output[output.find("opscheck: sandbox") :]
    return f"missed: {missed}\nunexpected: {extra}\n{verdict}"


def test_healthy_sandbox_passes_every_daily_check(run_checks):
    run = run_checks("-m", "daily")
    assert run.returncode == 0, run.output
    assert run.failed() == {}
    assert run.outcomes() == {"passed": len(run.summary["checks"])}, "a healthy sandbox skips nothing"


def test_healthy_sandbox_passes_every_weekly_check(run_checks):
    """The database review (W4, P1-P4) and the restore drill (W5), on a healthy sandbox: all green."""
    run = run_checks("-m", "weekly")
    assert run.returncode == 0 and run.failed() == {}, run.output
    assert run.outcomes() == {"passed": len(run.summary["checks"])}
    assert {"W1", "W4", "W5", "P1", "P2", "P3", "P4"} <= {i for c in run.summary["checks"] for i in c["checklist"]}


def test_healthy_sandbox_passes_every_monthly_check(run_checks):
    """Report, SLA and capacity from the suite's recorded month, updates, DR review and drill: all green."""
    run = run_checks("-m", "monthly")
    assert run.returncode == 0 and run.failed() == {}, run.output
    assert run.outcomes() == {"passed": len(run.summary["checks"])}
    assert {"M1", "M2", "M3", "M4", "MM1", "MM3"} <= {i for c in run.summary["checks"] for i in c["checklist"]}


def test_healthy_sandbox_passes_every_security_check(run_checks):
    """The access and application logs of ordinary traffic: no brute force, flood, scanner or error collector."""
    run = run_checks("-m", "security")
    assert run.returncode == 0 and run.failed() == {}, run.output
    assert run.outcomes() == {"passed": len(run.summary["checks"])}
    assert {"X1", "X2", "X3"} <= {i for c in run.summary["checks"] for i in c["checklist"]}


@pytest.mark.parametrize("name", [name for name, fault in CATALOGUE.items() if fault.catches])
def test_fault_fails_exactly_its_checks_at_their_levels(platform, run_checks, name):
    with faulted(platform, name) as fault:
        broken = run_checks("-m", "daily")
    declared = {c["nodeid"]: c["level"] for c in broken.summary["checks"]}
    expected = fault.expected_failures(declared)
    assert broken.failed() == expected, difference(broken.failed(), expected, broken.output)
    worst = max(expected.values(), key=LEVELS.index)
    expected_exit = 1 if LEVELS.index(worst) >= LEVELS.index("error") else 0
    assert broken.returncode == expected_exit, broken.output
    assert f"{worst.upper()} (" in broken.output, "the terminal summary groups failures by level"

    healed = run_checks("-m", "daily")
    assert healed.failed() == {}, healed.output


OTHER_SELECTIONS = [(selection, name) for name, fault in CATALOGUE.items() for selection in fault.also]


@pytest.mark.parametrize(("selection", "name"), OTHER_SELECTIONS)
def test_fault_fails_exactly_its_checks_in_other_selections(platform, run_checks, selection, name):
    """The restore drill and the post-restore checks have faults of their own, run with their own mark."""
    with faulted(platform, name) as fault:
        broken = run_checks("-m", selection)
    declared = {c["nodeid"]: c["level"] for c in broken.summary["checks"]}
    expected = fault.expected_failures(declared, selection)
    assert broken.failed() == expected, difference(broken.failed(), expected, broken.output)


def test_warnings_fail_the_run_only_when_asked(platform, run_checks):
    with faulted(platform, "pg-connections-exhausted"):
        default = run_checks("-m", "daily")
        strict = run_checks("-m", "daily", "--fail-on", "warning")
    assert default.returncode == 0 and "WARNING (1)" in default.output, "warnings are shown, never hidden"
    assert strict.returncode == 1
    assert (default.summary["exit_status"], strict.summary["exit_status"]) == (0, 1), "the record says what happened"


def test_critical_only_gate_passes_errors(platform, run_checks):
    with faulted(platform, "frontend-down"):
        run = run_checks("-m", "daily", "--fail-on", "critical")
    assert run.returncode == 0 and "ERROR (" in run.output


def test_every_check_has_a_fault_that_fails_it(run_checks):
    """A check that cannot fail is a defect (design rule 1): daily, weekly, monthly, drill, security alike."""
    declared = {selection: {c["nodeid"]: c["level"] for c in run_checks("-m", selection).summary["checks"]}
                for selection in ("daily", "weekly", "monthly", "drill", "security")}  # fmt: skip
    caught: set[str] = set()
    for fault in CATALOGUE.values():
        if fault.catches:
            caught |= fault.expected_failures(declared["daily"]).keys()
        for selection in set(fault.also) & set(declared):
            caught |= fault.expected_failures(declared[selection], selection).keys()
    checks = {nodeid.split("[")[0] for each in declared.values() for nodeid in each}
    assert checks - {nodeid.split("[")[0] for nodeid in caught} == set()
