"""Faults of the platform's resources: CPU and memory hogs inside its cgroup, a full or busy data
volume, and the monitoring's history of them rewritten."""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sandbox import cgroup, lifecycle, metrics
from sandbox.active import remember, stop_fault_processes
from sandbox.errors import SandboxError
from sandbox.faults.base import D11, ERROR, WARNING, Fault, _stop_fault_process
from sandbox.state import Sandbox, State, atomic_write, is_ours, spawn

CPU_HOG = "while True: pass"
# Wait to be moved into the cgroup, then take and touch the memory (untouched pages are not charged).
MEMORY_HOG = (
    "import pathlib, sys, time; time.sleep(0.5); hog = b'\\x01' * int(sys.argv[1]); "
    "pathlib.Path(sys.argv[2]).touch(); time.sleep(86400)"
)
# Four writers that each rewrite a block and wait for it to reach the disk, over and over (a runaway export).
IO_HOG = (
    "import os, sys, threading\n"
    "def write(n):\n"
    "    f = os.open(f'{sys.argv[1]}/io-hog-{n}', os.O_WRONLY | os.O_CREAT)\n"
    "    while True:\n"
    "        os.pwrite(f, b'x' * 65536, 0); os.fsync(f)\n"
    "for n in range(4): threading.Thread(target=write, args=(n,)).start()\n"
)


def _hog(fault: str) -> Callable[[Sandbox, State], None]:
    def inject(sandbox: Sandbox, state: State) -> None:
        if not state.cgroup:
            raise SandboxError("this sandbox has no cgroup of its own to load: making one needs root")
        marker = sandbox.run_logs / "hogged"
        if fault == "cpu-hog":
            command = [sys.executable, "-c", CPU_HOG]
        else:
            used, limit = cgroup.memory_in_use(state.cgroup)
            command = [sys.executable, "-c", MEMORY_HOG, str(int(limit * 0.93) - used), str(marker)]
        env = {**os.environ, "SANDBOX_DIR": str(sandbox.root)}
        pid = lifecycle.contain(sandbox, spawn(command, sandbox.run_logs / f"fault-{fault}.out", env=env))
        remember(sandbox, fault, {"pid": pid})
        deadline = time.monotonic() + 30
        while fault == "memory-hog" and not marker.exists():
            if time.monotonic() > deadline or not is_ours(pid, str(sandbox.root)):
                raise SandboxError(f"the memory hog did not take its memory: see {sandbox.run_logs}")
            time.sleep(0.1)

    return inject


def _fill_data_volume(sandbox: Sandbox, state: State) -> None:
    """Fill the platform's data volume to 97 %: the next big write fails."""
    if not state.data_mount:
        raise SandboxError("this sandbox has no data volume to fill: mounting one needs root")
    usage = shutil.disk_usage(state.data_mount)
    usable = usage.used + usage.free  # as df reckons Use%: a file system's own metadata is not in it
    with open(Path(state.data_mount) / "filler", "wb") as out:
        out.write(b"\0" * max(0, int(usable * 0.97) - usage.used))


def _empty_data_volume(sandbox: Sandbox, state: State) -> None:
    if state.data_mount:
        (Path(state.data_mount) / "filler").unlink(missing_ok=True)


def _saturate_io(sandbox: Sandbox, state: State) -> None:
    if not state.data_mount or not Path(state.data_mount).is_mount():
        raise SandboxError("this sandbox has no data volume of its own to load: mounting one needs root")
    pid = spawn([sys.executable, "-c", IO_HOG, state.data_mount], sandbox.run_logs / "fault-io-hog.out")
    remember(sandbox, "io-saturated", {"pid": pid})
    time.sleep(0.5)


def _remove_io_hog_files(sandbox: Sandbox, state: State) -> None:
    stop_fault_processes(sandbox)
    for leftover in Path(state.data_mount or sandbox.data).glob("io-hog-*"):
        leftover.unlink()


def _reshape_history(resource: str | None, value: float, hours_ago: float, minutes: float):
    """Rewrite a stretch of the monitoring's history: `resource` at `value`, or (None) no samples at all."""

    def inject(sandbox: Sandbox, state: State) -> None:
        start = time.time() - hours_ago * 3600
        rows = []
        for t, sample in metrics.read(sandbox.metrics):
            if start <= t < start + minutes * 60:
                if resource is None:
                    continue
                sample = {**sample, resource: value}
            rows.append(f"{t:.0f}," + ",".join(f"{sample[r]:g}" for r in metrics.RESOURCES) + "\n")
        atomic_write(sandbox.metrics, "ts," + ",".join(metrics.RESOURCES) + "\n" + "".join(rows))

    return inject


def _rewrite_history(sandbox: Sandbox, state: State) -> None:
    metrics.write_history(sandbox.metrics, time.time(), metrics.disk_percent(sandbox, state))


FAULTS: list[Fault] = [
    Fault("disk-nearly-full", "the platform's data volume filled to 97 %", ("T3",),
          {"checks/test_resources.py::test_disks_have_room[sandbox]": ERROR}, _fill_data_volume,
          _empty_data_volume),
    Fault("cpu-hog", "a runaway process uses all the CPU the platform's cgroup may use", ("D6", "T3"),
          {"checks/test_resources.py::test_cpu_under_limit[sandbox]": WARNING}, _hog("cpu-hog"),
          _stop_fault_process),
    Fault("memory-hog", "a leaking process holds 93 % of the platform's memory limit", ("D6", "T3"),
          {"checks/test_resources.py::test_memory_under_limit[sandbox]": WARNING}, _hog("memory-hog"),
          _stop_fault_process),
    Fault("io-saturated", "four writers keep the data volume's device busy with synchronous writes", ("T3",),
          {"checks/test_resources.py::test_disks_keep_up_with_their_io[sandbox]": WARNING}, _saturate_io,
          _remove_io_hog_files),
    Fault("cpu-busy-afternoon", "the CPU ran at 96 % for 40 minutes six hours ago", ("D11",),
          {f"{D11}[sandbox-cpu]": WARNING}, _reshape_history("cpu", 96, 6, 40), _rewrite_history),
    Fault("memory-climbing", "memory above 90 % for the last three hours", ("D11",),
          {f"{D11}[sandbox-memory]": WARNING}, _reshape_history("memory", 91, 3, 180), _rewrite_history),
    Fault("disk-full-for-hours", "the data volume sat at 97 % for two hours this morning", ("D11",),
          {f"{D11}[sandbox-disk]": ERROR}, _reshape_history("disk", 97, 8, 120), _rewrite_history),
    Fault("network-saturated", "950 Mbit/s for half an hour (a bulk copy on the service link)", ("D11",),
          {f"{D11}[sandbox-network]": WARNING}, _reshape_history("network", 950, 4, 30), _rewrite_history),
    Fault("monitoring-gap", "the monitoring recorded nothing for four hours", ("D11",),
          {f"{D11}[*]": WARNING}, _reshape_history(None, 0, 9, 240), _rewrite_history),
]  # fmt: skip
