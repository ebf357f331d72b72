"""The fault catalogue: what the sandbox can break on purpose, and which checks must catch it at what level.

The self-tests inject each fault into a healthy sandbox, run the checks, and require
that exactly the checks named in `catches` fail, each at its level, and nothing else.
`heal` undoes every active fault and restarts whatever is not running.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from sandbox import apt, cgroup, dependencies, lifecycle, metrics, postgres, suite_history, tls, traffic
from sandbox.active import active, remember, stop_fault_processes
from sandbox.errors import SandboxError
from sandbox.state import Sandbox, State, atomic_write, is_ours, spawn, stop_process

DECLARED = "declared"  # the check fails at its own declared level
HEALTH = "checks/test_health.py::test_component_reports_healthy"
BACKUPS = "checks/test_backups.py"
PG = "checks/test_postgres.py"
BATCH = "checks/test_batch.py"
RULE = "checks/test_integrity.py::test_stock_prices_keep_the_rule"
T1 = "checks/test_processes.py"
CACHE = "checks/test_cache.py"
PERF = "checks/test_performance.py"
OUTSIDE = "checks/test_outside.py::test_public_name_resolves_and_answers"
D11 = "checks/test_resources.py::test_resources_over_the_day"
DRILL = "checks/test_drill.py"
RESTORE = "checks/test_restore.py"
HOT_INDEX = "idx_stock_prices_symbol_date"
HELD_CONNECTIONS = 38
# What a purge job does after its DELETE, so the fault leaves old data gone, not dead tuples behind.
PURGE_JOB_VACUUM = ("SELECT pg_stat_force_next_flush()", "VACUUM ANALYZE stock_prices")
STATS_FLUSH_S = 1.5  # PostgreSQL 15 flushes table statistics at most a second late
IDLE_IN_TRANSACTION_S = 5  # the sandbox target's [database] idle_in_transaction_s
DB_HEALTH = "checks/test_database_health.py"
W1 = "checks/test_weekly_report.py"
SLA = "checks/test_sla.py"
LOAD = "checks/test_load.py::test_load_threshold"
SECURITY_LOGS = "checks/test_security_logs.py"
HARDENING = "checks/test_http_hardening.py"
API_SCAN = "checks/test_api_scan.py"
DEPENDENCIES = "checks/test_dependencies.py::test_no_dependency_has_a_known_vulnerability"
# With a certificate no client accepts, whatever judges the API over HTTPS cannot tell, and says so.
API_UNVERIFIABLE = {f"{HARDENING}::*[api]": DECLARED, f"{API_SCAN}::*": DECLARED}
TLS_CERT = "checks/test_tls.py::test_certificate_verifies_and_is_far_from_expiry"
M3 = "checks/test_capacity.py::test_capacity_lasts_past_the_horizon"
STREAM_MAX_AGE_S = 5
WRAPAROUND_AGE = 1_200_000_000  # transaction IDs: 56 % of the 2^31 to wraparound
CACHE_READS = 200  # full reads of stock_prices (about 100 blocks each) after the statistics reset


@dataclass(frozen=True)
class Fault:
    name: str
    breaks: str
    items: tuple[str, ...]
    catches: dict[str, str]
    inject: Callable[[Sandbox, State], None]
    heal: Callable[[Sandbox, State], None] = field(default=lambda sandbox, state: None)
    # What runs of other selections must fail on this fault: {"drill": {node id: level}, "post_restore": …}.
    also: dict[str, dict[str, str]] = field(default_factory=dict)

    def line(self) -> str:
        caught = [level for catches in (self.catches, *self.also.values()) for level in catches.values()]
        levels = sorted(set(caught), key=["warning", "error", "critical", DECLARED].index)
        return f"{self.name:28} {self.breaks}; caught by {' '.join(self.items)} at {'/'.join(levels)}"

    def expected_failures(self, declared: dict[str, str], selection: str = "daily") -> dict[str, str]:
        """node id → level, for the collected checks (`declared`: node id → declared level) this fault must fail.

        A key may be a glob: every collected check it matches must fail; DECLARED means at the check's own level.
        `selection` names the mark the run selected: `daily` (what `catches` is about), or one of `also`.
        """
        expected: dict[str, str] = {}
        for pattern, level in (self.catches if selection == "daily" else self.also.get(selection, {})).items():
            literal_brackets = re.sub(r"([\[\]])", r"[\1]", pattern)  # node ids' [..] are never character classes
            matches = fnmatch.filter(declared, literal_brackets) if any(c in pattern for c in "*?") else [pattern]
            if not matches:
                raise AssertionError(f"{self.name}: {pattern} matches no collected check")
            for nodeid in matches:
                expected[nodeid] = declared.get(nodeid, "?") if level == DECLARED else level
        return expected


# --- processes ---------------------------------------------------------------------------------


def _stop(*names: str) -> Callable[[Sandbox, State], None]:
    def inject(sandbox: Sandbox, state: State) -> None:
        for name in names:
            stop_process(state.pids[name], str(sandbox.root))

    return inject


def _stop_streaming(sandbox: Sandbox, state: State) -> None:
    """Stop the engine, then wait until its newest tick is older than the sandbox target's limit."""
    _stop("streaming")(sandbox, state)
    client = _redis(sandbox, state)
    deadline = time.monotonic() + STREAM_MAX_AGE_S + 5
    while time.monotonic() < deadline:
        newest = client.xrevrange("ticks", count=1)
        if not newest or time.time() - int(newest[0][0].split(b"-")[0]) / 1000 > STREAM_MAX_AGE_S + 0.5:
            return
        time.sleep(0.2)


def _stop_postgres(sandbox: Sandbox, state: State) -> None:
    """Stop the server with the prediction cache warm, as it is on a live system: cached answers keep coming."""
    lifecycle.warm_up(sandbox, state)
    postgres.stop(Path(state.pg_dir))


def _hold(fault: str, count: int, in_transaction: bool = False) -> Callable[[Sandbox, State], None]:
    """A helper process holds `count` sessions open: idle, or idle inside a transaction it never ends."""

    def inject(sandbox: Sandbox, state: State) -> None:
        command = [sys.executable, "-m", "sandbox.faults", "hold", str(sandbox.root), str(count),
                   str(in_transaction)]  # fmt: skip
        env = {**os.environ, "SANDBOX_DIR": str(sandbox.root)}
        pid = spawn(command, sandbox.run_logs / "fault-hold.out", env=env)
        remember(sandbox, fault, {"pid": pid})
        deadline = time.monotonic() + 40
        while not (sandbox.run_logs / "held").exists():
            if time.monotonic() > deadline or not is_ours(pid, str(sandbox.root)):
                said = (sandbox.run_logs / "fault-hold.out").read_text().strip().splitlines()[-3:]
                alive = "still running" if is_ours(pid, str(sandbox.root)) else "gone"
                said_text = " | ".join(said) or "said nothing"
                raise SandboxError(f"could not hold connections (helper {alive}): {said_text}")
            time.sleep(0.05)
        if in_transaction:
            time.sleep(IDLE_IN_TRANSACTION_S + 1)  # long enough to break the sandbox target's limit

    return inject


def hold(root: str, count: int, in_transaction: bool) -> None:
    """The helper process of the connection faults: open `count` sessions and keep them (in a transaction)."""
    sandbox = Sandbox(Path(root))
    state = sandbox.read_state()
    assert state is not None
    password = sandbox.secrets()["SANDBOX_PG_OWNER_PASSWORD"]
    conns = []
    for number in range(1, count + 1):
        conns.append(
            psycopg.connect(
                host="127.0.0.1", port=state.ports["postgres"], dbname="miraikakaku", user="miraikakaku",
                password=password, application_name="leaky-batch-job", connect_timeout=5,
            )
        )  # fmt: skip
        if in_transaction:
            conns[-1].execute("SELECT count(*) FROM stock_prices")  # opens the transaction; never committed
        print(f"holding {number} connection(s)", flush=True)
    (sandbox.run_logs / "held").touch()
    while conns:
        time.sleep(60)


# --- files set aside ---------------------------------------------------------------------------


def _set_aside(name: str, pick: Callable[[Sandbox], list[Path]]) -> Callable[[Sandbox, State], None]:
    """Move what `pick` names out of the platform's sight (a job that never ran, a file that went missing)."""

    def inject(sandbox: Sandbox, state: State) -> None:
        aside = sandbox.root / "faults" / name
        aside.mkdir(parents=True, exist_ok=True)
        for path in pick(sandbox):
            path.rename(aside / path.name)

    return inject


