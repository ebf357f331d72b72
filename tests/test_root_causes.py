"""Root cause first under xdist: the controller's one preflight reaches the workers, so `-n 2` names the same
root cause and blocks the same checks as a serial run; a graph without edges puts only direct readers under it;
a refused certificate is named as such, with its own remedy."""

from __future__ import annotations

from tests.conftest import faulted


def _blocked(run) -> dict[str, str]:
    return {c["nodeid"]: c["blocked_by"] for c in run.summary["checks"] if c.get("blocked_by")}


def test_workers_judge_by_the_controllers_preflight(platform, run_checks):
    with faulted(platform, "redis-down") as fault:
        run = run_checks("-m", "daily", "-n", "2")
    declared = {c["nodeid"]: c["level"] for c in run.summary["checks"]}
    expected = fault.expected_failures(declared)
    assert run.failed() == expected, run.output
    [cause] = run.summary["root_causes"]
    assert cause["part"] == "redis" and set(cause["blocks"]) == fault.blocked(expected) == set(_blocked(run))
    assert run.output.count("ROOT CAUSE — ERROR — Redis at ") == 1


def test_the_targets_graph_decides_what_is_put_under_a_cause(platform, run_checks, tmp_path):
    """With `[topology] needs = {}`, the API's health failing while Redis is down is its own failure."""
    flat = tmp_path / "flat.toml"
    flat.write_text(platform.target_file.read_text() + "\n[topology]\nneeds = {}\n")
    with faulted(platform, "redis-down"):
        run = run_checks("-m", "daily", "--target", str(flat))
    blocked = _blocked(run)
    assert "checks/test_health.py::test_component_reports_healthy[api/api/health]" in run.failed()
    assert "checks/test_health.py::test_component_reports_healthy[api/api/health]" not in blocked
    assert "checks/test_health.py::test_redis_answers" in blocked, "a check reading Redis is still blocked"


def test_a_refused_certificate_is_named_as_such_with_its_own_remedy(platform, run_checks):
    """An API whose certificate no client accepts answers, so "down, restart it" would send the engineer the wrong
    way: the cause says what was refused, and the manual's action is the certificate's."""
    with faulted(platform, "cert-expired"):
        run = run_checks("-m", "security")
    [cause] = run.summary["root_causes"]
    assert cause["part"] == "api" and "answers with a certificate no client accepts" in cause["message"]
    assert "certificate has expired" in cause["message"] and "certbot renew" in cause["remedy"]
    assert "restart miraikakaku-api" not in run.output, "no restart is advised for a certificate"
    assert "no check of this run is blocked by it" in run.output, "its checks failed on their own, and it says so"
