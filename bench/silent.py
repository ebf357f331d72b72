"""Every endpoint a silent listener (accepts TCP, never answers), timeouts 3 s: the whole daily run, serial, must
take at most two timeouts beyond its start-up, because one preflight learns what is down and blocks the rest.

Then the sandbox's Redis, and its PostgreSQL, stopped: each is one root cause with its blocked checks under it.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TIMEOUT_S = 3.0
SERVICES = ("api", "frontend", "streaming", "monitoring", "postgres", "redis")


@contextlib.contextmanager
def silent_listeners(count: int) -> Iterator[list[int]]:
    """`count` loopback ports that complete every TCP handshake, hold the connection open and never say a byte."""
    sockets = []
    held: list[socket.socket] = []
    stop = threading.Event()
    for _ in range(count):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(256)
        sock.settimeout(0.2)
        sockets.append(sock)

    def hold() -> None:
        while not stop.is_set():
            for sock in sockets:
                with contextlib.suppress(OSError):
                    held.append(sock.accept()[0])

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    try:
        yield [s.getsockname()[1] for s in sockets]
    finally:
        stop.set()
        thread.join()
        for sock in [*sockets, *held]:
            sock.close()


def silenced(target_text: str, ports: dict[str, int], silent: dict[str, int]) -> str:
    """The sandbox's target file with every service's port a silent listener's, and every timeout 3 s."""
    for name, port in ports.items():
        if name in silent:
            target_text = re.sub(rf"(?<=[:=\"]){port}(?=\D)", str(silent[name]), target_text)
            target_text = re.sub(rf"(?<=port = ){port}\b", str(silent[name]), target_text)
    target_text = re.sub(r"(?m)^timeout_s = [\d.]+$", f"timeout_s = {TIMEOUT_S}", target_text)
    return re.sub(r"(?m)^connect_timeout_s = \d+$", f"connect_timeout_s = {int(TIMEOUT_S)}", target_text)


def daily_run(target_file: Path, env: dict[str, str], *extra: str) -> tuple[float, str, dict]:
    """Seconds, output and summary.json of one serial `pytest -m daily` against `target_file`."""
    reports = REPO / "reports" / "bench"
    before = set(reports.glob("*/")) if reports.exists() else set()
    started = time.perf_counter()
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-m", "daily", f"--target={target_file}", "-q", "-p", "no:randomly",
         f"--reports-dir={reports}", *extra],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    new = sorted(set(reports.glob("*/")) - before)
    summary = json.loads((new[-1] / "summary.json").read_text()) if new else {}
    return elapsed, run.stdout + run.stderr, summary


def all_silent(sandbox_target: Path, ports: dict[str, int], env: dict[str, str], work: Path) -> dict[str, str]:
    """The silent run beside a healthy one of the same moment: what silence costs beyond the suite's own work
    (start-up, collection, the checks that need no part: logs, backups, the host)."""
    healthy, _, _ = daily_run(sandbox_target, env)
    with silent_listeners(len(SERVICES)) as silent_ports:
        silent = dict(zip(SERVICES, silent_ports, strict=True))
        target = work / "silent.toml"
        target.write_text(silenced(sandbox_target.read_text(), ports, silent))
        elapsed, output, summary = daily_run(target, env)
        target.write_text(target.read_text() + "\n[topology]\npreflight = false\n")
        unguarded, _, _ = daily_run(target, env)
    extra, goal = elapsed - healthy, 2 * TIMEOUT_S
    causes = summary.get("root_causes", [])
    return {
        "healthy daily run, serial (start-up and the suite's own work)": f"{healthy:.1f} s",
        f"every endpoint silent, timeouts {TIMEOUT_S:g} s, serial": f"{elapsed:.1f} s",
        "the same without the preflight ([topology] preflight = false)": f"{unguarded:.1f} s",
        "what silence costs beyond the healthy run": f"{extra:+.1f} s  (goal ≤ 2 × one timeout = {goal:g} s: "
        f"{'met' if extra <= goal else 'NOT MET'})",
        "root causes named": f"{len(causes)}: " + ", ".join(c["part"] for c in causes),
        "checks failed / blocked by a root cause": (
            f"{sum(summary.get('failed_by_level', {}).values())} / {sum(len(c['blocks']) for c in causes)}"
        ),
        "pytest's own line": output.strip().splitlines()[-1] if output.strip() else "(no output)",
    }


def one_part_down(target_file: Path, env: dict[str, str], sandbox, fault: str) -> dict[str, str]:
    """A part stopped in the sandbox (`fault`): the run names it as the one root cause, its blocked checks under it."""
    from sandbox import faults

    faults.inject(sandbox, fault)
    try:
        elapsed, _, summary = daily_run(target_file, env)
    finally:
        faults.heal(sandbox)
    causes = summary.get("root_causes", [])
    failed = [c for c in summary.get("checks", []) if c["outcome"] in ("failed", "error")]
    blocked = [c for c in failed if c.get("blocked_by")]
    return {
        "whole daily run": f"{elapsed:.1f} s",
        "root causes": ", ".join(f"{c['id']} ({len(c['blocks'])} blocked)" for c in causes) or "none",
        "failures under it / independent of it": f"{len(blocked)} / {len(failed) - len(blocked)}",
    }
