"""The whole daily run against the manual's own shell sequence (curl, psql, redis-cli, ls, awk) on the same sandbox."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from bench.goals import Goal, at_most
from opscheck.target.loader import LoadedTarget

REPO = Path(__file__).resolve().parent.parent


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


def daily(target: LoadedTarget, secrets: dict[str, str]) -> dict[str, str | Goal]:
    env = {**os.environ, **secrets, "PGPASSWORD": secrets["OPSCHECK_SANDBOX_PG_PASSWORD"]}
    started = time.perf_counter()
    subprocess.run(["bash", "-c", manual_sequence(target)], env=env, capture_output=True, check=True)
    shell_s = time.perf_counter() - started
    started = time.perf_counter()
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-m", "daily", f"--target={target.path}", "-q",
         f"--reports-dir={REPO / 'reports' / 'bench'}"],
        cwd=REPO, env=env, capture_output=True, text=True,
    )  # fmt: skip
    ours_s = time.perf_counter() - started
    return {
        "manual shell sequence (curl ×7, pg_isready, psql ×2, redis-cli, ls, grep, tail, awk)": f"{shell_s:.2f} s",
        f"pytest -m daily ({run.stdout.strip().splitlines()[-1]})": f"{ours_s:.2f} s",
        "ratio opscheck / manual": at_most(ours_s / shell_s, 3, "×"),
    }
