"""CPU and memory of a host, or of one cgroup on it (a container's view), read over testinfra.

With a cgroup, usage is judged against what the cgroup may use (its CPU quota, its memory
limit), as `docker stats` does; without one, against the whole machine (/proc/stat, /proc/meminfo).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from opscheck.errors import ProbeError

ROOT = "/sys/fs/cgroup"


@dataclass(frozen=True)
class Usage:
    percent: float
    detail: str


def _run(host, command: str, what: str) -> str:
    result = host.run(command)
    if result.rc != 0:
        raise ProbeError(what, host.backend.get_pytest_id(), (result.stderr or result.stdout).strip() or "failed")
    return result.stdout


def cpu(host, cgroup: str | None, sample_s: float) -> Usage:
    """Busy share over `sample_s` seconds: of the machine's CPUs, or of the cgroup's quota."""
    if not cgroup:
        out = _run(host, f"head -1 /proc/stat; sleep {sample_s}; head -1 /proc/stat", "CPU (/proc/stat)").split("\n")
        before, after = ([int(v) for v in line.split()[1:]] for line in out[:2])
        total = sum(after) - sum(before)
        idle = (after[3] + after[4]) - (before[3] + before[4])  # idle + iowait
        return Usage(100.0 * (total - idle) / total if total else 0.0, f"whole host over {sample_s:g} s")
    v2, v1 = f"{ROOT}/{cgroup}", f"{ROOT}/cpu/{cgroup}"
    # The same six numbers from v2 or v1: unit, usage before, usage after, CPUs, quota, period.
    script = (
        f"if [ -f {v2}/cpu.stat ]; then unit=1000000; u() {{ awk '/^usage_usec/{{print $2}}' {v2}/cpu.stat; }}; "
        f"limits=$(cat {v2}/cpu.max); else unit=1000000000; u() {{ cat {ROOT}/cpuacct/{cgroup}/cpuacct.usage; }}; "
        f'limits="$(cat {v1}/cpu.cfs_quota_us) $(cat {v1}/cpu.cfs_period_us)"; fi; '
        f"echo $unit; u; sleep {sample_s}; u; nproc; echo $limits"
    )
    unit, before, after, cpus, quota, period = _run(host, script, f"CPU (cgroup {cgroup})").split()
    used_cpus = (int(after) - int(before)) / int(unit) / sample_s
    allowed = int(cpus) if quota in ("max", "-1") else int(quota) / int(period)
    return Usage(100.0 * used_cpus / allowed, f"cgroup {cgroup}, {allowed:g} CPU(s) allowed, over {sample_s:g} s")


def memory(host, cgroup: str | None) -> Usage:
    """Memory in use (less reclaimable page cache) against the machine's total or the cgroup's limit."""
    meminfo = {
        line.split(":")[0]: int(line.split()[1]) * 1024
        for line in _run(host, "cat /proc/meminfo", "memory (/proc/meminfo)").splitlines()
        if len(line.split()) >= 2
    }
    total = meminfo["MemTotal"]
    if not cgroup:
        used = total - meminfo["MemAvailable"]
        return Usage(100.0 * used / total, f"{used / 2**20:.0f} of {total / 2**20:.0f} MiB on the whole host")
    v2, v1 = f"{ROOT}/{cgroup}", f"{ROOT}/memory/{cgroup}"
    script = (
        f"if [ -f {v2}/memory.current ]; then cat {v2}/memory.current {v2}/memory.max; "
        f"grep -w inactive_file {v2}/memory.stat; else cat {v1}/memory.usage_in_bytes {v1}/memory.limit_in_bytes; "
        f"grep -w total_inactive_file {v1}/memory.stat; fi"
    )
    out = _run(host, script, f"memory (cgroup {shlex.quote(cgroup)})").split()
    usage, limit, inactive = int(out[0]), out[1], int(out[3])
    limit_bytes = total if limit == "max" else min(int(limit), total)
    used = usage - inactive
    return Usage(100.0 * used / limit_bytes, f"{used / 2**20:.0f} of {limit_bytes / 2**20:.0f} MiB in cgroup {cgroup}")


@dataclass(frozen=True)
class DeviceIo:
    """A block device's work over the sample, as iostat -x shows it."""

    path: str
    device: str
    busy_percent: float  # share of the time with I/O in flight (%util)
    await_ms: float  # mean time an I/O took, queueing included
    operations: int


def io(host, paths: list[str], sample_s: float) -> tuple[list[DeviceIo], list[str]]:
    """I/O of the block devices behind `paths` over `sample_s`; and the paths on no block device (tmpfs, …)."""
    quoted = " ".join(shlex.quote(p) for p in paths)
    stats = "echo --; cat /proc/diskstats"
    script = f"df -P {quoted} | tail -n +2 | awk '{{print $1}}'; {stats}; sleep {sample_s}; {stats}"
    sources, before, after = _run(host, script, "I/O (/proc/diskstats)").split("--\n")
    stats = [_diskstats(before), _diskstats(after)]
    devices, unbacked = [], []
    for path, source in zip(paths, sources.split(), strict=True):
        name = _run(host, f"readlink -f {shlex.quote(source)}", "device name").strip().rsplit("/", 1)[-1]
        if not source.startswith("/dev/") or name not in stats[0]:
            unbacked.append(f"{path} ({source})")
            continue
        (ios0, ms0, ticks0), (ios1, ms1, ticks1) = stats[0][name], stats[1][name]
        done = ios1 - ios0
        devices.append(DeviceIo(path, name, min(100.0, 100 * (ticks1 - ticks0) / (sample_s * 1000)),
                                (ms1 - ms0) / done if done else 0.0, done))  # fmt: skip
    return devices, unbacked


def _diskstats(text: str) -> dict[str, tuple[int, int, int]]:
    """device → (I/Os completed, ms spent on them, ms with I/O in flight), from /proc/diskstats."""
    out = {}
    for line in text.splitlines():
        f = line.split()
        if len(f) >= 14:
            out[f[2]] = (int(f[3]) + int(f[7]), int(f[6]) + int(f[10]), int(f[12]))
    return out
