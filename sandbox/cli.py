"""`opscheck sandbox up | status | down | faults | fault NAME | heal | backup`: the reference platform's controls."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from sandbox import backup, faults, lifecycle, maintain, restore
from sandbox.active import active
from sandbox.errors import SandboxError
from sandbox.shape import SHAPES
from sandbox.state import Sandbox, default_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="opscheck sandbox", description=__doc__)
    parser.add_argument("--dir", type=Path, default=None, help="the sandbox's folder (default: $OPSCHECK_SANDBOX_DIR "
                        "or .sandbox in the repository)")  # fmt: skip
    parser.add_argument("--fleet", action="store_true", help="the fleet sandbox: its platform spread over hosts "
                        "of its own, each an sshd in its own namespaces (target sandbox-fleet)")  # fmt: skip
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("up", help="start a fresh sandbox (ending any earlier one in the same folder)")
    start.add_argument("--rows", type=int, default=10_000, help="about how many stock_prices rows (default 10000)")
    start.add_argument(
        "--shape",
        choices=SHAPES,
        default="default",
        help="how the platform is laid out: default, or manual (built literally from the manual)",
    )
    commands.add_parser("status", help="what is running")
    commands.add_parser("down", help="stop everything the sandbox started")
    commands.add_parser("faults", help="the fault catalogue: name, what it breaks, which items catch it")
    fault = commands.add_parser("fault", help="inject one fault into the running sandbox")
    fault.add_argument("name")
    commands.add_parser("heal", help="undo every fault and wait until the platform is healthy")
    again = commands.add_parser("restore", help="restore the platform from a backup set (database, config)")
    again.add_argument("set", nargs="?", help="the set's folder name (default: the newest daily set)")
    window = commands.add_parser("maintain", help="the weekly maintenance window, now: backup, VACUUM ANALYZE, "
                                 "REINDEX, logrotate, restart")  # fmt: skip
    window.add_argument("--skip", action="append", default=[], choices=maintain.STEPS, help="leave a step out")
    job = commands.add_parser("backup", help="run the backup job once (what cron runs)")
    job.add_argument("--kind", choices=("hourly", "daily", "weekly"), required=True)
    args = parser.parse_args(argv)
    sandbox = Sandbox(args.dir or default_dir(args.fleet))
    try:
        return COMMANDS[args.command](sandbox, args)
    except SandboxError as exc:
        print(f"opscheck sandbox: {exc}", file=sys.stderr)
        return 1


def _up(sandbox: Sandbox, args: argparse.Namespace) -> int:
    started = time.monotonic()
    state = lifecycle.up(sandbox, rows=args.rows, shape=args.shape, fleet=args.fleet)
    print(f"sandbox up in {time.monotonic() - started:.1f} s: {sandbox.root}")
    print(f"  API https://127.0.0.1:{state.ports['api']}  front end http://127.0.0.1:{state.ports['frontend']}")
    print(f"  PostgreSQL 127.0.0.1:{state.ports['postgres']}  Redis 127.0.0.1:{state.ports['redis']}")
    print(f"  target file {sandbox.target_file}; run: pytest -m daily --target sandbox")
    return 0


def _status(sandbox: Sandbox, args: argparse.Namespace) -> int:
    running = lifecycle.status(sandbox)
    if not running:
        print(f"no sandbox in {sandbox.root}")
        return 3
    for name, alive in running.items():
        print(f"{name:12} {'running' if alive else 'DOWN'}")
    injected = active(sandbox)
    print("faults:      " + (", ".join(injected) if injected else "none"))
    return 0 if all(running.values()) else 1


def _down(sandbox: Sandbox, args: argparse.Namespace) -> int:
    print("sandbox stopped" if lifecycle.down(sandbox) else f"no sandbox was running in {sandbox.root}")
    return 0


def _faults(sandbox: Sandbox, args: argparse.Namespace) -> int:
    for fault in faults.CATALOGUE.values():
        print(fault.line())
    return 0


def _restore(sandbox: Sandbox, args: argparse.Namespace) -> int:
    started = time.monotonic()
    folder = restore.restore(sandbox, args.set)
    print(f"restored from {folder.name} in {time.monotonic() - started:.1f} s")
    print("  now prove it: pytest -m post_restore --target sandbox")
    return 0


def _maintain(sandbox: Sandbox, args: argparse.Namespace) -> int:
    started = maintain.maintain(sandbox, frozenset(args.skip))
    print(
        f"maintenance window started {started.isoformat(timespec='seconds')}, done; skipped: {args.skip or 'nothing'}"
    )
    print("  now prove it: pytest -m post_maintenance --target sandbox (the window is recorded in maintenance.json)")
    return 0


def _fault(sandbox: Sandbox, args: argparse.Namespace) -> int:
    fault = faults.inject(sandbox, args.name)
    print(f"injected {fault.name}: {fault.breaks}")
    for check, level in fault.catches.items():
        print(f"  must fail at {level.upper():8} {check}")
    return 0


def _heal(sandbox: Sandbox, args: argparse.Namespace) -> int:
    healed = faults.heal(sandbox)
    print("healed: " + (", ".join(healed) if healed else "nothing was broken") + "; every part healthy")
    return 0


def _backup(sandbox: Sandbox, args: argparse.Namespace) -> int:
    state = sandbox.read_state()
    if state is None:
        raise SandboxError(f"no sandbox is running in {sandbox.root}")
    folder = backup.run_job(sandbox, state, args.kind, datetime.now(UTC))
    print(f"Backup completed: {folder}")
    return 0


COMMANDS = {
    "up": _up, "status": _status, "down": _down, "faults": _faults, "fault": _fault, "heal": _heal,
    "backup": _backup, "restore": _restore, "maintain": _maintain,
}  # fmt: skip
