"""The whole suite, every schedule at once, on the sandbox: every item of the manual's checklist has a check,
and no secret reaches anything a run writes or prints, also when database and HTTP libraries fail."""

from __future__ import annotations

import pytest

from opscheck.catalogue import catalogue
from tests.conftest import CheckRun, faulted, run_pytest


@pytest.fixture(scope="module")
def runs(platform, tmp_path_factory) -> list[CheckRun]:
    """Every check (no -m: daily to post_stop, load, drill and security), then daily runs with the database and
    the cache down, so that their client libraries' error messages are in what is searched."""
    env = {k: v for k, v in platform.secrets().items() if k.startswith("OPSCHECK_")}
    reports = tmp_path_factory.mktemp("whole-suite")

    def run(*args: str) -> CheckRun:
        return run_pytest(["checks", "--target", str(platform.target_file), *args], reports, env, timeout=600)

    done = [run()]
    for fault in ("pg-down", "redis-down"):
        with faulted(platform, fault):
            done.append(run("-m", "daily"))
    return done


def test_every_catalogue_item_has_a_check(runs):
    checked = {item for check in runs[0].summary["checks"] for item in check["checklist"]}
    assert set(catalogue()) - checked == set(), "items of the manual with no check"


def test_no_secret_reaches_any_file_or_output(platform, runs):
    secrets = {name: value for name, value in platform.secrets().items() if value}
    assert len(secrets) >= 5
    places = [(f"terminal output of run {n}", run.output.encode()) for n, run in enumerate(runs)]
    written = runs[0].run_dir.parent  # every run folder, the audit chain, the history page
    places += [(str(p), p.read_bytes()) for p in written.rglob("*") if p.is_file()]
    assert len(places) > 20
    leaks = [f"{name} in {where}" for where, data in places for name, value in secrets.items()
             if value.encode() in data]  # fmt: skip
    assert leaks == []
    assert any("pg-down" in r.output or r.returncode != 0 for r in runs[1:]), "the faulted runs did fail"