def _put_back(name: str, home: Callable[[Sandbox], Path]) -> Callable[[Sandbox, State], None]:
    def heal(sandbox: Sandbox, state: State) -> None:
        aside = sandbox.root / "faults" / name
        if aside.is_dir():
            for path in aside.iterdir():
                if (home(sandbox) / path.name).is_file():
                    (home(sandbox) / path.name).unlink()  # what was written while it was away
                path.rename(home(sandbox) / path.name)
            aside.rmdir()

    return heal


# --- the database's contents ----------------------------------------------------------------

FAULT_SCHEMA = "opscheck_faults"


def _superuser(state: State) -> psycopg.Connection:
    return psycopg.connect(
        postgres.superuser_conninfo(Path(state.pg_dir), state.ports["postgres"], "miraikakaku"), autocommit=True
    )


def _sql(table: str, *statements: str) -> Callable[[Sandbox, State], None]:
    """Change `table` with `statements`, keeping a copy of it first so heal can put it back as it was."""

    def inject(sandbox: Sandbox, state: State) -> None:
        with _superuser(state) as conn:
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {FAULT_SCHEMA}")
            conn.execute(f"CREATE TABLE IF NOT EXISTS {FAULT_SCHEMA}.{table} AS TABLE {table}")
            for statement in statements:
                conn.execute(statement)

    return inject


def _restore_tables(sandbox: Sandbox, state: State) -> None:
    with _superuser(state) as conn:
        kept = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (FAULT_SCHEMA,)
        ).fetchall()
        for (table,) in kept:
            conn.execute(f"TRUNCATE {table}")
            conn.execute(f"INSERT INTO {table} SELECT * FROM {FAULT_SCHEMA}.{table}")
        conn.execute(f"DROP SCHEMA IF EXISTS {FAULT_SCHEMA} CASCADE")
        postgres.vacuum_analyze(conn)


def _invalidate_index(valid: bool) -> Callable[[Sandbox, State], None]:
    """What an interrupted REINDEX CONCURRENTLY (or a restore stopped mid-way) leaves: an index marked invalid."""

    def change(sandbox: Sandbox, state: State) -> None:
        with _superuser(state) as conn:
            conn.execute(f"UPDATE pg_index SET indisvalid = {valid} WHERE indexrelid = %s::regclass", (HOT_INDEX,))

    return change


def _bloat(on: bool) -> Callable[[Sandbox, State], None]:
    """Autovacuum switched off on stock_prices and every row rewritten: dead tuples, stale statistics."""

    def change(sandbox: Sandbox, state: State) -> None:
        with _superuser(state) as conn:
            if on:
                conn.execute("ALTER TABLE stock_prices SET (autovacuum_enabled = false)")
                conn.execute("UPDATE stock_prices SET volume = volume")
            else:
                conn.execute("ALTER TABLE stock_prices RESET (autovacuum_enabled)")
                postgres.vacuum_analyze(conn, "stock_prices")
        time.sleep(STATS_FLUSH_S)

    return change


def _run_slow_statement(sandbox: Sandbox, state: State) -> None:
    password = sandbox.secrets()["SANDBOX_PG_OWNER_PASSWORD"]
    with psycopg.connect(host="127.0.0.1", port=state.ports["postgres"], dbname="miraikakaku", user="miraikakaku",
                         password=password, autocommit=True) as conn:  # fmt: skip
        for _ in range(6):
            conn.execute("SELECT pg_sleep(0.6)")


def _reset_statement_stats(sandbox: Sandbox, state: State) -> None:
    with _superuser(state) as conn:
        conn.execute("SELECT pg_stat_statements_reset()")


def _age_transaction_ids(sandbox: Sandbox, state: State) -> None:
    """Autovacuum off for good and 1.2 billion transactions since: no database frozen, 56 % to wraparound."""
    with _superuser(state) as conn:
        conn.execute("ALTER SYSTEM SET autovacuum = off")
        conn.execute("ALTER SYSTEM SET autovacuum_freeze_max_age = 2000000000")  # no forced freeze races the check
    postgres.advance_transaction_ids(Path(state.pg_dir), WRAPAROUND_AGE)


def _freeze_every_database(sandbox: Sandbox, state: State) -> None:
    """The manual's fix: VACUUM (FREEZE) every database, template0 included, then autovacuum back on."""
    with _superuser(state) as conn:
        databases = [row[0] for row in conn.execute("SELECT datname FROM pg_database").fetchall()]
        conn.execute("ALTER DATABASE template0 ALLOW_CONNECTIONS true")
        try:
            for name in databases:
                with psycopg.connect(postgres.superuser_conninfo(Path(state.pg_dir), state.ports["postgres"], name),
                                     autocommit=True) as each:  # fmt: skip
                    each.execute("VACUUM (FREEZE)")
        finally:
            conn.execute("ALTER DATABASE template0 ALLOW_CONNECTIONS false")
        conn.execute("ALTER SYSTEM RESET autovacuum")
        conn.execute("ALTER SYSTEM RESET autovacuum_freeze_max_age")
    postgres.restart(Path(state.pg_dir))


def _starve_cache(sandbox: Sandbox, state: State) -> None:
    """shared_buffers cut to its 128 kB minimum by a bad edit; after the restart, a day's reads from disk."""
    with _superuser(state) as conn:
        conn.execute("ALTER SYSTEM SET shared_buffers = '128kB'")
    postgres.restart(Path(state.pg_dir))
    _read_prices(state, repeat=CACHE_READS)


def _feed_cache(sandbox: Sandbox, state: State) -> None:
    """shared_buffers back and the cache warmed, then the statistics reset so the ratio measures the new setting."""
    with _superuser(state) as conn:
        conn.execute("ALTER SYSTEM RESET shared_buffers")
    postgres.restart(Path(state.pg_dir))
    _read_prices(state, repeat=1)  # into the cache, then counted afresh
    _read_prices(state, repeat=CACHE_READS)


def _read_prices(state: State, repeat: int) -> None:
    with _superuser(state) as conn:
        conn.execute("SELECT pg_stat_reset()")
        for _ in range(repeat):
            conn.execute("SELECT count(*) FROM stock_prices")
        conn.execute("SELECT pg_stat_force_next_flush()")


def _drop_hourly_cron(sandbox: Sandbox, state: State) -> None:
    """Someone commented out the hourly backup while debugging, and never put it back."""
    crontab = sandbox.config_dir / "crontab"
    crontab.write_text("".join(f"# {line}" if "--kind hourly" in line else line
                               for line in crontab.read_text().splitlines(keepends=True)))  # fmt: skip


def _restore_hourly_cron(sandbox: Sandbox, state: State) -> None:
    crontab = sandbox.config_dir / "crontab"
    crontab.write_text("".join(line.removeprefix("# ") for line in crontab.read_text().splitlines(keepends=True)))


def _deploy_plan_review(present: bool) -> Callable[[Sandbox, State], None]:
    """The review line of next week's deploy plan, taken away (a request for review instead) or put back."""
    lines = ("Review-requested-from:", "Reviewed-by:") if present else ("Reviewed-by:", "Review-requested-from:")

    def change(sandbox: Sandbox, state: State) -> None:
        for plan in sandbox.plans.glob("deploy-*.md"):
            plan.write_text(plan.read_text().replace(*lines))

    return change


def _narrow_logrotate(narrow: bool) -> Callable[[Sandbox, State], None]:
    """The logrotate file names the API's logs one by one, and the front end's was forgotten (or put back)."""
    patterns = ("/*.log {", "/api.log {") if narrow else ("/api.log {", "/*.log {")

    def change(sandbox: Sandbox, state: State) -> None:
        config = sandbox.config_dir / "logrotate.conf"
        config.write_text(config.read_text().replace(*patterns))

    return change


