"""Every fault fails exactly the checks the catalogue names, each at its level; heal makes the run green again."""

from __future__ import annotations

import pytest

from opscheck.judge.causes import blocked_count
from sandbox.faults import CATALOGUE
from tests.conftest import faulted, faulted_together, run_pytest
from tests.fault_groups import grouped, union

LEVELS = ["warning", "error", "critical"]
# How a failure says what to do: the manual's action, as the checks and ProbeError word it.
REMEDY_MARKS = ("Manual", "マニュアル")


def without_remedy(run) -> dict[str, str]:
    """node id → message, for every failure whose message does not end with the manual's action."""
    return {
        c["nodeid"]: c["message"]
        for c in run.summary["checks"]
        if c["outcome"] in ("failed", "error") and not any(mark in c["message"] for mark in REMEDY_MARKS)
    }


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
    assert run.summary["root_causes"] == [], "the preflight reached every part"


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


DAILY_GROUPS = grouped([name for name, fault in CATALOGUE.items() if fault.catches], "daily")


@pytest.mark.parametrize("group", DAILY_GROUPS, ids="+".join)
def test_fault_fails_exactly_its_checks_at_their_levels(platform, run_checks, group):
    with faulted_together(platform, list(group)) as injected:
        broken = run_checks("-m", "daily")
    declared = {c["nodeid"]: c["level"] for c in broken.summary["checks"]}
    each = {fault.name: fault.expected_failures(declared) for fault in injected}
    expected = union(each)
    assert broken.failed() == expected, difference(broken.failed(), expected, broken.output)
    worst = max(expected.values(), key=LEVELS.index)
    expected_exit = 1 if LEVELS.index(worst) >= LEVELS.index("error") else 0
    assert broken.returncode == expected_exit, broken.output
    roots = injected[0].roots if len(injected) == 1 else ()
    assert f"{worst.upper()} (" in broken.output or roots, "the terminal summary groups failures by level"
    if len(injected) == 1:
        assert_root_causes_first(injected[0], broken, expected)
    else:
        assert broken.summary["root_causes"] == [], "faults that stop no part name no cause"
    assert without_remedy(broken) == {}, "every failure says what to do (the manual's action)"
    each_alone(platform, run_checks, each, "daily")

    healed = run_checks(only=sorted(expected))
    assert healed.failed() == {} and healed.outcomes().get("passed") == len(expected), healed.output


def each_alone(platform, run, each: dict[str, dict[str, str]], selection: str) -> None:
    """Of a group's faults (`each`: name → what it must fail), each injected alone fails exactly its own checks
    among the group's: the group's run cannot tell whose doing a failure was."""
    if len(each) == 1:
        return
    checks = sorted(union(each))
    for name, own in each.items():
        with faulted(platform, name):
            alone = run("-m", selection, only=checks)
        assert alone.failed() == own, f"{name} alone:\n" + difference(alone.failed(), own, alone.output)


def assert_root_causes_first(fault, run, expected: dict[str, str]) -> None:
    """Each part the fault stops is named once, as the root cause, leading the verdict, with exactly the checks it
    explains under it; every other failure stands on its own (and a fault that stops no part names no cause)."""
    causes = run.summary["root_causes"]
    assert sorted(c["part"] for c in causes) == sorted(fault.roots), causes
    blocks = {nodeid for cause in causes for nodeid in cause["blocks"]}
    wanted = fault.blocked(expected)
    assert blocks == wanted, f"blocked besides: {blocks - wanted}\nnot blocked: {wanted - blocks}\n{run.output}"
    by_entry = {c["nodeid"]: c.get("blocked_by") for c in run.summary["checks"] if c["outcome"] != "passed"}
    assert {n for n, cause in by_entry.items() if cause} == blocks, "each blocked failure names its cause"
    verdict = run.output[run.output.find("opscheck: sandbox") :]
    for cause in causes:
        assert verdict.find(f"ROOT CAUSE — ERROR — {cause['id']} is down") < verdict.find("Worst failure"), verdict
        assert blocked_count(len(cause["blocks"])) in verdict and cause["remedy"][:40] in verdict


