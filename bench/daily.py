"""The whole daily run against the manual's own shell sequence (curl, psql, redis-cli, ls, awk) on the same sandbox.

Measured as an operator runs it: the `pytest` command of this environment (as the README says, not
`python -m pytest`, which puts the repository's egg-info on the path and so rewrites the asserts of all of
opscheck's modules, not only the checks'), with Python writing its bytecode, after one untimed run (each
morning's run follows yesterday's; a machine set to PYTHONDONTWRITEBYTECODE=1 that never had a cache compiles,
and pytest rewrites, every module on every run). Each figure is the median of `runs`; the floors are what any
pytest run of the checks pays before its first check.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.goals import Goal, at_most
from opscheck.target.loader import LoadedTarget

REPO = Path(__file__).resolve().parent.parent
PYTEST = Path(sys.executable).parent / "pytest"


def manual_sequence(target: LoadedTarget) -> str:
    spec = target.spec
    ca = spec.http.ca_bundle
    curls = [
        f"curl -s -o /dev/null -w '%{{http_code}} %{{time_total}}\\n' --max-time 5 --cacert {ca} {url}"
        for name in ("api", "frontend", "ml_engine", "streaming_engine", "monitoring")
        if (component := spec.component(name))
        for url in component.health_urls()
    ]
    pg = spec.postgres
    psql = (
        f"psql -h {pg.host} -p {pg.port} -U {pg.user} -d {pg.dbname} -Atc 'SELECT count(*) FROM pg_stat_activity'"
        f" -c 'SELECT count(*) FROM stock_prices'"
    )
    redis_port = spec.redis.url.rsplit(":", 1)[1].split("/")[0]
    return "\n".join([
        *curls,
        f"curl -s -o /dev/null --cacert {ca} {spec.components.api.base_url}/api/predictions/AAPL",
        f"pg_isready -h {pg.host} -p {pg.port}",
        psql,
        f"REDISCLI_AUTH=$OPSCHECK_SANDBOX_REDIS_PASSWORD redis-cli -p {redis_port} ping",
        f"ls -la {spec.backups.root}",
        f"grep -c ERROR {spec.logs.app}",
        f"tail -n 50 {spec.logs.app} > /dev/null",
        f"awk '{{print $1}}' {spec.logs.access} | sort | uniq -c | sort -nr | head -20",
    ])  # fmt: skip


def _timed(command: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
    return time.perf_counter() - started, done


def _median(command: list[str], env: dict[str, str], runs: int) -> tuple[float, subprocess.CompletedProcess[str]]:
    timed = [_timed(command, env) for _ in range(runs)]
    return statistics.median(seconds for seconds, _ in timed), timed[-1][1]


def daily(target: LoadedTarget, secrets: dict[str, str], runs: int = 5) -> dict[str, str | Goal]:
    base = {**os.environ, **secrets, "PGPASSWORD": secrets["OPSCHECK_SANDBOX_PG_PASSWORD"]}
    operator = {k: v for k, v in base.items() if k != "PYTHONDONTWRITEBYTECODE"}
    shell_s, shell = _median(["bash", "-c", manual_sequence(target)], base, runs)
    if shell.returncode != 0:
        raise RuntimeError(f"the manual's sequence failed: {shell.stderr.strip()[-300:]}")
    reports = REPO / "reports" / "bench"
    pytest = [str(PYTEST), "-m", "daily", f"--target={target.path}", "-q", f"--reports-dir={reports}"]
    _timed(pytest, operator)  # yesterday's run: the bytecode caches as an operator's machine has them
    ours_s, run = _median(pytest, operator, runs)
    python_s, _ = _median([sys.executable, "-c", "pass"], operator, runs)
    version_s, _ = _median([str(PYTEST), "--version"], operator, runs)
    collect_s, _ = _median([*pytest, "--collect-only"], operator, runs)
    return {
        f"manual shell sequence (curl ×7, pg_isready, psql ×2, redis-cli, ls, grep, tail, awk), median of {runs}": (
            f"{shell_s:.2f} s"
        ),
        f"pytest -m daily, median of {runs} ({run.stdout.strip().splitlines()[-1]})": f"{ours_s:.2f} s",
        "  floor: python -c pass": f"{python_s:.2f} s",
        "  floor: pytest --version": f"{version_s:.2f} s",
        "  floor: pytest -m daily --collect-only (plugins, target, checks collected; none run)": f"{collect_s:.2f} s",
        "ratio opscheck / manual": at_most(ours_s / shell_s, 3, "×"),
        "  the floor (--collect-only) / manual": f"{collect_s / shell_s:.2f}×",
    }
