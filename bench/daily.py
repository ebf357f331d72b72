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
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.goals import Goal, at_most
from opscheck.probes.integrity import BAD_PRICES
from opscheck.target.loader import LoadedTarget

REPO = Path(__file__).resolve().parent.parent
PYTEST = Path(sys.executable).parent / "pytest"


def manual_sequence(target: LoadedTarget) -> dict[str, list[str]]:
    """What an operator runs by hand to verify what `pytest -m daily` verifies, item by item: the manual's own
    commands where it gives one (curl, pg_isready, psql, redis-cli, ps, netstat, top, free, df, vmstat, awk), the
    obvious ones where it does not (sha256sum -c, diff, zcat), and the checks' own samples (5 timed requests an
    endpoint, one 1 s interval for CPU and I/O: `vmstat 1 2`, as the run's `cpu_sample_s`)."""
    spec = target.spec
    ca, pg, logs, backups, access = spec.http.ca_bundle, spec.postgres, spec.logs, spec.backups, spec.logs.access
    curl = f"curl -s -o /dev/null -w '%{{http_code}} %{{time_total}}\\n' --max-time 5 --cacert {ca}"
    api = spec.components.api.base_url
    psql = f"psql -h {pg.host} -p {pg.port} -U {pg.user} -d {pg.dbname} -At"
    redis_port = spec.redis.url.rsplit(":", 1)[1].split("/")[0]
    redis = f"REDISCLI_AUTH=$OPSCHECK_SANDBOX_REDIS_PASSWORD redis-cli -p {redis_port}"
    newest = [
        f'$(dirname $(grep -l \'"kind": "{kind}"\' {backups.root}/*/backup.json | tail -n 1))' for kind in backups.jobs
    ]  # each kind's newest set
    sets = " ".join(newest)
    day = "-d start=$(date -d '-1 day' +%s) -d end=$(date +%s) -d step=60"
    return {
        "D1 health": [
            *[
                f"{curl} {url}"
                for name in ("api", "frontend", "ml_engine", "streaming_engine", "monitoring")
                if (component := spec.component(name))
                for url in component.health_urls()
            ],
            f"curl -s -o /dev/null --cacert {ca} {api}/api/predictions/AAPL",
            f"pg_isready -h {pg.host} -p {pg.port}",
            f"{redis} ping",
        ],
        "D2 batch": [f"{psql} -c {shlex.quote(spec.batch.source + ' ORDER BY started_at DESC LIMIT 21')}"],
        "D3 logs": [
            f"grep -c ERROR {logs.app} {logs.frontend} || true",
            f"tail -n 50 {logs.app} {logs.frontend} > /dev/null",
            f"stat -c '%y %n' {logs.app} {logs.frontend} {access} {logs.alerts}",
        ],
        "D4 integrity": [
            f"{psql} -c 'SELECT count(*) FROM stock_prices' "
            "-c 'SELECT symbol, date FROM stock_prices GROUP BY 1, 2 HAVING count(*) > 1 LIMIT 5' "
            f"-c {shlex.quote(f'SELECT count(*) FROM stock_prices WHERE {BAD_PRICES}')} "
            "-c 'SELECT symbol, min(date), max(date), count(*) FROM stock_prices GROUP BY 1'"
        ],
        "D5 backups": [
            f"ls -la {backups.root}",
            f"for set in {sets}; do (cd $set && sha256sum -c --quiet SHA256SUMS); done",
            f"for set in {sets}; do diff -rq $set {backups.offsite}/$(basename $set); done",
            f"cat {backups.crontab}",
            "pg_dump --version",
            f"{psql} -c 'SHOW server_version'",
        ],
        "D6 performance": [
            *[f"for i in 1 2 3 4 5; do {curl} {api}{path}; done" for path in spec.performance.endpoints],
            "top -bn1 | grep 'Cpu(s)'",
            "free -h",
        ],
        "D7 D8 traffic and its threats": [
            f"awk '{{print $1}}' {access} | sort | uniq -c | sort -nr | head -20",
            f"awk '{{print $9}}' {access} | sort | uniq -c | sort -nr",
            f"awk '$9 >= 400 {{print $1}}' {access} | sort | uniq -c | sort -nr | head",
            f"grep 'POST /login' {access} | awk '$9 == 401 {{print $1}}' | sort | uniq -c | sort -nr | head",
            f"grep -ciE 'sqlmap|nikto|union.select|[.][.]/' {access} || true",
            f"zcat -f {access}.1 | wc -l",
            f"zcat -f {access}.7.gz | wc -l",
        ],
        "D9 predictions": [f"{psql} -c {shlex.quote(spec.predictions.source + ' ORDER BY made_at DESC LIMIT 500')}"],
        "D10 D11 D12 the evening's": [
            f"ls -la {spec.history.reports} | tail -n 3",
            "df -h",
            "netstat -i",
            *[
                f"curl -s -o /dev/null -G {spec.metrics.url}/api/v1/query_range --data-urlencode "
                f"{shlex.quote('query=' + query.replace('{instance}', spec.hosts[0].name))} {day}"
                for query in spec.metrics.queries.values()
            ],
            f"ls -la {spec.plans.dir}",
        ],
        "T1 processes and ports": ["ps aux | grep -E 'sandbox.platform.serve' | grep -v grep", "netstat -tlnp"],
        "T3 T5 T6 CPU and I/O, database, outside": [
            "vmstat 1 2",
            f"{psql} -c 'SELECT count(*) FROM pg_stat_activity' -c 'SHOW max_connections'",
            f"{redis} info memory | grep used_memory_human",
            f"{redis} --scan --count 1000 | head -50",
            f"{redis} xrevrange {spec.redis.stream} + - COUNT 1",
            "getent hosts localhost",
            *[f"curl -sI --max-time 5 --cacert {ca} {url} > /dev/null" for url in spec.outside.urls],
        ],
    }