def in_groups(selections: dict[str, list[str]], shape: str = "default") -> list:
    """(selection, group) parameters: each selection's faults (`selections`: selection → names) in groups."""
    return [
        pytest.param(selection, group, id=f"{selection}-{'+'.join(group)}")
        for selection, names in selections.items()
        for group in grouped(names, selection, shape)
    ]


SELECTIONS = sorted({selection for fault in CATALOGUE.values() for selection in fault.selections()})
OTHER_SELECTIONS = in_groups({s: [n for n, fault in CATALOGUE.items() if s in fault.selections()] for s in SELECTIONS})


@pytest.mark.parametrize(("selection", "group"), OTHER_SELECTIONS)
def test_fault_fails_exactly_its_checks_in_other_selections(platform, run_checks, selection, group):
    """The restore drill and the post-restore checks have faults of their own, run with their own mark."""
    with faulted_together(platform, list(group)) as injected:
        broken = run_checks("-m", selection)
    declared = {c["nodeid"]: c["level"] for c in broken.summary["checks"]}
    each = {fault.name: fault.expected_failures(declared, selection) for fault in injected}
    expected = union(each)
    assert broken.failed() == expected, difference(broken.failed(), expected, broken.output)
    assert without_remedy(broken) == {}, "every failure says what to do (the manual's action)"
    each_alone(platform, run_checks, each, selection)


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
    selections = ("daily", "weekly", "monthly", "drill", "security")
    declared = {selection: collected(run_checks, selection) for selection in selections}
    caught: set[str] = set()
    for fault in CATALOGUE.values():
        if fault.catches:
            caught |= fault.expected_failures(declared["daily"]).keys()
        for selection in set(fault.selections()) & set(declared):
            caught |= fault.expected_failures(declared[selection], selection).keys()
    checks = {nodeid.split("[")[0] for each in declared.values() for nodeid in each}
    assert checks - {nodeid.split("[")[0] for nodeid in caught} == set()


def collected(run_checks, selection: str) -> dict[str, str]:
    """The node ids a run of `selection` holds (collected, not run: which checks a fault catches is all that is
    asked of them here), each with an unknown level."""
    run = run_checks("-m", selection, "--collect-only", "-q")
    assert run.returncode == 0, run.output
    return {line: "?" for line in run.output.splitlines() if line.startswith("checks/")}


# --- the manual's shape (sandbox.shape): the same faults, where what catches them reads a shape-dependent thing

SHAPED = ("checks/test_backups.py", "checks/test_batch.py", "checks/test_predictions.py::test_prediction_accuracy",
          "checks/test_traffic.py", "checks/test_logs.py", "checks/test_security_logs.py", "checks/test_plans.py",
          "checks/test_weekly_report.py", "checks/test_cache.py::test_streaming", "checks/test_drill.py",
          "checks/test_restore.py", "checks/test_integrity.py::test_stock_prices_did_not_shrink")  # fmt: skip


def _concerns_the_shape(fault) -> bool:
    patterns = [p for s in ("daily", *fault.selections("manual")) for p in fault.wanted(s, "manual")]
    touches = any(p.startswith(SHAPED) or any(s.startswith(p.split("*")[0]) for s in SHAPED) for p in patterns)
    return "manual" in fault.shapes and (touches or "manual" in fault.on)


MANUAL_SHAPED = [name for name, fault in CATALOGUE.items() if _concerns_the_shape(fault)]


def _manual_catches(name: str, selection: str) -> bool:
    fault = CATALOGUE[name]
    return selection in ("daily", *fault.selections("manual")) and (
        selection != "daily" or fault.wanted("daily", "manual")
    )


MANUAL_SELECTIONS = in_groups(
    {s: [n for n in MANUAL_SHAPED if _manual_catches(n, s)] for s in ("daily", *SELECTIONS)}, shape="manual"
)


@pytest.mark.parametrize("selection", ["daily", "weekly", "monthly", "security"])
def test_healthy_manual_shape_passes_every_check(run_manual_checks, selection):
    """Built from the manual's own scripts and another schema, log format and layout: every schedule green;
    the one skip is the tick stream the manual's shape does not keep."""
    run = run_manual_checks("-m", selection)
    assert run.returncode == 0 and run.failed() == {}, run.output
    skipped = {c["nodeid"] for c in run.summary["checks"] if c["outcome"] == "skipped"}
    assert skipped <= {"checks/test_cache.py::test_streaming_engine_ticks_are_fresh"}, skipped


