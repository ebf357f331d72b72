"""Log benchmarks: opscheck's scan against the manual's awk pipeline, and the window seek at two file sizes."""

from __future__ import annotations

import random
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sandbox.traffic import AGENT, CLIENTS, request

LINES_PER_SECOND = 5  # the generated log's traffic: the same rate at every size, so a 2 h window is the same


def make_access_log(path: Path, megabytes: int, seed: int = 1) -> Path:
    """A time-ordered access log of about `megabytes`, ending now (kept between runs of the same size)."""
    if path.exists() and path.stat().st_size >= megabytes * 1_000_000:
        return path
    rng = random.Random(seed)
    tails = []
    for _ in range(5000):
        method, target, status, seconds = request(rng)
        tails.append(f'"{method} {target} HTTP/1.1" {status} 512 "-" "{AGENT}" {seconds:.3f}\n')
    clients = [c + " - - [" for c in CLIENTS]
    size, budget = 0, megabytes * 1_000_000
    average = sum(map(len, tails)) / len(tails) + sum(map(len, clients)) / len(clients) + 28
    seconds = int(budget / (average * LINES_PER_SECOND)) + 1  # so the log ends now, whatever its size
    moment = datetime.now(UTC) - timedelta(seconds=seconds)
    with open(path, "w", encoding="ascii") as out:
        while size < budget:
            stamp = moment.strftime("%d/%b/%Y:%H:%M:%S +0000] ")
            block = "".join(rng.choice(clients) + stamp + tails[rng.randrange(5000)] for _ in range(LINES_PER_SECOND))
            out.write(block)
            size += len(block)
            moment += timedelta(seconds=1)
    return path


def _timed(command: list[str] | str, shell: bool = False) -> tuple[float, str, int]:
    """Wall time, output and the child's peak memory (KiB) of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    result = subprocess.run(command, shell=shell, capture_output=True, text=True, check=True)
    elapsed = time.perf_counter() - started
    return elapsed, result.stdout, max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before)


OURS = """
import sys, time
from opscheck.judge.logstats import clients_and_statuses
from opscheck.judge.logformats import access_time
from opscheck.probes.logs import LogFile
log = LogFile("access", __import__("pathlib").Path(sys.argv[1]), access_time)
clients, statuses = clients_and_statuses(log.blocks(since=float(sys.argv[2])))
for client, count in clients.most_common(20):
    print(count, client.decode())
"""

WINDOW = """
import sys, time
from opscheck.judge.logstats import traffic
from opscheck.judge.logformats import access_time
from opscheck.probes.logs import LogFile
path = __import__("pathlib").Path(sys.argv[1])
with path.open("rb") as tail:  # the log may have been made by an earlier run: its last 2 h, not the clock's
    tail.seek(max(0, path.stat().st_size - 4096))
    end = access_time(tail.read().splitlines()[-1])
log = LogFile("access", path, access_time)
started = time.perf_counter()
figures = traffic(log.lines(since=end - 2 * 3600))
print(time.perf_counter() - started, figures.requests)
"""


def scan(path: Path) -> dict[str, str]:
    manual = f"awk '{{print $1}}' {path} | sort | uniq -c | sort -nr | head -20"
    awk_s, awk_out, _ = _timed(manual, shell=True)
    ours_s, ours_out, peak_kib = _timed([sys.executable, "-c", OURS, str(path), "0"])
    same = [line.split()[1] for line in awk_out.splitlines()][:5] == [
        line.split()[1] for line in ours_out.splitlines()
    ][:5]
    return {
        "file": f"{path.stat().st_size / 1e9:.2f} GB, {path.stat().st_size // 130 / 1e6:.1f} M lines",
        "manual awk|sort|uniq (per client)": f"{awk_s:.1f} s",
        "opscheck (per client and per status, one pass)": f"{ours_s:.1f} s",
        "ratio opscheck / manual": f"{ours_s / awk_s:.2f}×",
        "opscheck peak memory": f"{peak_kib / 1024:.0f} MB",
        "same top clients": "yes" if same else "NO",
    }


def window(large: Path, small: Path) -> dict[str, str]:
    rows = {}
    for label, path in (("large", large), ("small", small)):
        _, out, _ = _timed([sys.executable, "-c", WINDOW, str(path)])
        seconds, requests = out.split()
        rows[f"last 2 h of {path.stat().st_size / 1e6:.0f} MB ({label})"] = (
            f"{float(seconds) * 1000:.0f} ms ({requests} requests)"
        )
    return rows
