"""`python bench/run.py`: every benchmark, each printed as figures and a ratio against the manual's commands.

Generates a ~1 GB access log (--mb) and a 10 MB one in /tmp/opscheck-bench (kept for the next run),
starts a sandbox of --rows stock_prices rows there, measures, and stops it.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import daily, database, drill, fleet, load, logs, selftests, silent
from bench.goals import Goal
from opscheck.target.loader import load_target
from sandbox import lifecycle
from sandbox.state import Sandbox

BENCHMARKS = ("logs", "integrity", "daily", "silent", "drill", "load", "fleet", "selftests")
LONG = ("selftests",)  # run only when named with --only: the whole self-test suite


def show(title: str, rows: dict[str, str | Goal]) -> None:
    """The figures, each with its goal and met / NOT MET where issue 20 set one."""
    print(f"\n{title}")
    width = max(len(k) for k in rows)
    for key, value in rows.items():
        print(f"  {key:<{width}}  {value}")
    goals = [value for value in rows.values() if isinstance(value, Goal)]
    if goals:
        print(f"  → {sum(g.met for g in goals)} of {len(goals)} goal(s) met")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=int, default=1024, help="size of the large access log (default 1024)")
    parser.add_argument("--rows", type=int, default=10_000_000, help="stock_prices rows for D4 (default 10 M)")
    parser.add_argument("--dir", type=Path, default=Path("/tmp/opscheck-bench"))
    parser.add_argument("--only", action="append", choices=BENCHMARKS, help="run only these (repeatable)")
    parser.add_argument("--before", action="store_true", help="logs: also the line-by-line engine (slow)")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    wanted = set(args.only or set(BENCHMARKS) - set(LONG))

    if "logs" in wanted:
        large = logs.make_access_log(args.dir / f"access-{args.mb}mb.log", args.mb)
        small = logs.make_access_log(args.dir / "access-10mb.log", 10)
        show("Log scan: every figure the checks take, the whole file", logs.scan(large, args.before))
        show("Window seek: the last 2 hours (the cost must not grow with the file)", logs.window(large, small))
        show("Weekly figures: seven rotated days, gzip included", logs.week(large, args.dir / "rotated"))
    if "fleet" in wanted:
        large = logs.make_access_log(args.dir / f"access-{args.mb}mb.log", args.mb)
        show("The fleet over ssh against one host", fleet.fleet(args.dir, large))
    if "selftests" in wanted:
        show("The self-tests, as CI runs them", selftests.selftests())
    if not wanted & {"integrity", "daily", "silent", "drill", "load"}:
        return

    sandbox = Sandbox(args.dir / "sandbox")
    print(f"\n(starting a sandbox with {args.rows:,} rows …)", flush=True)
    lifecycle.up(sandbox, rows=args.rows)
    try:
        secrets = {k: v for k, v in sandbox.secrets().items() if k.startswith("OPSCHECK_")}
        target = load_target(sandbox.target_file, environ=secrets)
        if "integrity" in wanted:
            show("Integrity (D4): every rule against one sequential scan", database.integrity(target))
        if "daily" in wanted:
            show("The whole daily run against the daily checklist by hand", daily.daily(target, secrets))
        if "silent" in wanted:
            env = {**os.environ, **secrets}
            ports = sandbox.read_state().ports
            show("Every endpoint a silent listener", silent.all_silent(sandbox.target_file, ports, env, args.dir))
            for fault in ("redis-down", "pg-down"):
                show(f"{fault}: root cause first", silent.one_part_down(sandbox.target_file, env, sandbox, fault))
        if "drill" in wanted:
            show("Restore drill (W5) against a bare replay of the same dump", drill.drill_against_bare_restore(target))
        if "load" in wanted:
            show("The load rig (locust) against wrk on /health", load.rig_against_wrk(target))
    finally:
        lifecycle.down(sandbox)


if __name__ == "__main__":
    main()