@pytest.mark.parametrize(("selection", "group"), MANUAL_SELECTIONS)
def test_fault_fails_exactly_its_checks_on_the_manual_shape(manual_platform, run_manual_checks, selection, group):
    with faulted_together(manual_platform, list(group)) as injected:
        broken = run_manual_checks("-m", selection)
    declared = {c["nodeid"]: c["level"] for c in broken.summary["checks"]}
    skipped = frozenset(c["nodeid"] for c in broken.summary["checks"] if c["outcome"] == "skipped")
    each = {f.name: f.expected_failures(declared, selection, shape="manual", skipped=skipped) for f in injected}
    expected = union(each)
    assert broken.failed() == expected, difference(broken.failed(), expected, broken.output)
    each_alone(manual_platform, run_manual_checks, each, selection)


def test_a_full_redis_reports_its_evictions_too(platform, run_checks):
    """Full and already shedding keys: both are news; the memory alone hid 2,189 evicted keys."""
    with faulted(platform, "redis-evicting"):
        run = run_checks("-m", "daily", "-k", "test_redis_memory_has_headroom")
    [check] = [c for c in run.summary["checks"] if c["outcome"] == "failed"]
    assert "maxmemory (" in check["message"] and "has evicted" in check["message"], check["message"]
    assert check["measured"]["evicted_keys"] > 0


def test_the_brute_force_excerpt_holds_the_attacker_not_the_suite(platform, run_checks):
    """The excerpt under X3 is the attacking client's lines, written once into artifacts/ and linked, never the
    suite's own scans and probes."""
    with faulted(platform, "brute-force-burst"):
        run = run_checks("-m", "security", "-k", "brute_force or error_ratio")
    [check] = [c for c in run.summary["checks"] if c["outcome"] == "failed"]
    assert "192.0.2.66 failed 30 times" in check["message"] and "Manual (X3)" in check["message"], check["message"]
    [excerpt] = (run.run_dir / "artifacts").glob("excerpt-access-*.log")
    lines = excerpt.read_text().splitlines()
    assert len(lines) == 15 and all(line.startswith("192.0.2.66 ") for line in lines), lines
    assert "opscheck-" not in excerpt.read_text()
    assert f"artifacts/{excerpt.name}" in (run.run_dir / "report.html").read_text(), "the check's row links it"


def test_the_api_scan_does_not_judge_an_outage(platform, run_checks, tmp_path):
    """Redis down makes the API answer 5xx: the scan says it could not judge, and why, not 'a crash an attacker can
    repeat'; and the silent port names Redis's own service, not the API's (blocked by Redis; and without the
    preflight, by the port's owner)."""
    unchecked = tmp_path / "no-preflight.toml"
    unchecked.write_text(platform.target_file.read_text() + "\n[topology]\npreflight = false\n")
    with faulted(platform, "redis-down"):
        run = run_checks("-m", "security or daily", "-k", "api_fail or ports_listen")
        env = {k: v for k, v in platform.secrets().items() if k.startswith("OPSCHECK_")}
        owned = run_pytest(
            ["checks", f"--target={unchecked}", "-m", "daily", "-k", "ports_listen"], tmp_path / "r", env
        )
    [silent] = [c["message"] for c in owned.summary["checks"] if c["outcome"] == "failed"]
    assert "(redis-server)" in silent and "systemctl restart redis-server" in silent, silent
    messages = {c["nodeid"].split("::")[-1]: c["message"] for c in run.summary["checks"] if c["outcome"] != "passed"}
    assert "could not judge the API's attack surface" in messages["test_no_input_makes_the_api_fail"], messages
    assert "attacker" not in messages["test_no_input_makes_the_api_fail"]
    port = messages["test_declared_ports_listen[sandbox]"]
    assert "blocked: Redis at" in port and "miraikakaku-api" not in port, "the silent port is Redis's, not the API's"