def _grow_frontend_log(sandbox: Sandbox, state: State) -> None:
    """A front-end log that nothing rotates: 21 MB of the same warning (the sandbox's limit is 20 MB)."""
    line = f"{_now_stamp()} WARNING frontend render slow, falling back to client-side rendering\n"
    with open(sandbox.logs / "frontend.log", "a", encoding="utf-8") as log:
        log.write(line * (21 * 2**20 // len(line) + 1))


def _reviews_aged(**days_ago: float) -> Callable[[Sandbox, State], None]:
    """A trail whose latest attestations are as old as given (a month's review skipped, say)."""

    def inject(sandbox: Sandbox, state: State) -> None:
        (sandbox.root / "faults").mkdir(exist_ok=True)
        shutil.move(sandbox.trail, sandbox.root / "faults" / "trail")
        lifecycle.attest_reviews(sandbox, days_ago)

    return inject


def _restore_trail(sandbox: Sandbox, state: State) -> None:
    kept = sandbox.root / "faults" / "trail"
    if kept.exists():
        shutil.rmtree(sandbox.trail, ignore_errors=True)
        shutil.move(kept, sandbox.trail)


def _rewrite_traffic(slowdown: float = 1.0, server_error_rate: float = 0.0, days: int = traffic.HISTORY_DAYS):
    """The access log's history rewritten: a slow week, an erroring week, or a short history (heal: as at up)."""

    def change(sandbox: Sandbox, state: State) -> None:
        for old in sandbox.logs.glob("access.log.*"):
            old.unlink()
        traffic.write_history(sandbox.logs, end=datetime.now(UTC), days=days, slowdown=slowdown,
                              server_error_rate=server_error_rate)  # fmt: skip
        _log_sizes_file(sandbox).unlink(missing_ok=True)  # the logs are new: nothing of theirs to take back

    return change


def _rewrite_suite_history(**month: float) -> Callable[[Sandbox, State], None]:
    """The suite's recorded month, rewritten as a worse one (or, with nothing given, as the healthy one)."""

    def rewrite(sandbox: Sandbox, state: State) -> None:
        suite_history.write(sandbox.suite_history, datetime.now(UTC), suite_history.Month(**month))

    return rewrite


def _offer_security_update(offered: str) -> Callable[[Sandbox, State], None]:
    def change(sandbox: Sandbox, state: State) -> None:
        apt.write(sandbox.apt_root, offered)

    return change


def _pin(**pins: dict[str, str]) -> Callable[[Sandbox, State], None]:
    """The platform's manifests with these pins (none given: as at up)."""

    def change(sandbox: Sandbox, state: State) -> None:
        dependencies.write(sandbox.app_sources, **pins)

    return change


def _edit_config(sandbox: Sandbox, state: State) -> None:
    """Someone's hand edit survived the restore: the config is not what the archive holds."""
    config = sandbox.config_dir / "app.toml"
    keep = sandbox.root / "faults" / "config-not-restored"
    keep.mkdir(parents=True, exist_ok=True)
    shutil.copy2(config, keep / "app.toml")
    config.write_text(config.read_text() + "\ndb_pool_max = 200  # hand edit, never archived\n")


def _put_config_back(sandbox: Sandbox, state: State) -> None:
    kept = sandbox.root / "faults" / "config-not-restored" / "app.toml"
    if kept.exists():
        shutil.copy2(kept, sandbox.config_dir / "app.toml")
        shutil.rmtree(kept.parent)


def _empty_prediction_cache(sandbox: Sandbox, state: State) -> None:
    client = _redis(sandbox, state)
    for key in client.scan_iter("prediction:*"):
        client.delete(key)


def _latest_run(job: str) -> str:
    return f"(SELECT id FROM batch_runs WHERE job = '{job}' ORDER BY started_at DESC LIMIT 1)"


def _one_row(symbol: str, nth_latest: int) -> str:
    return f"(SELECT id FROM stock_prices WHERE symbol = '{symbol}' ORDER BY date DESC OFFSET {nth_latest} LIMIT 1)"


def _accuracy(percent: int) -> Callable[[Sandbox, State], None]:
    """Make exactly `percent` % of the last week's realised predictions right."""
    window = "correct IS NOT NULL AND target_date > current_date - 7"
    return _sql(
        "predictions",
        f"UPDATE predictions p SET correct = ranked.rn <= round(ranked.n * {percent} / 100.0) FROM "
        f"(SELECT id, row_number() OVER (ORDER BY id) AS rn, count(*) OVER () AS n FROM predictions WHERE {window})"
        " AS ranked WHERE p.id = ranked.id",
    )


def _lower_max_connections(sandbox: Sandbox, state: State) -> None:
    with _superuser(state) as conn:
        conn.execute("ALTER SYSTEM SET max_connections = 12")
    postgres.restart(Path(state.pg_dir))


def _reset_max_connections(sandbox: Sandbox, state: State) -> None:
    with _superuser(state) as conn:
        conn.execute("ALTER SYSTEM RESET max_connections")
    postgres.restart(Path(state.pg_dir))


# --- Redis ---------------------------------------------------------------------------------------


def _redis(sandbox: Sandbox, state: State):
    import redis

    return redis.Redis(
        host="127.0.0.1", port=state.ports["redis"], password=sandbox.secrets()["OPSCHECK_SANDBOX_REDIS_PASSWORD"]
    )


def _fill_redis(sandbox: Sandbox, state: State) -> None:
    """maxmemory squeezed to just above what is used: the cache is about to evict."""
    client = _redis(sandbox, state)
    client.config_set("maxmemory", int(int(client.info("memory")["used_memory"]) * 1.05))


def _unsqueeze_redis(sandbox: Sandbox, state: State) -> None:
    if is_ours(state.pids["redis"], str(sandbox.root)):
        client = _redis(sandbox, state)
        client.config_set("maxmemory", "64mb")
        client.config_resetstat()  # what an operator does once the evictions are dealt with


def _leak_key(sandbox: Sandbox, state: State) -> None:
    _redis(sandbox, state).set("prediction:LEAKED", "{}")


def _drop_leaked_key(sandbox: Sandbox, state: State) -> None:
    if is_ours(state.pids["redis"], str(sandbox.root)):
        _redis(sandbox, state).delete("prediction:LEAKED")


# --- logs --------------------------------------------------------------------------------------


def _now_stamp() -> str:
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%d %H:%M:%S,") + f"{now.microsecond // 1000:03d}"


def _append_app_lines(log: str, level: str, message: str, count: int) -> Callable[[Sandbox, State], None]:
    def inject(sandbox: Sandbox, state: State) -> None:
        with open(sandbox.logs / log, "a", encoding="utf-8") as out:
            out.writelines(f"{_now_stamp()} {level} miraikakaku {message}\n" for _ in range(count))

    return inject


def _append_requests(status: int, count: int, clients: int) -> Callable[[Sandbox, State], None]:
    def inject(sandbox: Sandbox, state: State) -> None:
        now = datetime.now(UTC)
        lines = [
            traffic.access_line(f"203.0.113.{200 + i % clients}", now, "GET", "/api/predictions/AAPL", status, 64, 0.01)
            for i in range(count)
        ]
        with open(sandbox.logs / "access.log", "a", encoding="utf-8") as out:
            out.writelines(lines)

    return inject


def _attack(*requests: tuple[str, str, str, int, int]) -> Callable[[Sandbox, State], None]:
    """Append (client, method, path, status, count) requests to the access log, as they happened just now;
    each failed login also leaves the API's 'authentication failed' line in api.log."""

    def inject(sandbox: Sandbox, state: State) -> None:
        now = datetime.now(UTC)
        access, app = [], []
        for client, method, path, status, count in requests:
            for _ in range(count):
                access.append(traffic.access_line(client, now, method, path, status, 32, 0.004))
                if path == "/api/auth/login" and status == 401:
                    user = "admin" if client.startswith("192.0.2.1") else "demo"
                    app.append(f"{_now_stamp()} WARNING miraikakaku.api authentication failed for user={user} "
                               f"from {client}\n")  # fmt: skip
        with open(sandbox.logs / "access.log", "a", encoding="utf-8") as out:
            out.writelines(access)
        with open(sandbox.logs / "api.log", "a", encoding="utf-8") as out:
            out.writelines(app)

    return inject


def _restart_api(sandbox: Sandbox, state: State) -> None:
    """The API restarted to read its certificate and TLS configuration again, and answering TLS."""
    stop_process(state.pids["api"], str(sandbox.root))
    state.pids["api"] = lifecycle.start_service(sandbox, "api")
    sandbox.write_state(state)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", state.ports["api"]), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SandboxError("the API did not come back after its TLS change")


def _reissue_certificate(days: float, names: tuple[str, ...] = tls.SERVER_NAMES) -> Callable[[Sandbox, State], None]:
    def change(sandbox: Sandbox, state: State) -> None:
        tls.issue_server(sandbox.tls, datetime.now(UTC) + timedelta(days=days), names)
        _restart_api(sandbox, state)

    return change


def _tls_options(**options: str) -> Callable[[Sandbox, State], None]:
    def change(sandbox: Sandbox, state: State) -> None:
        tls.set_server_options(sandbox.tls, **options)
        _restart_api(sandbox, state)

    return change


def _log_sizes_file(sandbox: Sandbox) -> Path:
    return sandbox.root / "faults-logs.json"


def _remember_log_sizes(sandbox: Sandbox) -> None:
    """Before the first fault: how long every log is, so heal can take back what faults made them say."""
    if not _log_sizes_file(sandbox).exists():
        sizes = {p.name: p.stat().st_size for p in sandbox.logs.glob("*.log")}  # the live logs, not rotations
        atomic_write(_log_sizes_file(sandbox), json.dumps(sizes))


def _truncate_logs(sandbox: Sandbox) -> None:
    try:
        sizes = json.loads(_log_sizes_file(sandbox).read_text())
    except OSError:
        return
    for name, size in sizes.items():
        log = sandbox.logs / name
        if log.is_file() and log.stat().st_size > size:
            with open(log, "r+b") as handle:
                handle.truncate(size)
    _log_sizes_file(sandbox).unlink()


# --- CPU and memory, inside the sandbox's cgroup ------------------------------------------------

CPU_HOG = "while True: pass"
# Wait to be moved into the cgroup, then take and touch the memory (untouched pages are not charged).
MEMORY_HOG = (
    "import pathlib, sys, time; time.sleep(0.5); hog = b'\\x01' * int(sys.argv[1]); "
    "pathlib.Path(sys.argv[2]).touch(); time.sleep(86400)"
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


# --- disk --------------------------------------------------------------------------------------


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


# Four writers that each rewrite a block and wait for it to reach the disk, over and over (a runaway export).
IO_HOG = (
    "import os, sys, threading\n"
    "def write(n):\n"
    "    f = os.open(f'{sys.argv[1]}/io-hog-{n}', os.O_WRONLY | os.O_CREAT)\n"
    "    while True:\n"
    "        os.pwrite(f, b'x' * 65536, 0); os.fsync(f)\n"
    "for n in range(4): threading.Thread(target=write, args=(n,)).start()\n"
)


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


# --- resource history --------------------------------------------------------------------------


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


# --- files ---------------------------------------------------------------------------------------


# --- backups -----------------------------------------------------------------------------------


def _latest_sets(sandbox: Sandbox, kind: str, count: int = 1) -> list[Path]:
    from sandbox.backup import sets_of_kind

    of_kind = sets_of_kind(sandbox, kind)
    if len(of_kind) < count:
        raise SandboxError(f"fewer than {count} {kind} backup set(s) to break")
    return of_kind[-count:]


def _keep_original(sandbox: Sandbox, fault: str, folder: Path) -> None:
    keep = sandbox.root / "faults" / fault / folder.name
    if not keep.exists():
        shutil.copytree(folder, keep)


def _restore_originals(fault: str) -> Callable[[Sandbox, State], None]:
    """Put back every set the fault changed, here and off-site."""

    def heal(sandbox: Sandbox, state: State) -> None:
        kept = sandbox.root / "faults" / fault
        if not kept.is_dir():
            return
        for original in kept.iterdir():
            for root in (sandbox.backups_local, sandbox.backups_offsite):
                shutil.rmtree(root / original.name, ignore_errors=True)
                shutil.copytree(original, root / original.name)
        shutil.rmtree(kept)

    return heal


def _break_latest_daily(fault: str, mutate: Callable[[Path], bool], where: str = "both") -> tuple[Callable, Callable]:
    """Change the newest daily set as a faulty job would have written it: then synced off-site as it was.

    `mutate` returns whether the job would have checksummed what it changed. `where`: "both" (the job
    wrote it so and synced it), "local" (changed after the sync), "offsite" (a sync that went wrong).
    """
    from sandbox.backup import write_manifest

    def inject(sandbox: Sandbox, state: State) -> None:
        folder = _latest_sets(sandbox, "daily")[0]
        _keep_original(sandbox, fault, folder)
        offsite = sandbox.backups_offsite / folder.name
        if where == "offsite":
            mutate(offsite)
            return
        if mutate(folder):
            write_manifest(folder)
        if where == "both":
            shutil.rmtree(offsite, ignore_errors=True)
            shutil.copytree(folder, offsite)

    return inject, _restore_originals(fault)  # spread into Fault(...) as its inject and heal


def _drop_config_archive(folder: Path) -> bool:
    """The job's tar step failed; it wrote a manifest of what it did have."""
    for archive in folder.glob("config_*"):
        archive.unlink()
    return True


def _empty_dump(folder: Path) -> bool:
    """pg_dump wrote nothing and the job checksummed the empty file anyway (GitLab, 2017)."""
    next(folder.glob("database_*")).write_bytes(b"")
    return True


def _flip_a_byte(folder: Path) -> bool:
    """One price's first decimal digit in the middle of the dump changed after it was written (bad disk, bad
    copy): the dump still restores, with one value silently wrong."""
    dump = next(folder.glob("database_*"))
    content = bytearray(dump.read_bytes())
    at = content.index(b".", len(content) // 2) + 1
    while not chr(content[at]).isdigit():
        at = content.index(b".", at) + 1
    content[at] = ord(str((int(chr(content[at])) + 1) % 10))
    dump.write_bytes(bytes(content))
    return False


def _cut_logs_archive(folder: Path) -> bool:
    """The logs archive cut short (a full disk during tar), then checksummed as it was."""
    archive = next(folder.glob("logs_*"))
    archive.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    return True


def _drop_most_prices(folder: Path) -> bool:
    """pg_dump 'succeeded' while most of stock_prices was missing (a purge gone wrong the hour before)."""
    dump = next(folder.glob("database_*"))
    out, in_prices, kept = [], False, 0
    for line in dump.read_text().splitlines(keepends=True):
        if line.startswith("COPY public.stock_prices "):
            in_prices = True
        elif in_prices and line.startswith("\\."):
            in_prices = False
        elif in_prices:
            kept += 1
            if kept % 10:
                continue
        out.append(line)
    dump.write_text("".join(out))
    return True


def _cut_dump(folder: Path) -> bool:
    """The dump stops at 60 % (the disk filled while pg_dump wrote), and the job checksummed it anyway."""
    dump = next(folder.glob("database_*"))
    dump.write_bytes(dump.read_bytes()[: dump.stat().st_size * 6 // 10])
    return True


# An index over a function declared IMMUTABLE that is not: what a collation change after an OS upgrade
# does to a text index. The dump restores; amcheck's heapallindexed finds heap rows the index lost.
DRIFTING_INDEX = """
CREATE FUNCTION public.drifting(integer) RETURNS integer LANGUAGE sql IMMUTABLE
    AS $$ SELECT $1 + (random() * 1000000)::integer $$;
CREATE INDEX stock_prices_drifting ON public.stock_prices USING btree (public.drifting((id)::integer));
"""


def _add_drifting_index(folder: Path) -> bool:
    dump = next(folder.glob("database_*"))
    text = dump.read_text()
    trailer = text.rindex("--\n-- PostgreSQL database dump complete")
    dump.write_text(text[:trailer] + DRIFTING_INDEX + "\n" + text[trailer:])
    return True


def _old_dump_tool(folder: Path) -> bool:
    record = json.loads((folder / "backup.json").read_text())
    record["tool"] = "pg_dump (PostgreSQL) 13.14"
    (folder / "backup.json").write_text(json.dumps(record, indent=2))
    return False


def _unreadable_set(sandbox: Sandbox, state: State) -> None:
    folder = sandbox.backups_local / "20000101_000000"
    folder.mkdir()
    (folder / "backup.json").write_text("{ half a record")


def _remove_unreadable_set(sandbox: Sandbox, state: State) -> None:
    shutil.rmtree(sandbox.backups_local / "20000101_000000", ignore_errors=True)


# --- behaviour flags read by the running services ------------------------------------------------


def _flag(sandbox: Sandbox, state: State) -> None:
    """Nothing to do here: the service reads faults.json, where `inject` records every active fault."""


def _stop_fault_process(sandbox: Sandbox, state: State) -> None:
    """Heal of every fault that runs a process of its own (recorded as its pid in faults.json)."""
    stop_fault_processes(sandbox)


ERROR, CRITICAL, WARNING = "error", "critical", "warning"

CATALOGUE: dict[str, Fault] = {
    fault.name: fault
    for fault in [
        Fault("api-down", "the API process is killed", ("D1", "S1", "T1", "D6"),
              {f"{HEALTH}[api/health]": ERROR, f"{HEALTH}[api/api/health]": ERROR,
               f"{HEALTH}[ml_engine/api/ml/health]": ERROR, f"{HEALTH}[frontend/api/health]": ERROR,
               f"{T1}::*": ERROR, f"{PERF}::test_*_within_the_response_limit*": WARNING,
               "checks/test_predictions.py::test_ml_engine_model_is_freshly_trained": WARNING,
               f"{OUTSIDE}[https://localhost:*/health]": ERROR},
              _stop("api")),
        Fault("frontend-down", "the front-end process is killed while the API lives", ("D1", "S1", "T1", "T6"),
              {f"{HEALTH}[frontend/api/health]": ERROR, f"{T1}::*": ERROR, f"{OUTSIDE}[http://localhost:*/]": ERROR},
              _stop("frontend")),
        Fault("platform-down", "API and front end both killed: nothing answers users", ("D1",),
              {f"{HEALTH}[api/health]": ERROR, f"{HEALTH}[api/api/health]": ERROR,
               f"{HEALTH}[ml_engine/api/ml/health]": ERROR, f"{HEALTH}[frontend/api/health]": ERROR,
               "checks/test_health.py::test_platform_answers_its_users": CRITICAL, f"{T1}::*": ERROR,
               f"{PERF}::test_*_within_the_response_limit*": WARNING,
               "checks/test_predictions.py::test_ml_engine_model_is_freshly_trained": WARNING, f"{OUTSIDE}[*]": ERROR},
              _stop("api", "frontend")),
        Fault("ml-degraded", "the ML engine reports itself degraded: its model is not loaded", ("D1", "T4"),
              {f"{HEALTH}[ml_engine/api/ml/health]": ERROR,
               "checks/test_predictions.py::test_ml_engine_model_is_freshly_trained": WARNING}, _flag),
        Fault("streaming-stopped", "the streaming engine process is killed", ("D1", "T1"),
              {f"{HEALTH}[streaming_engine/health]": ERROR, f"{T1}::test_declared_processes_run[sandbox]": ERROR,
               f"{CACHE}::test_streaming_engine_ticks_are_fresh": ERROR}, _stop_streaming),
        Fault("monitoring-down", "the monitoring process is killed", ("D1", "T1", "D11"),
              {f"{HEALTH}[monitoring/health]": ERROR, f"{T1}::test_declared_processes_run[sandbox]": ERROR,
               f"{D11}[*]": WARNING}, _stop("monitoring")),
        Fault("redis-down", "Redis is killed", ("D1", "T1", "P5"),
              {"checks/test_health.py::test_redis_answers": ERROR, f"{HEALTH}[api/api/health]": ERROR,
               f"{HEALTH}[streaming_engine/health]": ERROR, f"{T1}::test_declared_ports_listen[sandbox]": ERROR,
               f"{CACHE}::*": DECLARED, f"{PERF}::test_endpoint_answers_within_the_response_limit[/api/health]":
               WARNING},
              _stop("redis")),
        Fault("pg-down", "PostgreSQL is stopped", ("T5", "D1", "D2", "D4", "D5", "D9", "P6", "T1"),
              {f"{PG}::*": DECLARED, f"{BATCH}::*": DECLARED, "checks/test_integrity.py::*": DECLARED,
               "checks/test_predictions.py::test_prediction_accuracy_holds": WARNING,
               "checks/test_traffic.py::test_daily_statistics_report_is_produced": WARNING,
               f"{PERF}::test_application_pool_fits_under_max_connections": WARNING,
               f"{PERF}::test_endpoint_answers_within_the_response_limit[/api/stock_prices/AAPL]": WARNING,
               f"{PERF}::test_endpoint_answers_within_the_response_limit[/api/health]": WARNING,
               f"{T1}::test_declared_ports_listen[sandbox]": ERROR,
               f"{HEALTH}[api/api/health]": ERROR, f"{HEALTH}[ml_engine/api/ml/health]": ERROR,
               "checks/test_predictions.py::test_ml_engine_model_is_freshly_trained": WARNING,
               f"{BACKUPS}::test_dump_tool_is_not_older_than_the_server": ERROR},
              _stop_postgres),
        Fault("pg-connections-exhausted", f"a leaky job holds {HELD_CONNECTIONS} idle connections", ("T5",),
              {f"{PG}::test_postgres_connections_under_limit": WARNING},
              _hold("pg-connections-exhausted", HELD_CONNECTIONS), _stop_fault_process),
        Fault("backup-stale", "the daily backup job stopped two nights ago", ("D5", "B1"),
              {f"{BACKUPS}::test_latest_backup_is_fresh[daily]": ERROR},
              _set_aside("backup-stale", lambda sb: _latest_sets(sb, "daily", 2)),
              _put_back("backup-stale", lambda sb: sb.backups_local),
              also={"drill": {f"{DRILL}::test_recovery_objectives_are_met": ERROR}}),
        Fault("backup-incomplete", "the latest daily set lacks its config archive", ("D5", "B2"),
              {f"{BACKUPS}::test_latest_backup_holds_every_part[daily]": ERROR},
              *_break_latest_daily("backup-incomplete", _drop_config_archive)),
        Fault("backup-empty-dump", "the latest daily dump is empty (and checksummed as such)", ("D5", "B2"),
              {f"{BACKUPS}::test_latest_backup_is_intact[daily]": CRITICAL,
               f"{BACKUPS}::test_latest_dump_is_not_much_smaller_than_the_one_before": ERROR},
              *_break_latest_daily("backup-empty-dump", _empty_dump),
              also={"drill": {f"{DRILL}::test_restored_data_matches_the_backup_record": CRITICAL}}),
        Fault("backup-corrupt", "a byte in the middle of the latest daily dump is flipped", ("D5", "B2"),
              {f"{BACKUPS}::test_latest_backup_is_intact[daily]": CRITICAL},
              *_break_latest_daily("backup-corrupt", _flip_a_byte, where="local"),
              also={"drill": {f"{DRILL}::test_restored_data_matches_the_backup_record": CRITICAL}}),
        Fault("backup-archive-cut", "the latest daily logs archive is cut in half, then checksummed", ("D5", "B2"),
              {f"{BACKUPS}::test_latest_backup_is_intact[daily]": CRITICAL},
              *_break_latest_daily("backup-archive-cut", _cut_logs_archive)),
        Fault("backup-shrunk", "the latest daily dump holds a tenth of stock_prices (whole, checksummed)", ("D5",),
              {f"{BACKUPS}::test_latest_dump_is_not_much_smaller_than_the_one_before": ERROR},
              *_break_latest_daily("backup-shrunk", _drop_most_prices),
              also={"drill": {f"{DRILL}::test_restored_data_matches_the_backup_record": CRITICAL}}),
        Fault("backup-truncated", "the latest daily dump stops at 60 %, checksummed as it was", ("D5", "W5", "MM3"),
              {f"{BACKUPS}::test_latest_backup_is_intact[daily]": CRITICAL,
               f"{BACKUPS}::test_latest_dump_is_not_much_smaller_than_the_one_before": ERROR},
              *_break_latest_daily("backup-truncated", _cut_dump),
              also={"drill": {f"{DRILL}::*": DECLARED}}),
        Fault("backup-index-drift", "the latest dump builds an index that loses rows (a collation change)",
              ("W5", "MM3"), {}, *_break_latest_daily("backup-index-drift", _add_drifting_index),
              also={"drill": {f"{DRILL}::test_restored_database_passes_amcheck": CRITICAL}}),
        Fault("backup-old-tool", "the latest daily dump was taken with pg_dump 13 against a 15 server", ("D5",),
              {f"{BACKUPS}::test_dump_tool_is_not_older_than_the_server": ERROR},
              *_break_latest_daily("backup-old-tool", _old_dump_tool)),
        Fault("backup-offsite-differs", "a byte of the off-site copy of the latest daily dump differs", ("D5", "B2"),
              {f"{BACKUPS}::test_offsite_copy_matches_the_local_set[daily]": ERROR},
              *_break_latest_daily("backup-offsite-differs", _flip_a_byte, where="offsite")),
        Fault("backup-unreadable", "a backup folder whose backup.json is cut short", ("D5",),
              {f"{BACKUPS}::test_every_backup_set_is_readable": ERROR}, _unreadable_set, _remove_unreadable_set),
        Fault("backup-unscheduled", "the hourly backup's cron entry commented out", ("B1",),
              {f"{BACKUPS}::test_backup_job_is_scheduled[sandbox-hourly]": ERROR},
              _drop_hourly_cron, _restore_hourly_cron),
        Fault("batch-failed", "last night's ingest job failed", ("D2",),
              {f"{BATCH}::test_last_nightly_run_succeeded[ingest]": ERROR},
              _sql("batch_runs", "UPDATE batch_runs SET status = 'failed', message = 'feed timed out after 3 retries'"
                   f" WHERE id = {_latest_run('ingest')}"), _restore_tables),
        Fault("batch-late", "last night's predict job finished at 07:00, after the 06:00 deadline", ("D2",),
              {f"{BATCH}::test_last_nightly_run_finished_before_the_deadline[predict]": WARNING},
              _sql("batch_runs", "UPDATE batch_runs SET finished_at = date_trunc('day', started_at) + interval '7 h'"
                   f" WHERE id = {_latest_run('predict')}"), _restore_tables),
        Fault("batch-zero-rows", "last night's ingest 'succeeded' with 0 rows", ("D2",),
              {f"{BATCH}::test_last_nightly_run_processed_a_plausible_row_count[ingest]": ERROR},
              _sql("batch_runs", f"UPDATE batch_runs SET rows_processed = 0 WHERE id = {_latest_run('ingest')}"),
              _restore_tables),
        Fault("batch-stopped", "the nightly batch has not run for two nights", ("D2", "T4"),
              {f"{BATCH}::test_last_nightly_run_succeeded[*]": ERROR,
               "checks/test_predictions.py::test_ml_engine_model_is_freshly_trained": WARNING},
              _sql("batch_runs", "DELETE FROM batch_runs WHERE started_at > now() - interval '2 days'"),
              _restore_tables),
        Fault("duplicate-rows", "one day of AAPL stored twice", ("D4",),
              {f"{RULE}[duplicate_rows]": ERROR},
              _sql("stock_prices", "INSERT INTO stock_prices (symbol, date, open, high, low, close, volume) SELECT "
                   f"symbol, date, open, high, low, close, volume FROM stock_prices WHERE id = {_one_row('AAPL', 3)}"),
              _restore_tables),
        Fault("impossible-price", "a day of MSFT whose high is below its low", ("D4",),
              {f"{RULE}[ohlc_consistent]": ERROR},
              _sql("stock_prices", f"UPDATE stock_prices SET high = low * 0.9 WHERE id = {_one_row('MSFT', 10)}"),
              _restore_tables),
        Fault("negative-price", "a day of NVDA with a negative close", ("D4",),
              {f"{RULE}[positive_prices]": ERROR, f"{RULE}[ohlc_consistent]": ERROR,
               f"{RULE}[no_implausible_jumps]": WARNING},
              _sql("stock_prices", f"UPDATE stock_prices SET close = -close WHERE id = {_one_row('NVDA', 20)}"),
              _restore_tables),
        Fault("stale-symbol", "TSLA's last three days never arrived", ("D4",),
              {f"{RULE}[symbols_up_to_date]": ERROR},
              _sql("stock_prices", "DELETE FROM stock_prices WHERE id IN (SELECT id FROM stock_prices"
                   " WHERE symbol = 'TSLA' ORDER BY date DESC LIMIT 3)"), _restore_tables),
        Fault("price-gap", "a day missing in the middle of GOOGL's history", ("D4",),
              {f"{RULE}[no_missing_trading_days]": ERROR},
              _sql("stock_prices", f"DELETE FROM stock_prices WHERE id = {_one_row('GOOGL', 100)}"), _restore_tables),
        Fault("price-jump", "one day of META's close and high tripled", ("D4",),
              {f"{RULE}[no_implausible_jumps]": WARNING},
              _sql("stock_prices", f"UPDATE stock_prices SET close = close * 3, high = high * 3"
                   f" WHERE id = {_one_row('META', 15)}"), _restore_tables),
        Fault("symbol-vanished", "every row of JPM deleted", ("D4",),
              {"checks/test_integrity.py::test_stock_prices_did_not_shrink_since_the_last_backup": CRITICAL},
              _sql("stock_prices", "DELETE FROM stock_prices WHERE symbol = 'JPM'"), _restore_tables),
        Fault("accuracy-62", "the last week's predictions 62 % right", ("D9",),
              {"checks/test_predictions.py::test_prediction_accuracy_holds": WARNING}, _accuracy(62),
              _restore_tables),
        Fault("accuracy-55", "the last week's predictions 55 % right", ("D9",),
              {"checks/test_predictions.py::test_prediction_accuracy_holds": ERROR}, _accuracy(55), _restore_tables),
        Fault("ml-model-stale", "the ML engine reports a model trained four days ago", ("T4",),
              {"checks/test_predictions.py::test_ml_engine_model_is_freshly_trained": WARNING}, _flag),
        Fault("slow-predictions", "/api/predictions answers after 600 ms", ("D6", "P7"),
              {f"{PERF}::test_endpoint_answers_within_the_response_limit[/api/predictions/AAPL]": WARNING,
               f"{PERF}::test_prediction_endpoint_answers_within_the_response_limit": WARNING}, _flag,
              also={"load": {f"{LOAD}[/api/predictions/{{symbol}}-p95_ms]": WARNING}}),
        Fault("pg-max-connections-lowered", "PostgreSQL restarted with max_connections = 12", ("P6",),
              {f"{PERF}::test_application_pool_fits_under_max_connections": WARNING},
              _lower_max_connections, _reset_max_connections),
        Fault("redis-memory-full", "Redis's maxmemory squeezed to 5 % above its use", ("D1", "D6"),
              {f"{CACHE}::test_redis_memory_has_headroom_and_nothing_was_evicted": WARNING},
              _fill_redis, _unsqueeze_redis),
        Fault("cache-key-without-ttl", "a prediction cached with no TTL", ("P5",),
              {f"{CACHE}::test_cache_keys_expire_within_their_policy": WARNING}, _leak_key, _drop_leaked_key),
        Fault("error-burst", "40 'database connection error' lines in api.log just now", ("D3",),
              {"checks/test_logs.py::test_log_errors_within_limits[app]": WARNING},
              _append_app_lines("api.log", "ERROR", "database connection error: OperationalError", 40)),
        Fault("critical-log-line", "a CRITICAL line in frontend.log", ("D3",),
              {"checks/test_logs.py::test_log_errors_within_limits[frontend]": ERROR},
              _append_app_lines("frontend.log", "CRITICAL", "render worker pool exhausted; serving 503", 1)),
        Fault("5xx-burst", "120 requests to /api/predictions answered 500 just now", ("D8",),
              {"checks/test_traffic.py::test_api_error_ratio_under_limit": ERROR}, _append_requests(500, 120, 20)),
        Fault("traffic-spike", "3000 requests from 300 clients in the last minute", ("D7",),
              {"checks/test_traffic.py::test_user_activity_within_its_normal_band[*]": WARNING},
              _append_requests(200, 3000, 300)),
        Fault("access-log-missing", "access logging broken: the log and its rotations gone, nothing written",
              ("T2", "D7", "D8", "D10", "X1", "X2", "X3"),
              {"checks/test_logs.py::test_log_is_present_and_being_written[access]": WARNING,
               "checks/test_traffic.py::*": DECLARED, f"{SECURITY_LOGS}::*": DECLARED},
              _set_aside("access-log", lambda sb: list(sb.logs.glob("access.log*"))),
              _put_back("access-log", lambda sb: sb.logs)),
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
        Fault("restore-lost-days", "the restore brought back stock_prices without its last week",
              ("R1",), {}, _sql("stock_prices", "DELETE FROM stock_prices WHERE date >= (SELECT max(date) - 4"
                                                " FROM stock_prices)"), _restore_tables,
              also={"post_restore": {f"{RESTORE}::test_restored_database_holds_what_the_backup_held": CRITICAL,
                                     f"{RESTORE}::test_newest_data_is_as_new_as_the_backup": CRITICAL}}),
        Fault("index-invalid", f"{HOT_INDEX} marked invalid (a REINDEX CONCURRENTLY cut short)", ("R1", "P1"),
              {}, _invalidate_index(False), _invalidate_index(True),
              also={"post_restore": {f"{RESTORE}::test_no_index_is_invalid": ERROR},
                    "weekly": {f"{DB_HEALTH}::test_manual_index_is_present_and_valid": ERROR,
                               f"{DB_HEALTH}::test_hot_query_is_served_by_an_index": WARNING}}),
        Fault("autovacuum-off-bloat", "autovacuum off on stock_prices, then every row rewritten", ("P2", "P4"),
              {}, _bloat(True), _bloat(False),
              also={"weekly": {f"{DB_HEALTH}::test_table_statistics_are_fresh": WARNING,
                               f"{DB_HEALTH}::test_dead_tuples_are_kept_down": WARNING}}),
        Fault("rows-past-retention", "AAPL rows from three years ago (the purge never ran)", ("P3",),
              {}, _sql("stock_prices", "INSERT INTO stock_prices (symbol, date, open, high, low, close, volume)"
                                       " SELECT symbol, date - 1095, open, high, low, close, volume FROM stock_prices"
                                       " WHERE symbol = 'AAPL' ORDER BY date LIMIT 20"), _restore_tables,
              also={"weekly": {f"{DB_HEALTH}::test_stock_prices_keep_two_years": WARNING}}),
        Fault("purge-too-eager", "every stock_prices row older than a year deleted", ("P3",),
              {}, _sql("stock_prices", "DELETE FROM stock_prices WHERE date < current_date - 365",
                       *PURGE_JOB_VACUUM), _restore_tables,
              also={"weekly": {f"{DB_HEALTH}::test_stock_prices_keep_two_years": ERROR}}),
        Fault("slow-statement", "the application ran a 600 ms statement six times", ("W4",),
              {}, _run_slow_statement, _reset_statement_stats,
              also={"weekly": {f"{DB_HEALTH}::test_no_statement_is_slow_on_average": WARNING}}),
        Fault("pg-idle-in-transaction", "a session left idle inside its transaction", ("W4",),
              {}, _hold("pg-idle-in-transaction", 1, in_transaction=True), _stop_fault_process,
              also={"weekly": {f"{DB_HEALTH}::test_no_session_idles_in_a_transaction_or_runs_too_long": WARNING}}),
        Fault("xid-wraparound-near", "autovacuum off and 1.2 billion transactions since the last freeze", ("W4",),
              {}, _age_transaction_ids, _freeze_every_database,
              also={"weekly": {f"{DB_HEALTH}::test_no_database_nears_transaction_id_wraparound": WARNING}}),
        Fault("cache-starved", "shared_buffers cut to 128 kB: reads go to disk", ("W4",),
              {}, _starve_cache, _feed_cache,
              also={"weekly": {f"{DB_HEALTH}::test_cache_hit_ratio_is_high": WARNING}}),
        Fault("config-not-restored", "app.toml differs from the config archive (a hand edit survived)", ("R2",),
              {}, _edit_config, _put_config_back,
              also={"post_restore": {f"{RESTORE}::test_configuration_matches_the_config_archive[sandbox]": ERROR}}),
        Fault("cache-not-filled", "the API cannot write its cache; the prediction keys are gone", ("R2",),
              {}, _empty_prediction_cache,
              also={"post_restore": {f"{RESTORE}::test_caches_fill_again": ERROR}}),
        Fault("plan-missing", "no maintenance plan for tomorrow", ("D12",),
              {"checks/test_plans.py::test_tomorrow_has_a_maintenance_plan": WARNING},
              _set_aside("plans", lambda sb: list(sb.plans.iterdir())), _put_back("plans", lambda sb: sb.plans),
              also={"weekly": {"checks/test_plans.py::test_next_weeks_deploy_plan_is_reviewed": WARNING}}),
        Fault("logrotate-misses-logs", "logrotate's configuration names api.log only", ("W7",),
              {}, _narrow_logrotate(True), _narrow_logrotate(False),
              also={"weekly": {"checks/test_log_rotation.py::test_logrotate_covers_every_log[sandbox]": WARNING}}),
        Fault("log-unrotated-huge", "frontend.log grown to 21 MB past its 20 MB limit", ("W7", "W6"),
              {}, _grow_frontend_log,
              also={"weekly": {"checks/test_log_rotation.py::test_no_log_grows_past_its_limit": WARNING}}),
        Fault("dr-review-overdue", "the DR plan was last reviewed 40 days ago", ("M4",),
              {}, _reviews_aged(M4=40, X7=3), _restore_trail,
              also={"monthly": {"checks/test_attestations.py::test_item_was_attested_recently[M4]": WARNING}}),
        Fault("slow-week", "every request of the last two weeks 25 times slower", ("W1",),
              {}, _rewrite_traffic(slowdown=25), _rewrite_traffic(),
              also={"weekly": {f"{W1}::test_weekly_performance_report": WARNING}}),
        Fault("erroring-week", "8 % of the last two weeks' requests answered 503", ("W1",),
              {}, _rewrite_traffic(server_error_rate=0.08), _rewrite_traffic(),
              also={"weekly": {f"{W1}::test_weekly_performance_report": ERROR}}),
        Fault("short-access-history", "only five days of access log kept (logrotate's rotate 4)", ("W1",),
              {}, _rewrite_traffic(days=5), _rewrite_traffic(),
              also={"weekly": {f"{W1}::test_weekly_performance_report": WARNING}}),
        Fault("sla-availability-missed", "1 % of the month's requests answered 5xx (99.0 % against 99.9 %)", ("M2",),
              {}, _rewrite_suite_history(error_percent=1.0), _rewrite_suite_history(),
              also={"monthly": {f"{SLA}::test_availability_meets_the_sla": ERROR}}),
        Fault("sla-availability-collapsed", "3 % of the month's requests answered 5xx", ("M2",),
              {}, _rewrite_suite_history(error_percent=3.0), _rewrite_suite_history(),
              also={"monthly": {f"{SLA}::test_availability_meets_the_sla": CRITICAL}}),
        Fault("sla-latency-missed", "the month's daily p95 around 700 ms", ("M2",),
              {}, _rewrite_suite_history(p95_ms=700), _rewrite_suite_history(),
              also={"monthly": {f"{SLA}::test_latency_meets_the_sla": ERROR}}),
        Fault("health-checks-failing", "the API's health checks failed on the last three mornings", ("M2", "M1"),
              {}, _rewrite_suite_history(failed_health_days=3), _rewrite_suite_history(),
              also={"monthly": {f"{SLA}::test_health_checks_passed_over_the_month": ERROR}}),
        Fault("history-short", "the suite's record holds nine days (its reports folder was wiped)", ("M1", "M2", "M3"),
              {}, _rewrite_suite_history(days=9), _rewrite_suite_history(),
              also={"monthly": {f"{SLA}::*": WARNING, f"{M3}[*]": WARNING,
                                "checks/test_monthly_report.py::test_monthly_report_is_produced": WARNING}}),
        Fault("database-outgrowing", "the database grows 8 MB a day toward its 1 GB limit", ("M3",),
              {}, _rewrite_suite_history(database_mb=600, database_growth_mb_per_day=8), _rewrite_suite_history(),
              also={"monthly": {f"{M3}[database_size_mb]": WARNING}}),
        Fault("security-update-pending",
              f"the security archive offers {apt.PACKAGE} {apt.FIXED}; the host has {apt.INSTALLED}", ("MM1",),
              {}, _offer_security_update(apt.FIXED), _offer_security_update(apt.INSTALLED),
              also={"monthly": {"checks/test_updates.py::test_no_security_update_is_waiting[sandbox]": WARNING}}),
        Fault("apt-lists-stale", "the host's package lists last refreshed 30 days ago (apt-daily.timer off)",
              ("MM1",), {}, lambda sandbox, state: apt.age_lists(sandbox.apt_root, 30),
              _offer_security_update(apt.INSTALLED),
              also={"monthly": {"checks/test_updates.py::test_no_security_update_is_waiting[sandbox]": WARNING}}),
        Fault("prices-erroring", "every tenth /api/stock_prices request answers 500", ("P7", "MW3"),
              {}, _flag, also={"load": {f"{LOAD}[/api/stock_prices/{{symbol}}-error_percent]": ERROR}}),
        Fault("load-throughput-cap", "the API serves one request at a time, 200 ms each (5 requests/s)",
              ("P7", "MW3"), {}, _flag,
              also={"load": {f"{LOAD}[overall-min_rps]": WARNING, f"{LOAD}[*-p95_ms]": WARNING,
                             f"{LOAD}[overall-p99_ms]": WARNING}}),
        Fault("brute-force-burst", "30 failed logins from one client in a minute", ("X3",),
              {f"{SECURITY_LOGS}::test_no_brute_force_on_logins": ERROR},
              _attack(("192.0.2.66", "POST", "/api/auth/login", 401, 30))),
        Fault("breach-after-burst", "30 failed logins from one client, then one that succeeds", ("X3",),
              {f"{SECURITY_LOGS}::test_no_brute_force_on_logins": CRITICAL},
              _attack(("192.0.2.77", "POST", "/api/auth/login", 401, 30),
                      ("192.0.2.77", "POST", "/api/auth/login", 200, 1))),
        Fault("account-sprayed", "the account 'admin' failing from eight clients", ("X3",),
              {f"{SECURITY_LOGS}::test_no_brute_force_on_logins": ERROR},
              _attack(*[(f"192.0.2.1{i}", "POST", "/api/auth/login", 401, 1) for i in range(8)])),
        Fault("scanner-sweep", "one client asking for /.env, /.git/config, /wp-login.php and ../../etc/passwd",
              ("X1", "X4"), {f"{SECURITY_LOGS}::test_no_scanner_signatures": WARNING},
              _attack(*[("192.0.2.99", "GET", path, 404, 5)
                        for path in ("/.env", "/.git/config", "/wp-login.php", "/static/../../etc/passwd")])),
        Fault("404-storm", "200 requests for unknown symbols from one client", ("X1",),
              {f"{SECURITY_LOGS}::test_no_client_collects_many_error_answers": WARNING},
              _attack(("192.0.2.50", "GET", "/api/predictions/ZZZZ", 404, 200))),
        Fault("request-flood", "400 requests from one client in one minute", ("X2",),
              {f"{SECURITY_LOGS}::test_no_client_floods_the_service": WARNING},
              _attack(("192.0.2.10", "GET", "/api/predictions/AAPL", 200, 400))),
        Fault("cert-renewal-due", "the API's certificate expires in 20 days (renewal did not run)", ("X6", "MM2"),
              {}, _reissue_certificate(20), _reissue_certificate(90),
              also={"security": {f"{TLS_CERT}[127.0.0.1:*]": WARNING},
                    "monthly": {f"{TLS_CERT}[127.0.0.1:*]": WARNING}}),
        Fault("cert-expiring", "the API's certificate expires in 5 days", ("X6", "MM2"),
              {}, _reissue_certificate(5), _reissue_certificate(90),
              also={"security": {f"{TLS_CERT}[127.0.0.1:*]": ERROR}}),
        Fault("cert-expired", "the API's certificate expired yesterday", ("X6", "MM2"),
              {}, _reissue_certificate(-1), _reissue_certificate(90),
              also={"security": {f"{TLS_CERT}[127.0.0.1:*]": CRITICAL, **API_UNVERIFIABLE}}),
        Fault("cert-wrong-name", "the API serves a certificate for www.example.jp", ("X6",),
              {}, _reissue_certificate(90, ("www.example.jp",)), _reissue_certificate(90),
              also={"security": {f"{TLS_CERT}[127.0.0.1:*]": ERROR, **API_UNVERIFIABLE}}),
        Fault("tls10-enabled", "the API's TLS configuration accepts TLS 1.0 and 1.1 (an old nginx snippet)", ("X8",),
              {}, _tls_options(minimum_version="TLSv1", ciphers="DEFAULT:@SECLEVEL=0"), _tls_options(),
              also={"security": {"checks/test_tls.py::test_old_protocols_are_refused[127.0.0.1:*]": WARNING}}),
        Fault("weak-ciphers", "the API's TLS configuration offers every cipher, anonymous ones included", ("X8",),
              {}, _tls_options(ciphers="ALL:eNULL:@SECLEVEL=0"), _tls_options(),
              also={"security": {"checks/test_tls.py::test_no_weak_cipher_is_accepted[127.0.0.1:*]": WARNING}}),
        Fault("hsts-missing", "the API stopped sending Strict-Transport-Security (a proxy config rewrite)",
              ("W2",), {}, _flag,
              also={"security": {f"{HARDENING}::test_security_headers_are_sent[api]": WARNING}}),
        Fault("server-banner", "server_tokens on: Server: nginx/1.18.0 (Ubuntu), X-Powered-By: Express 4.17.1",
              ("W2",), {}, _flag,
              also={"security": {f"{HARDENING}::test_server_does_not_tell_its_version[*]": WARNING}}),
        Fault("cors-open", "any origin allowed with credentials (Access-Control-Allow-Origin reflected)", ("W2",),
              {}, _flag,
              also={"security": {f"{HARDENING}::test_cors_does_not_trust_any_origin_with_credentials[*]": WARNING}}),
        Fault("renewal-unattested", "no one has confirmed certificate renewal for 45 days (no certbot here)",
              ("X7",), {}, _reviews_aged(M4=3, X7=45), _restore_trail,
              also={"security": {"checks/test_tls.py::test_certificate_renewal_works[sandbox]": ERROR}}),
        Fault("symbol-crash", "/api/stock_prices crashes (500) on a symbol outside [A-Z0-9.-]", ("X4", "W2"),
              {}, _flag, also={"security": {f"{API_SCAN}::test_no_input_makes_the_api_fail": ERROR}}),
        Fault("schema-drift", "/api/predictions sends predicted_close as a string, against its OpenAPI document",
              ("X4", "W2"), {}, _flag,
              also={"security": {f"{API_SCAN}::test_answers_match_the_api_schema": WARNING}}),
        Fault("admin-open", "/api/admin/users answers without a session", ("X4", "W2"),
              {}, _flag,
              also={"security": {f"{API_SCAN}::test_protected_endpoints_refuse_anonymous_callers": ERROR}}),
        Fault("vulnerable-python-pin", "requirements.txt pins python-multipart 0.0.17 (GHSA-59g5-xgcq-4qw3, high)",
              ("X5", "W3"), {}, _pin(python={"python-multipart": "0.0.17"}), _pin(),
              also={"security": {f"{DEPENDENCIES}[pip:requirements.txt]": ERROR}}),
        Fault("vulnerable-npm-pin", "package-lock.json pins next 14.2.20 (GHSA-f82v-jwr5-mffw, critical)",
              ("X5", "W3"), {}, _pin(npm={"next": "14.2.20"}), _pin(),
              also={"security": {f"{DEPENDENCIES}[npm:frontend/package-lock.json]": CRITICAL}}),
        Fault("advisories-unreachable", "the advisory mirror is down", ("X5", "W3"),
              {}, _stop("advisories"), also={"security": {f"{DEPENDENCIES}[*]": ERROR}}),
        Fault("deploy-plan-unreviewed", "next week's deploy plan has no Reviewed-by line", ("W8",),
              {}, _deploy_plan_review(False), _deploy_plan_review(True),
              also={"weekly": {"checks/test_plans.py::test_next_weeks_deploy_plan_is_reviewed": WARNING}}),
    ]
}  # fmt: skip


def _running_state(sandbox: Sandbox) -> State:
    state = sandbox.read_state()
    if state is None:
        raise SandboxError(f"no sandbox is running in {sandbox.root}: run `opscheck sandbox up` first")
    return state


def inject(sandbox: Sandbox, name: str) -> Fault:
    fault = CATALOGUE.get(name)
    if fault is None:
        raise SandboxError(f"no fault named {name!r}: `opscheck sandbox faults` lists them")
    with sandbox.lock():
        state = _running_state(sandbox)
        _remember_log_sizes(sandbox)
        remember(sandbox, name)
        fault.inject(sandbox, state)
    return fault


def heal(sandbox: Sandbox) -> list[str]:
    """Undo every active fault, restart what is down, and wait until the platform is healthy again."""
    with sandbox.lock():
        state = _running_state(sandbox)
        injected = list(active(sandbox))
        _restart_what_is_down(sandbox, state)
        for name in injected:
            CATALOGUE[name].heal(sandbox, state)
        sandbox.faults_file.unlink(missing_ok=True)
        lifecycle.wait_until_ready(sandbox, state)
        # Last, once healthy again: what the fault (and the recovery from it) wrote to the logs goes, so
        # the next fault's run does not judge this one's errors (D3, D8 look back hours).
        _truncate_logs(sandbox)
    return injected


def _restart_what_is_down(sandbox: Sandbox, state: State) -> None:
    marker = str(sandbox.root)
    pg_dir = Path(state.pg_dir)
    if not postgres.is_running(pg_dir):
        postgres.start(pg_dir)
    if not is_ours(state.pids["redis"], marker):
        state.pids["redis"] = lifecycle.start_redis(sandbox, state.ports["redis"])
    for name in lifecycle.SERVICES:
        if not is_ours(state.pids[name], marker):
            state.pids[name] = lifecycle.start_service(sandbox, name)
    sandbox.write_state(state)


if __name__ == "__main__" and sys.argv[1] == "hold":
    hold(sys.argv[2], int(sys.argv[3]), sys.argv[4] == "True")
