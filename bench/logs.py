"""Log benchmarks: opscheck's scan against the manual's awk pipeline, and the window seek at two file sizes."""

from __future__ import annotations

import gzip
import os
import random
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.goals import Goal, at_least, at_most
from opscheck.judge.logformats import access_time
from opscheck.probes.logs import family, seek_to
from sandbox.traffic import AGENT, CLIENTS, request

LINES_PER_SECOND = 5  # the generated log's traffic: the same rate at every size, so a 2 h window is the same
DAY = 86400.0


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
import resource, sys, time
from opscheck.judge.logstats import traffic, traffic_in
from opscheck.judge.logformats import access_time
from opscheck.probes.logs import Bounds, LogFile
log = LogFile("access", sys.argv[1], access_time, bounds=Bounds(read_s=3600))  # the benchmark's file is large
started = time.perf_counter()
figures = traffic_in(log.chunks(since=0)) if sys.argv[2] == "bulk" else traffic(log.lines(since=0))
print(time.perf_counter() - started, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, figures.percentile_ms(0.95),
      f"{figures.error_ratio():.4f}", len(figures.endpoints), len(figures.statuses))
for client, count in figures.per_client.most_common(20):
    print(count, client)
"""

WINDOW = """
import sys, time
from opscheck.judge.logstats import traffic_in
from opscheck.judge.logformats import access_time
from opscheck.probes.logs import LogFile
path = __import__("pathlib").Path(sys.argv[1])
with path.open("rb") as tail:  # the log may have been made by an earlier run: its last 2 h, not the clock's
    tail.seek(max(0, path.stat().st_size - 4096))
    end = access_time(tail.read().splitlines()[-1])
log = LogFile("access", path, access_time)
started = time.perf_counter()
figures = traffic_in(log.chunks(since=end - 2 * 3600))
print(time.perf_counter() - started, figures.requests)
"""


def scan(path: Path, before: bool = False) -> dict[str, str | Goal]:
    """Every figure the checks take from an access log (per client, per status, per endpoint, latency percentiles,
    the error ratio) over the whole file, against the manual's pipeline for one of them; `before`: also the
    line-by-line engine (the one before issue 20, still the one for other formats)."""
    manual = f"awk '{{print $1}}' {path} | sort | uniq -c | sort -nr | head -20"
    awk_s, awk_out, _ = _timed(manual, shell=True)
    _, out, _ = _timed([sys.executable, "-c", OURS, str(path), "bulk"])
    head, *top = out.splitlines()
    ours_s, peak_kib, p95, ratio, endpoints, statuses = head.split()
    seconds, peak_mb = float(ours_s), int(peak_kib) / 1024
    same = [line.split()[1] for line in awk_out.splitlines()][:5] == [line.split()[1] for line in top][:5]
    rows: dict[str, str | Goal] = {
        "file": f"{path.stat().st_size / 1e9:.2f} GB, {path.stat().st_size // 130 / 1e6:.1f} M lines",
        "manual awk|sort|uniq (per client)": f"{awk_s:.1f} s",
        "opscheck, every figure in one pass (bulk)": f"{seconds:.1f} s (p95 {p95} ms, 5xx ratio {ratio}, "
        f"{endpoints} endpoints, {statuses} statuses)",
        "manual / opscheck": at_least(awk_s / seconds, 3, "×"),
        "opscheck peak memory": at_most(peak_mb, 256, " MB", f"{peak_mb:.0f} MB"),
        "same top clients as awk": Goal("yes" if same else "NO", "the same", same),
    }
    if before:
        _, out, _ = _timed([sys.executable, "-c", OURS, str(path), "lines"])
        lines_s, lines_kib, *_ = out.split()
        rows["line by line (the engine before), every figure"] = (
            f"{float(lines_s):.1f} s, {int(lines_kib) / 1024:.0f} MB; manual / it {awk_s / float(lines_s):.2f}×"
        )
    return rows


def window(large: Path, small: Path) -> dict[str, str | Goal]:
    rows: dict[str, str | Goal] = {}
    took = {}
    for label, path in (("large", large), ("small", small)):
        _, out, _ = _timed([sys.executable, "-c", WINDOW, str(path)])
        seconds, requests = out.split()
        took[label] = float(seconds)
        rows[f"last 2 h of {path.stat().st_size / 1e6:.0f} MB ({label})"] = (
            f"{float(seconds) * 1000:.0f} ms ({requests} requests)"
        )
    rows["large / small (kept flat)"] = at_most(took["large"] / took["small"], 2, "×")
    return rows


WEEK = """
import resource, sys, time
from opscheck.judge.logstats import merged, traffic_by
from opscheck.judge.logformats import access_time
from opscheck.probes.logs import LogFile
log, now, DAY = LogFile("access", sys.argv[1], access_time), float(sys.argv[2]), 86400.0
started = time.perf_counter()
days = traffic_by(log.windows([now - (7 - d) * DAY for d in range(8)]), 7)  # as W1: one pass split by day
week = merged(days)
print(time.perf_counter() - started, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, week.requests,
      week.percentile_ms(0.95))
