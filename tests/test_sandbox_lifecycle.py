"""The sandbox starts for a run and stops after it; a crashed one never blocks the next."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from sandbox import lifecycle
from sandbox.cli import main as sandbox_main
from sandbox.state import Sandbox, is_ours
from tests.conftest import run_pytest


def test_target_sandbox_starts_one_for_the_run_and_stops_it(tmp_path):
    folder = tmp_path / "for-the-run"
    run = run_pytest(
        ["-m", "daily", "--target", "sandbox", "-k", "test_redis_answers"],
        tmp_path / "reports",
        env={"OPSCHECK_SANDBOX_DIR": str(folder)},
    )
    assert run.returncode == 0, run.output
    assert run.summary["totals"] == {"passed": 1}
    assert lifecycle.status(Sandbox(folder)) == {}, "the sandbox started for the run is stopped after it"


def test_up_after_a_crash_ends_the_leftovers(tmp_path, capsys):
    sandbox = Sandbox(tmp_path / "crashed")
    first = lifecycle.up(sandbox)
    os.kill(first.pids["api"], signal.SIGKILL)  # a crash: the rest is left running, state.json stays
    pg_pid = int((Path(first.pg_dir) / "data" / "postmaster.pid").read_text().split()[0])
    os.kill(pg_pid, signal.SIGKILL)

    assert sandbox_main(["--dir", str(sandbox.root), "up"]) == 0
    second = sandbox.read_state()
    assert all(lifecycle.status(sandbox).values())
    assert not any(is_ours(pid, str(sandbox.root)) for pid in first.pids.values())
    assert not Path(first.pg_dir).exists()

    assert sandbox_main(["--dir", str(sandbox.root), "down"]) == 0
    assert not any(is_ours(pid, str(sandbox.root)) for pid in second.pids.values())
    assert not Path(second.pg_dir).exists()
    assert "sandbox stopped" in capsys.readouterr().out
