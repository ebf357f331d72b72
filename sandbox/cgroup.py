"""The sandbox's own cgroup: half a CPU and 1 GiB, so D6 judges a container's view the sandbox owns.

Its services start unthrottled (`unthrottled`): four Python services importing FastAPI in half a CPU took
5 s to answer, against 1.5 s each alone; every up, heal, restore and maintenance restart paid it. D6 judges
the running platform, never its boot, so the half CPU is back before anything is judged.

cgroup v2 (one tree) or v1 (a tree per controller), whichever the machine has; root only.
Without one, the sandbox's target does not watch CPU and memory, and says so when D6 skips.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
V1_CONTROLLERS = ("cpu", "cpuacct", "memory")
CPU_QUOTA = 0.5
MEMORY_LIMIT = 1 << 30


def _folders(name: str) -> list[Path]:
    if (ROOT / "cgroup.controllers").exists():
        return [ROOT / name]
    return [ROOT / controller / name for controller in V1_CONTROLLERS]


def create(name: str) -> str:
    """Make the cgroup and set its limits; returns its name, or "" where cgroups cannot be had."""
    if os.geteuid() != 0:
        return ""
    try:
        for folder in _folders(name):
            folder.mkdir(exist_ok=True)
        if (ROOT / "cgroup.controllers").exists():
            with contextlib.suppress(OSError):
                (ROOT / "cgroup.subtree_control").write_text("+cpu +memory")
            (ROOT / name / "memory.max").write_text(str(MEMORY_LIMIT))
        else:
            (ROOT / "cpu" / name / "cpu.cfs_period_us").write_text("100000")
            (ROOT / "memory" / name / "memory.limit_in_bytes").write_text(str(MEMORY_LIMIT))
        _limit_cpu(name, CPU_QUOTA)
    except OSError:
        remove(name)
        return ""
    return name


def _limit_cpu(name: str, share: float | None) -> None:
    """At most `share` of a CPU for the cgroup's processes; None: no limit."""
    if (ROOT / "cgroup.controllers").exists():
        (ROOT / name / "cpu.max").write_text(f"{'max' if share is None else int(share * 100_000)} 100000")
    else:
        (ROOT / "cpu" / name / "cpu.cfs_quota_us").write_text("-1" if share is None else str(int(share * 100_000)))


@contextlib.contextmanager
def unthrottled(name: str) -> Iterator[None]:
    """The cgroup without its CPU limit for the block (services starting), the limit back after it whatever happens."""
    if not name:
        yield
        return
    _limit_cpu(name, None)
    try:
        yield
    finally:
        _limit_cpu(name, CPU_QUOTA)


def join(name: str, pid: int) -> None:
    for folder in _folders(name):
        with contextlib.suppress(OSError):
            (folder / "cgroup.procs").write_text(str(pid))


def remove(name: str) -> None:
    """Remove the cgroup once its processes are gone (they are stopped first)."""
    for folder in _folders(name):
        for _ in range(50):
            try:
                folder.rmdir()
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.1)


def memory_in_use(name: str) -> tuple[int, int]:
    """(bytes used, limit) of the cgroup."""
    if (ROOT / "cgroup.controllers").exists():
        return int((ROOT / name / "memory.current").read_text()), MEMORY_LIMIT
    return int((ROOT / "memory" / name / "memory.usage_in_bytes").read_text()), MEMORY_LIMIT


def cpu_seconds(name: str) -> float:
    """CPU time the cgroup's processes have used, in seconds."""
    if (ROOT / "cgroup.controllers").exists():
        stat = dict(line.split() for line in (ROOT / name / "cpu.stat").read_text().splitlines())
        return int(stat["usage_usec"]) / 1e6
    return int((ROOT / "cpuacct" / name / "cpuacct.usage").read_text()) / 1e9
