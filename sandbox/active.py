"""The record of the faults injected into a running sandbox (faults.json), and the processes they started.

The lifecycle stops those processes on `down` by reading this record, so it never needs the catalogue:
faults build on the lifecycle, never the other way.
"""

from __future__ import annotations

import json

from sandbox.state import Sandbox, atomic_write, stop_process


def active(sandbox: Sandbox) -> dict[str, dict]:
    """Every active fault by name, with what it recorded (a helper process's pid)."""
    try:
        return json.loads(sandbox.faults_file.read_text())
    except (OSError, ValueError):
        return {}


def remember(sandbox: Sandbox, name: str, info: dict | None = None) -> None:
    """Record `name` as active, with `info` merged into what it recorded before."""
    found = active(sandbox)
    found[name] = {**found.get(name, {}), **(info or {})}
    atomic_write(sandbox.faults_file, json.dumps(found))


def stop_fault_processes(sandbox: Sandbox) -> None:
    """Stop every process a fault started, and take away the markers they left."""
    for info in active(sandbox).values():
        if "pid" in info:
            stop_process(info["pid"], str(sandbox.root))
    for marker in ("held", "hogged"):
        (sandbox.run_logs / marker).unlink(missing_ok=True)
