"""The restore drill restores for real, fails CRITICAL on every corruption fault, and never writes unasked."""

from __future__ import annotations

import psycopg

from sandbox.faults import CATALOGUE
from tests.conftest import faulted, run_pytest

DRILL_FAULTS = [name for name, fault in CATALOGUE.items() if "drill" in fault.also]


def drill_databases(platform) -> list[str]:
    """Scratch databases left on the sandbox's server (a drill must drop what it made)."""
    state = platform.read_state()
    secret = platform.secrets()["OPSCHECK_SANDBOX_DRILL_PASSWORD"]
    with psycopg.connect(host="127.0.0.1", port=state.ports["postgres"], dbname="postgres", user="opscheck_drill",
                         password=secret) as conn:  # fmt: skip
        return [r[0] for r in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'opscheck_drill%'")]


def test_healthy_backup_restores_and_matches(platform, run_checks):
    run = run_checks("-m", "drill")
    assert run.returncode == 0 and run.failed() == {}, run.output
    assert run.outcomes() == {"passed": 4}
    figures = {k: v for c in run.summary["checks"] for k, v in c.get("measured", {}).items()}
    assert figures["rto_s"] >= 0 and 0 < figures["rpo_h"] < 26, "RTO and RPO are kept in the record"
    assert drill_databases(platform) == [], "the drill drops its scratch database"


def test_drill_drops_its_database_even_when_it_fails(platform, run_checks):
    with faulted(platform, "backup-truncated"):
        broken = run_checks("-m", "drill")
    assert broken.summary["failed_by_level"] == {"critical": 3, "error": 1}, broken.output
    assert drill_databases(platform) == []


def test_every_drill_check_has_a_fault_that_fails_it(run_checks):
    run = run_checks("-m", "drill")
    declared = {c["nodeid"]: c["level"] for c in run.summary["checks"]}
    caught = {
        nodeid for name in DRILL_FAULTS for nodeid in CATALOGUE[name].expected_failures(declared, selection="drill")
    }
    assert set(declared) - caught == set(), run.output


def test_no_drill_without_permission(platform, tmp_path):
    """A target that does not allow drills gets no scratch database: every drill check skips, saying why."""
    text = platform.target_file.read_text().replace("allow_drills = true", "allow_drills = false")
    refused = tmp_path / "no-drills.toml"
    refused.write_text(text)
    env = {k: v for k, v in platform.secrets().items() if k.startswith("OPSCHECK_")}
    run = run_pytest(["checks", f"--target={refused}", "-m", "drill"], tmp_path / "reports", env)
    assert run.outcomes() == {"skipped": 4}, run.output
    assert "allow_drills = false" in run.output
