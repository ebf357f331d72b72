"""The whole daily run against the same checklist done by hand (`bench/by_hand.py`) on the same sandbox.

Measured as an operator runs it: the `pytest` command of this environment (as the README says, not
`python -m pytest`, which puts the repository's egg-info on the path and so rewrites the asserts of all of
opscheck's modules, not only the checks'), with Python writing its bytecode, after one untimed run (each
morning's run follows yesterday's; a machine set to PYTHONDONTWRITEBYTECODE=1 that never had a cache compiles,
and pytest rewrites, every module on every run). Each figure is the median of `runs`; the floors are what any
pytest run of the checks pays before its first check.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench import by_hand
from bench.goals import Goal, at_most
from opscheck.target.loader import LoadedTarget

REPO = Path(__file__).resolve().parent.parent
PYTEST = Path(sys.executable).parent / "pytest"


def _timed(command: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
    return time.perf_counter() - started, done


def _median(command: list[str], env: dict[str, str], runs: int) -> tuple[float, subprocess.CompletedProcess[str]]:
    timed = [_timed(command, env) for _ in range(runs)]
    return statistics.median(seconds for seconds, _ in timed), timed[-1][1]


def daily(target: LoadedTarget, secrets: dict[str, str], runs: int = 5) -> dict[str, str | Goal]:
    """The run against the checklist by hand, each as a whole and without the CPU and I/O interval both wait (a
    fixed wait on both sides draws any ratio towards 1: the goal is judged without it); and against the sequence
    this benchmark used before."""
    base = {**os.environ, **secrets, "PGPASSWORD": secrets["OPSCHECK_SANDBOX_PG_PASSWORD"]}
    operator = {k: v for k, v in base.items() if k != "PYTHONDONTWRITEBYTECODE"}
    commands = by_hand.script(target)
    shell_s, shell = _median(["bash", "-ec", "\n".join(commands)], base, runs)
    if shell.returncode != 0:
        raise RuntimeError(f"the checklist by hand failed: {shell.stderr.strip()[-300:]}")
    before = by_hand.reachability(target)
    before_s, _ = _median(["bash", "-c", "\n".join(before)], base, runs)
    reports = REPO / "reports" / "bench"
    pytest = [str(PYTEST), "-m", "daily", f"--target={target.path}", "-q", f"--reports-dir={reports}"]
    _timed(pytest, operator)  # yesterday's run: the bytecode caches as an operator's machine has them
    ours_s, run = _median(pytest, operator, runs)
    python_s, _ = _median([sys.executable, "-c", "pass"], operator, runs)
    version_s, _ = _median([str(PYTEST), "--version"], operator, runs)
    collect_s, _ = _median([*pytest, "--collect-only"], operator, runs)
    wait = by_hand.interval_s(target)
    covered = by_hand.items(by_hand.checklist(target))
    return {
        f"the daily checklist by hand, median of {runs}": f"{shell_s:.2f} s ({len(commands)} commands for "
        f"{len(covered)} items: {' '.join(covered)}; {wait} s of it the CPU and I/O interval, as the run's)",
        f"pytest -m daily, median of {runs} ({run.stdout.strip().splitlines()[-1]})": f"{ours_s:.2f} s",
        "  floor: python -c pass": f"{python_s:.2f} s",
        "  floor: pytest --version": f"{version_s:.2f} s",
        "  floor: pytest -m daily --collect-only (plugins, target, checks collected; none run)": f"{collect_s:.2f} s",
        "ratio opscheck / the checklist by hand, each as a whole": f"{ours_s / shell_s:.2f}×",
        f"ratio without the {wait} s interval both wait": at_most((ours_s - wait) / (shell_s - wait), 3, "×"),
        "  the sequence this benchmark used before": f"{before_s:.2f} s ({len(before)} commands: health, database, "
        f"Redis, backups listed, app log, awk; nothing sampled); opscheck / it {ours_s / before_s:.1f}×",
        "  the floor (--collect-only) / the checklist by hand": f"{collect_s / shell_s:.2f}×",
    }
