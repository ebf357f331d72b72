"""The fleet (sandbox.fleet) against one host: the daily run's time, the ssh connections it opens, and the bytes a
window read moves off a remote 1 GB access log against the window's own bytes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

from opscheck.judge.logformats import access_time
from opscheck.judge.logstats import traffic
from opscheck.plugin.hosts import Fleet
from opscheck.probes.files import HostFiles
from opscheck.probes.logs import LogFile, seek_to
from opscheck.target.loader import load_target
from sandbox import lifecycle
from sandbox.state import Sandbox

REPO = Path(__file__).resolve().parent.parent


def _daily(target_file: Path, secrets: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "pytest", "-m", "daily", f"--target={target_file}", "-q",
                          f"--reports-dir={REPO / 'reports' / 'bench'}"], cwd=REPO, env={**os.environ, **secrets},
                         capture_output=True, text=True)  # fmt: skip
    return time.perf_counter() - started, run.stdout.strip().splitlines()[-1]


def _accepted(sandbox: Sandbox) -> int:
    """Connections the fleet's sshds have accepted so far (their logs, LogLevel VERBOSE)."""
    return sum(len(re.findall("Accepted publickey", (sandbox.run_logs / f"host-{h}.out").read_text()))
               for h in ("app", "db", "backup"))  # fmt: skip


def fleet(folder: Path, large_log: Path) -> dict[str, str]:
    one, many = Sandbox(folder / "one-host"), Sandbox(folder / "fleet")
    lifecycle.up(one)
    lifecycle.up(many, fleet=True)
    try:
        secrets_one = {k: v for k, v in one.secrets().items() if k.startswith("OPSCHECK_")}
        secrets_many = {k: v for k, v in many.secrets().items() if k.startswith("OPSCHECK_")}
        _daily(one.target_file, secrets_one), _daily(many.target_file, secrets_many)  # warm
        one_s, one_said = _daily(one.target_file, secrets_one)
        before = _accepted(many)
        many_s, many_said = _daily(many.target_file, secrets_many)
        connections = _accepted(many) - before
        moved, window = _window_bytes(many, large_log, secrets_many)
    finally:
        lifecycle.down(many)
        lifecycle.down(one)
    return {
        f"one host: pytest -m daily ({one_said})": f"{one_s:.2f} s",
        f"fleet of 3 over ssh ({many_said})": f"{many_s:.2f} s",
        "fleet / one host (goal ≤ 1.5×)": f"{many_s / one_s:.2f}× — {'met' if many_s / one_s <= 1.5 else 'not met'}",
        "ssh connections opened by the run (goal: one per host per process)": f"{connections} for 3 hosts",
        "bytes moved for the last 2 h of a 1 GB remote access log / the window's own": (
            f"{moved / 2**20:.1f} MB / {window / 2**20:.1f} MB = {moved / window:.3f}× (goal ≤ 1.2×) — "
            f"{'met' if moved / window <= 1.2 else 'not met'}"),
    }  # fmt: skip


def _window_bytes(sandbox: Sandbox, large_log: Path, secrets: dict[str, str]) -> tuple[int, int]:
    """Read the last two hours of a 1 GB access log on the app host, counting what crosses the connection."""
    remote = sandbox.stored("logs") / "big-access.log"
    os.link(large_log, remote) if large_log.stat().st_dev == remote.parent.stat().st_dev else remote.write_bytes(
        large_log.read_bytes())  # fmt: skip
    target = load_target(sandbox.target_file, environ=secrets)
    hosts = Fleet(target.spec)
    try:
        files = hosts.files(target.spec.hosts[0])
        assert isinstance(files, HostFiles)
        counted = _Counting(files)
        path = str(sandbox.root / "logs" / "big-access.log")
        with open(large_log, "rb") as handle:
            size = handle.seek(0, 2)
            handle.seek(max(0, size - 4096))
            end = access_time(handle.read().splitlines()[-1])
            start = seek_to(handle, size, end - 2 * 3600, access_time)
        traffic(LogFile("access", path, access_time, counted).lines(since=end - 2 * 3600))
        return counted.moved, size - start
    finally:
        hosts.close()
        remote.unlink()


class _Counting(HostFiles):
    """A host's files, counting the bytes every read brings over."""

    def __init__(self, inner: HostFiles) -> None:
        super().__init__(inner.host, inner.where)
        self.moved = 0

    def read_range(self, path: str, offset: int, count: int) -> bytes:
        data = super().read_range(path, offset, count)
        self.moved += len(data)
        return data
