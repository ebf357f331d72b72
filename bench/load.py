"""The load rig against wrk on the sandbox's cheapest endpoint (/health), in the same run: the rig must
not be what limits a load test. wrk's figure is the ceiling of the endpoint on this machine."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from opscheck.probes import load
from opscheck.target.loader import LoadedTarget

DURATION_S = 15
USERS = 50
NO_THINK = {"weights": {"liveness": 1}, "think_s": [0, 0]}


def rig_against_wrk(target: LoadedTarget) -> dict[str, str]:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: apt-get install wrk (the ceiling the rig is measured against)")
    url = load.host(target) + "/health"
    profile = load.Profile("bench", USERS, USERS, DURATION_S)
    rows: dict[str, str] = {}
    figures: dict[str, float] = {}
    for workers in (1, 2):
        with tempfile.TemporaryDirectory() as folder:
            result = load.run(target, profile, workers, Path(folder), f"bench-{workers}", traffic=NO_THINK)
        total = result.figures["total"]
        figures[f"rig, {workers} worker(s)"] = total["rps"]
        rows[f"locust rig, {workers} worker(s)"] = (
            f"{total['rps']:,.0f} requests/s ({total['requests']:,} requests, {total['failures']} failed, "
            f"p95 {total['p95_ms']} ms)"
        )
    wrk = subprocess.run(["wrk", "-t", "2", "-c", str(USERS), "-d", f"{DURATION_S}s", url],
                         capture_output=True, text=True, timeout=DURATION_S + 30)  # fmt: skip
    found = re.search(r"Requests/sec:\s+([\d.]+)", wrk.stdout)
    if not found:
        raise SystemExit(f"wrk gave no figure: {wrk.stdout[-300:]} {wrk.stderr[-300:]}")
    ceiling = float(found[1])
    rows["wrk (2 threads, 50 connections)"] = f"{ceiling:,.0f} requests/s"
    for name, rps in figures.items():
        rows[f"{name} / wrk"] = f"{rps / ceiling:.2f}×"
    return rows