"""


def rotated(large: Path, folder: Path, days: int = 7) -> tuple[Path, float]:
    """The large log's last `days` days and a bit as logrotate leaves them (access.log, .1, then .N.gz; each file's
    mtime its last line's), rotated 9 hours before the log ends (cron's hour is not the report's, so each day's
    window starts inside a gzipped file), kept between runs; the live file and the moment the log ends."""
    with large.open("rb") as handle:
        size = handle.seek(0, 2)
        handle.seek(size - 4096)
        end = (access_time(handle.read().splitlines()[-1]) or 0) + 1
        if not (folder / f"access.log.{days}.gz").exists():
            folder.mkdir(parents=True, exist_ok=True)
            cuts = [end - (days - day) * DAY - 9 * 3600 for day in range(days + 1)]
            starts = [seek_to(handle, size, cut, access_time) for cut in cuts] + [size]
            for day in range(days + 1):
                rotation = days - day
                handle.seek(starts[day])
                text = handle.read(starts[day + 1] - starts[day])
                name = folder / ("access.log" if rotation == 0 else f"access.log.{rotation}")
                name = name.with_name(name.name + ".gz") if rotation >= 2 else name
                name.write_bytes(gzip.compress(text, 1) if rotation >= 2 else text)
                last = access_time(text[text.rfind(b"\n", 0, len(text) - 1) + 1 :]) or end
                os.utime(name, (last, last))
    return folder / "access.log", end


def week(large: Path, folder: Path) -> dict[str, str | Goal]:
    """The weekly report's figures (W1: the seven days over the rotated files, gzip included, read in one pass)
    against the manual's pipeline for one figure over the files that hold the week."""
    live, end = rotated(large, folder)
    files = [Path(entry.name) for entry in family(str(live))]  # oldest first, as the log probe reads them
    manual = f"zcat -f {' '.join(map(str, files))} | awk '{{print $1}}' | sort | uniq -c | sort -nr | head -20"
    awk_s, _, _ = _timed(manual, shell=True)
    _, out, _ = _timed([sys.executable, "-c", WEEK, str(live), str(end)])
    seconds, peak_kib, requests, p95 = out.split()
    raw, gzipped = sum(f.stat().st_size for f in files), sum(f.suffix == ".gz" for f in files)
    return {
        "seven days, rotated": f"{len(files)} files, {raw / 1e6:.0f} MB on disk ({gzipped} gzipped), "
        f"{int(requests) / 1e6:.1f} M requests",
        "manual zcat|awk|sort|uniq (per client)": f"{awk_s:.1f} s",
        "opscheck, the week's figures (bulk)": f"{float(seconds):.1f} s (p95 {p95} ms), {int(peak_kib) / 1024:.0f} MB",
        "manual / opscheck": at_least(awk_s / float(seconds), 3, "×"),
    }
