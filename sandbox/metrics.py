"""The platform's resource history, as its monitoring keeps it: one CSV row per sample, served as Prometheus does.

`up` writes a week of plausible history (the daily rhythm of a market-hours service); from then on
the monitoring process appends what it really measures of the sandbox every SAMPLE_S seconds.
Its query API answers `sandbox:<resource>{instance="<host>"}` over /api/v1/query_range.
"""

from __future__ import annotations

import random
import re
import shutil
import time
from pathlib import Path

from sandbox import cgroup
from sandbox.state import Sandbox, State, atomic_write

RESOURCES = ("cpu", "memory", "disk", "network")
HISTORY_STEP_S = 60
SAMPLE_S = 15
LOOKBACK_S = 300  # as Prometheus: a step takes the newest sample at most this old
QUERY = re.compile(r'^sandbox:(?P<resource>cpu|memory|disk|network)_(?:percent|mbps)\{instance="(?P<host>[^"]+)"\}$')
HOST = "sandbox"


def query_for(resource: str) -> str:
    """The query the sandbox's target file names for `resource` (the target fills in `{instance}`)."""
    return f'sandbox:{resource}_{"mbps" if resource == "network" else "percent"}{{instance="{{instance}}"}}'


def data_path(sandbox: Sandbox, state: State) -> Path:
    """Where the platform keeps its data: its own volume where it has one."""
    return Path(state.data_mount) if state.data_mount else sandbox.root


def disk_percent(sandbox: Sandbox, state: State) -> float:
    usage = shutil.disk_usage(data_path(sandbox, state))
    return 100 * usage.used / usage.total


def write_history(path: Path, end: float, disk_percent: float, days: int = 8, seed: int = 11) -> None:
    """`days` of samples up to `end`: busier while the Tokyo market is open, quiet at night; the disk creeping up."""
    rng = random.Random(seed)
    start = end - days * 86400
    rows = ["ts,cpu,memory,disk,network\n"]
    t = start - start % HISTORY_STEP_S
    while t <= end:
        hour = (t % 86400) / 3600
        busy = 0.9 if hour < 6 else 0.3 if hour < 14 else 0.05  # the Tokyo market is open 00:00-06:00 UTC
        rows.append(
            f"{t:.0f},{12 + 30 * busy + rng.uniform(-3, 3):.1f},{42 + 10 * busy + rng.uniform(-1, 1):.1f},"
            f"{max(0.0, disk_percent - 0.5 * (end - t) / 86400):.1f},{2 + 40 * busy + rng.uniform(0, 4):.1f}\n"
        )
        t += HISTORY_STEP_S
    atomic_write(path, "".join(rows))


def read(path: Path) -> list[tuple[float, dict[str, float]]]:
    out = []
    with path.open(encoding="utf-8") as lines:
        next(lines, None)
        for line in lines:
            fields = line.rstrip("\n").split(",")
            if len(fields) == 5:
                out.append((float(fields[0]), dict(zip(RESOURCES, map(float, fields[1:]), strict=True))))
    return out


def query_range(path: Path, query: str, start: float, end: float, step: float) -> dict:
    """The Prometheus answer for `query` over [start, end]: a matrix of one series, or an error body."""
    match = QUERY.match(query.strip())
    if match is None or match["host"] != HOST:
        return {"status": "error", "errorType": "bad_data", "error": f"unknown series {query!r}"}
    resource = match["resource"]
    samples = read(path)
    values, i = [], 0
    t = start
    while t <= end:
        while i < len(samples) and samples[i][0] <= t:
            i += 1
        if i and t - samples[i - 1][0] <= LOOKBACK_S:
            values.append([t, f"{samples[i - 1][1][resource]:g}"])
        t += step
    result = [{"metric": {"instance": HOST, "resource": resource}, "values": values}] if values else []
    return {"status": "success", "data": {"resultType": "matrix", "result": result}}


class Sampler:
    """What the monitoring measures of the sandbox: its cgroup's CPU and memory, its data volume, loopback traffic."""

    def __init__(self, cgroup_name: str, data_path: Path) -> None:
        self.cgroup = cgroup_name
        self.data_path = data_path
        self.last = (time.time(), cgroup.cpu_seconds(cgroup_name) if cgroup_name else 0.0, _loopback_bytes())

    def sample(self) -> str:
        now, cpu_s, net = time.time(), cgroup.cpu_seconds(self.cgroup) if self.cgroup else 0.0, _loopback_bytes()
        elapsed = max(now - self.last[0], 1e-3)
        cpu = 100 * (cpu_s - self.last[1]) / elapsed / cgroup.CPU_QUOTA if self.cgroup else 0.0
        used, limit = cgroup.memory_in_use(self.cgroup) if self.cgroup else (0, 1)
        disk = shutil.disk_usage(self.data_path)
        mbps = 8 * (net - self.last[2]) / elapsed / 1e6
        self.last = (now, cpu_s, net)
        return f"{now:.0f},{cpu:.1f},{100 * used / limit:.1f},{100 * disk.used / disk.total:.1f},{mbps:.2f}\n"


def _loopback_bytes() -> int:
    for line in Path("/proc/net/dev").read_text().splitlines():
        name, _, counters = line.partition(":")
        if name.strip() == "lo":
            fields = counters.split()
            return int(fields[0]) + int(fields[8])
    return 0
