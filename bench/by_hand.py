"""The daily checklist done by hand: what an operator types to verify, item by item, what `pytest -m daily`
verifies on the sandbox — the baseline `bench/daily.py` times the run against.

The manual's own commands where it gives one (curl, pg_isready, psql, redis-cli, ps, netstat, free, df, vmstat,
awk over the access log), the obvious ones where it does not (sha256sum -c, diff -rq, zcat), and the checks' own
samples: five timed requests an endpoint, one interval for CPU and I/O (`vmstat N 2`, N the run's
`cpu_sample_s`). Left out, so the sequence is quicker than the run's work, never slower: what no one command
does — the integrity rules' calendar (missing trading days, implausible jumps), the error lines' top messages
(D3), the D10 report's writing, and the time windows (the last 24 h; the same hours a day and a week before):
the awk and zcat read the whole files instead (a few MB on the sandbox).
"""

from __future__ import annotations

import shlex

from opscheck.probes.integrity import BAD_PRICES
from opscheck.target.loader import LoadedTarget

Sequence = dict[tuple[str, ...], list[str]]  # checklist items → the commands that verify them
CURL = "curl -s -o /dev/null -w '%{http_code} %{time_total}\\n'"  # each answer's status and time
REDIS_CLI = "REDISCLI_AUTH=$OPSCHECK_SANDBOX_REDIS_PASSWORD redis-cli"


def checklist(target: LoadedTarget) -> Sequence:
    """The commands, under the checklist items they verify."""
    spec, q = target.spec, shlex.quote
    pg, logs, backups = spec.postgres, spec.logs, spec.backups
    app, frontend, access, root = q(str(logs.app)), q(str(logs.frontend)), q(str(logs.access)), q(str(backups.root))
    ca = q(str(spec.http.ca_bundle))
    curl = f"{CURL} --max-time 5 --cacert {ca}"
    api = spec.components.api.base_url
    psql = f"psql -h {q(pg.host)} -p {pg.port} -U {q(pg.user)} -d {q(pg.dbname)} -At"
    redis = f"{REDIS_CLI} -p {_redis_port(target)}"
    newest = {kind: f'"$set_{kind}"' for kind in backups.jobs}  # found first: `sets`
    daily_dump = '"$set_daily/database_$(basename "$set_daily").sql"'
    day = "-d start=$(date -d '-1 day' +%s) -d end=$(date +%s) -d step=60"
    return {
        ("D1", "S1", "S2", "T4"): [
            *(f"{curl} {q(url)}" for url in _health_urls(target)),
            f"{curl} {q(api + '/api/predictions/AAPL')}",
        ],
        ("D1", "T5", "P6"): [
            f"pg_isready -h {q(pg.host)} -p {pg.port}",
            f"{psql} -c 'SELECT count(*) FROM pg_stat_activity' -c 'SHOW max_connections'",
        ],
        ("D1", "D6", "P5"): [
            f"{redis} ping",
            f"{redis} info memory | grep -E '^(used_memory|maxmemory):'",
            f"{redis} info stats | grep evicted_keys",
            f"{redis} --scan --count 1000 | head -200 | sed 's/^/TTL /' | {redis} > /dev/null",  # one client, piped
            f"{redis} xrevrange {q(str(spec.redis.stream))} + - COUNT 1",
        ],
        ("D2",): [f"{psql} -c {q(spec.batch.source + ' ORDER BY started_at DESC LIMIT 21')}"],
        ("D3", "T2"): [
            f"grep -c ERROR {app} {frontend} || true",
            f"tail -n 50 {app} {frontend} > /dev/null",
            f"stat -c '%y %n' {app} {frontend} {access} {q(str(logs.alerts))}",
        ],
        ("D4",): [
            f"{psql} -c 'SELECT count(*) FROM stock_prices' "
            "-c 'SELECT symbol, date FROM stock_prices GROUP BY 1, 2 HAVING count(*) > 1 LIMIT 5' "
            f"-c {q(f'SELECT count(*) FROM stock_prices WHERE {BAD_PRICES}')} "
            "-c 'SELECT symbol, min(date), max(date), count(*) FROM stock_prices GROUP BY 1'",
            f"awk '/^COPY public.stock_prices /{{on = 1; next}} /^[\\\\][.]$/{{on = 0}} on' {daily_dump} | wc -l",
        ],
        ("D5", "B1", "B2"): [
            f"ls -la {root}",
            f"for set in {root}/*/; do ls -la $set > /dev/null; done",
            *(f"(cd {newest[kind]} && sha256sum -c --quiet SHA256SUMS)" for kind in backups.jobs),
            *(f"diff -rq {newest[kind]} {q(str(backups.offsite))}/$(basename {newest[kind]})" for kind in backups.jobs),
            f"cat {q(str(backups.crontab))}",
            "pg_dump --version",
            f"{psql} -c 'SHOW server_version'",
        ],
        ("D6", "P7", "MW3"): [
            f"for i in 1 2 3 4 5; do {curl} {q(api + path)}; done" for path in spec.performance.endpoints
        ],
        ("D6", "D10"): [
            f"awk '{{print $NF}}' {access} | sort -n | awk '{{t[NR] = $1}} END {{print t[int(NR * 0.95)]}}'"
        ],
        ("D7", "D8", "X1", "X2", "X3", "X4"): [
            f"awk '{{print $1}}' {access} | sort | uniq -c | sort -nr | head -20",
            f"awk '{{print $9}}' {access} | sort | uniq -c | sort -nr",
            f"awk '$9 >= 400 {{print $1}}' {access} | sort | uniq -c | sort -nr | head",
            f"grep 'POST /login' {access} | awk '$9 == 401 {{print $1}}' | sort | uniq -c | sort -nr | head",
            f"grep -ciE 'sqlmap|nikto|union.select|[.][.]/' {access} || true",
            f"zcat -f {access}.1 | wc -l",
            f"zcat -f {access}.7.gz | wc -l",
        ],
        ("D9",): [f"{psql} -c {q(spec.predictions.source + ' ORDER BY made_at DESC LIMIT 500')}"],
        ("D10", "D11", "D12"): [
            f"ls -la {q(str(spec.history.reports))} | tail -n 3",
            "netstat -i",
            *(
                f"curl -s -o /dev/null -G {q(spec.metrics.url + '/api/v1/query_range')} --data-urlencode "
                f"{q('query=' + query.replace('{instance}', spec.hosts[0].name))} {day}"
                for query in spec.metrics.queries.values()
            ),
            f"ls -la {q(str(spec.plans.dir))}",
        ],
        ("T1",): ["ps aux | grep -E 'sandbox.platform.serve' | grep -v grep", "netstat -tlnp"],
        ("T3", "D6", "W6"): [f"vmstat {interval_s(target)} 2", "free -h", "df -h"],
        ("T6",): [
            "getent hosts localhost",
            *(f"curl -sI --max-time 5 --cacert {ca} {q(url)} > /dev/null" for url in spec.outside.urls),
        ],
    }


