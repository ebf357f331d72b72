"""The processes of a host, read over testinfra with `ps` (whole command lines, also without a terminal)."""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Process:
    pid: int
    started: float  # epoch seconds
    args: str


def running(host) -> list[Process]:
    now = time.time()
    out = []
    for line in host.check_output("ps -eww -o pid=,etimes=,args=").splitlines():
        pid, elapsed, args = [*line.split(None, 2), "", ""][:3]
        if pid.isdigit() and elapsed.isdigit():
            out.append(Process(int(pid), now - int(elapsed), args))
    return out


def matching(host, wanted: list[str]) -> dict[str, list[Process]]:
    """Each wanted command-line substring → the processes whose command line holds it."""
    processes = running(host)
    return {name: [p for p in processes if name in p.args] for name in wanted}