def reachability(items: dict[str, list[str]]) -> list[str]:
    """What this benchmark compared against before, near enough: the health, database and Redis probes, the app
    log's reads and the per-client awk — the part of the daily run an operator can check in a fifth of a second."""
    return [*items["D1 health"], *items["D3 logs"], items["D7 D8 traffic and its threats"][0]]


def _items(items: dict[str, list[str]]) -> list[str]:
    """The checklist IDs the sequence's items name (`D7 D8 traffic …`: D7, D8), a run of D1 … D12 as D1–D12."""
    ids = [word for item in items for word in item.split() if word[:1] in "DT" and word[1:].isdigit()]
    days = [i for i in ids if i.startswith("D")]
    if days == [f"D{n}" for n in range(1, len(days) + 1)] and len(days) > 2:
        return [f"D1–D{len(days)}", *(i for i in ids if not i.startswith("D"))]
    return ids


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
    items = manual_sequence(target)
    commands = [command for item in items.values() for command in item]
    shell_s, shell = _median(["bash", "-ec", "\n".join(commands)], base, runs)
    if shell.returncode != 0:
        raise RuntimeError(f"the manual's sequence failed: {shell.stderr.strip()[-300:]}")
    subset_s, _ = _median(["bash", "-ec", "\n".join(reachability(items))], base, runs)
    reports = REPO / "reports" / "bench"
    pytest = [str(PYTEST), "-m", "daily", f"--target={target.path}", "-q", f"--reports-dir={reports}"]
    _timed(pytest, operator)  # yesterday's run: the bytecode caches as an operator's machine has them
    ours_s, run = _median(pytest, operator, runs)
    python_s, _ = _median([sys.executable, "-c", "pass"], operator, runs)
    version_s, _ = _median([str(PYTEST), "--version"], operator, runs)
    collect_s, _ = _median([*pytest, "--collect-only"], operator, runs)
    return {
        f"the daily checklist by hand, median of {runs}": f"{shell_s:.2f} s ({len(commands)} commands for "
        f"{', '.join(_items(items))}; 1 s of it the CPU and I/O interval, as the run's)",
        f"pytest -m daily, median of {runs} ({run.stdout.strip().splitlines()[-1]})": f"{ours_s:.2f} s",
        "  floor: python -c pass": f"{python_s:.2f} s",
        "  floor: pytest --version": f"{version_s:.2f} s",
        "  floor: pytest -m daily --collect-only (plugins, target, checks collected; none run)": f"{collect_s:.2f} s",
        "ratio opscheck / the checklist by hand": at_most(ours_s / shell_s, 3, "×"),
        "  the reachability part alone": f"{subset_s:.2f} s ({len(reachability(items))} commands: health, database, "
        f"Redis, app log, awk); opscheck / it {ours_s / subset_s:.1f}×",
        "  the floor (--collect-only) / the checklist by hand": f"{collect_s / shell_s:.2f}×",
    }