def script(target: LoadedTarget) -> list[str]:
    """The whole sequence, a command a line: each backup kind's newest set found first, then the checklist."""
    return [*sets(target), *(command for commands in checklist(target).values() for command in commands)]


def sets(target: LoadedTarget) -> list[str]:
    """Each backup kind's newest set into `$set_KIND`, by its record: a kind with none stops the sequence (under
    `bash -e`), as its check fails, instead of passing its commands over."""
    root = shlex.quote(str(target.spec.backups.root))
    return [f"set_{kind}=$(dirname $(grep -lE '\"kind\": *\"{kind}\"' {root}/*/backup.json | tail -n 1))"
            for kind in target.spec.backups.jobs]  # fmt: skip


def interval_s(target: LoadedTarget) -> int:
    """The CPU and I/O interval both sides wait: the run's `cpu_sample_s`, in vmstat's whole seconds."""
    return max(1, round(target.spec.performance.cpu_sample_s))


def items(sequence: Sequence) -> list[str]:
    """The checklist items the sequence verifies, in the checklist's order."""
    found = {item for keys in sequence for item in keys}
    return sorted(found, key=lambda i: ("DTSPBXMW".index(i[0]), len(i), i))


def reachability(target: LoadedTarget) -> list[str]:
    """What this benchmark compared against before, word for word: the health, database and Redis probes, a
    listing of the backups, the app log's reads and the per-client awk (no interval sampled)."""
    spec = target.spec
    ca, pg = spec.http.ca_bundle, spec.postgres
    psql = (f"psql -h {pg.host} -p {pg.port} -U {pg.user} -d {pg.dbname} -Atc 'SELECT count(*) FROM pg_stat_activity'"
            f" -c 'SELECT count(*) FROM stock_prices'")  # fmt: skip
    return [
        *(f"{CURL} --max-time 5 --cacert {ca} {url}" for url in _health_urls(target)),
        f"curl -s -o /dev/null --cacert {ca} {spec.components.api.base_url}/api/predictions/AAPL",
        f"pg_isready -h {pg.host} -p {pg.port}",
        psql,
        f"{REDIS_CLI} -p {_redis_port(target)} ping",
        f"ls -la {spec.backups.root}",
        f"grep -c ERROR {spec.logs.app}",
        f"tail -n 50 {spec.logs.app} > /dev/null",
        f"awk '{{print $1}}' {spec.logs.access} | sort | uniq -c | sort -nr | head -20",
    ]


def _health_urls(target: LoadedTarget) -> list[str]:
    """Every component's health URLs, as D1 asks them."""
    spec = target.spec
    return [url for name in ("api", "frontend", "ml_engine", "streaming_engine", "monitoring")
            if (component := spec.component(name)) for url in component.health_urls()]  # fmt: skip


def _redis_port(target: LoadedTarget) -> str:
    return target.spec.redis.url.rsplit(":", 1)[1].split("/")[0]
