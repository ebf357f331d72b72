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
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from sandbox import cgroup, lifecycle, postgres, traffic
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
HELD_CONNECTIONS = 38
STREAM_MAX_AGE_S = 5


@dataclass(frozen=True)
class Fault:
    name: str
    breaks: str
    items: tuple[str, ...]
    catches: dict[str, str]
    inject: Callable[[Sandbox, State], None]
    heal: Callable[[Sandbox, State], None] = field(default=lambda sandbox, state: None)

    def line(self) -> str:
        levels = sorted(set(self.catches.values()), key=["warning", "error", "critical", DECLARED].index)
        return f"{self.name:28} {self.breaks}; caught by {' '.join(self.items)} at {'/'.join(levels)}"

    def expected_failures(self, declared: dict[str, str]) -> dict[str, str]:
        """node id → level, for the collected checks (`declared`: node id → declared level) this fault must fail.

        A key may be a glob: every collected check it matches must fail; DECLARED means at the check's own level.
        """
        expected: dict[str, str] = {}
        for pattern, level in self.catches.items():
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


def _hold_connections(sandbox: Sandbox, state: State) -> None:
    command = [sys.executable, "-m", "sandbox.faults", "hold", str(sandbox.root), str(HELD_CONNECTIONS)]
    pid = spawn(command, sandbox.run_logs / "fault-hold.out", env={**os.environ, "SANDBOX_DIR": str(sandbox.root)})
    _remember(sandbox, "pg-connections-exhausted", {"pid": pid})
    deadline = time.monotonic() + 40
    while not (sandbox.run_logs / "held").exists():
        if time.monotonic() > deadline or not is_ours(pid, str(sandbox.root)):
            said = (sandbox.run_logs / "fault-hold.out").read_text().strip().splitlines()[-3:]
            alive = "still running" if is_ours(pid, str(sandbox.root)) else "gone"
            raise SandboxError(f"could not hold connections (helper {alive}): {' | '.join(said) or 'said nothing'}")
        time.sleep(0.05)


def hold(root: str, count: int) -> None:
    """The helper process of pg-connections-exhausted: open `count` idle sessions and keep them."""
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
        conn.execute("ANALYZE")


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


def _log_sizes_file(sandbox: Sandbox) -> Path:
    return sandbox.root / "faults-logs.json"


def _remember_log_sizes(sandbox: Sandbox) -> None:
    """Before the first fault: how long every log is, so heal can take back what faults made them say."""
    if not _log_sizes_file(sandbox).exists():
        sizes = {p.name: p.stat().st_size for p in sandbox.logs.iterdir() if p.is_file()}
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
        _remember(sandbox, fault, {"pid": pid})
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
    total = shutil.disk_usage(state.data_mount).total
    used = shutil.disk_usage(state.data_mount).used
    with open(Path(state.data_mount) / "filler", "wb") as out:
        out.write(b"\0" * max(0, int(total * 0.97) - used))


def _empty_data_volume(sandbox: Sandbox, state: State) -> None:
    if state.data_mount:
        (Path(state.data_mount) / "filler").unlink(missing_ok=True)


# --- files ---------------------------------------------------------------------------------------


# --- backups -----------------------------------------------------------------------------------


def _latest_sets(sandbox: Sandbox, kind: str, count: int = 1) -> list[Path]:
    of_kind = []
    for folder in sorted(sandbox.backups_local.iterdir()):
        record = folder / "backup.json"
        if record.is_file() and json.loads(record.read_text()).get("kind") == kind:
            of_kind.append(folder)
    if len(of_kind) < count:
        raise SandboxError(f"fewer than {count} {kind} backup set(s) to break")
    return of_kind[-count:]


def _keep_original(sandbox: Sandbox, fault: str, folder: Path) -> None:
    keep = sandbox.root / "faults" / fault / folder.name
    if not keep.exists():
        shutil.copytree(folder, keep)


def _restore_originals(fault: str) -> Callable[[Sandbox, State], None]:
    def heal(sandbox: Sandbox, state: State) -> None:
        kept = sandbox.root / "faults" / fault
        if not kept.is_dir():
            return
        for original in kept.iterdir():
            target = sandbox.backups_local / original.name
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(original, target)
        shutil.rmtree(kept)

    return heal


def _drop_config_archive(sandbox: Sandbox, state: State) -> None:
    """The job's tar step failed; it wrote a manifest of what it did have."""
    from sandbox.backup import write_manifest

    folder = _latest_sets(sandbox, "daily")[0]
    _keep_original(sandbox, "backup-incomplete", folder)
    for archive in folder.glob("config_*"):
        archive.unlink()
    write_manifest(folder)


def _empty_dump(sandbox: Sandbox, state: State) -> None:
    """pg_dump wrote nothing and the job checksummed the empty file anyway (GitLab, 2017)."""
    from sandbox.backup import write_manifest

    folder = _latest_sets(sandbox, "daily")[0]
    _keep_original(sandbox, "backup-empty-dump", folder)
    next(folder.glob("database_*")).write_bytes(b"")
    write_manifest(folder)


def _corrupt_dump(sandbox: Sandbox, state: State) -> None:
    """One byte in the middle of the dump flipped after it was written (bad disk, bad copy)."""
    folder = _latest_sets(sandbox, "daily")[0]
    _keep_original(sandbox, "backup-corrupt", folder)
    dump = next(folder.glob("database_*"))
    content = bytearray(dump.read_bytes())
    content[len(content) // 2] ^= 0x01
    dump.write_bytes(bytes(content))


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
        Fault("monitoring-down", "the monitoring process is killed", ("D1", "T1"),
              {f"{HEALTH}[monitoring/health]": ERROR, f"{T1}::test_declared_processes_run[sandbox]": ERROR},
              _stop("monitoring")),
        Fault("redis-down", "Redis is killed", ("D1", "T1", "P5"),
              {"checks/test_health.py::test_redis_answers": ERROR, f"{HEALTH}[api/api/health]": ERROR,
               f"{HEALTH}[streaming_engine/health]": ERROR, f"{T1}::test_declared_ports_listen[sandbox]": ERROR,
               f"{CACHE}::*": DECLARED, f"{PERF}::test_endpoint_answers_within_the_response_limit[/api/health]":
               WARNING},
              _stop("redis")),
        Fault("pg-down", "PostgreSQL is stopped", ("T5", "D1", "D2", "D4", "D9", "P6", "T1"),
              {f"{PG}::*": DECLARED, f"{BATCH}::*": DECLARED, "checks/test_integrity.py::*": DECLARED,
               "checks/test_predictions.py::test_prediction_accuracy_holds": WARNING,
               "checks/test_traffic.py::test_daily_statistics_report_is_produced": WARNING,
               f"{PERF}::test_application_pool_fits_under_max_connections": WARNING,
               f"{PERF}::test_endpoint_answers_within_the_response_limit[/api/stock_prices/AAPL]": WARNING,
               f"{PERF}::test_endpoint_answers_within_the_response_limit[/api/health]": WARNING,
               f"{T1}::test_declared_ports_listen[sandbox]": ERROR,
               f"{HEALTH}[api/api/health]": ERROR, f"{HEALTH}[ml_engine/api/ml/health]": ERROR,
               "checks/test_predictions.py::test_ml_engine_model_is_freshly_trained": WARNING},
              _stop_postgres),
        Fault("pg-connections-exhausted", f"a leaky job holds {HELD_CONNECTIONS} idle connections", ("T5",),
              {f"{PG}::test_postgres_connections_under_limit": WARNING}, _hold_connections, _stop_fault_process),
        Fault("backup-stale", "the daily backup job stopped two nights ago", ("D5", "B1"),
              {f"{BACKUPS}::test_latest_backup_is_fresh[daily]": ERROR},
              _set_aside("backup-stale", lambda sb: _latest_sets(sb, "daily", 2)),
              _put_back("backup-stale", lambda sb: sb.backups_local)),
        Fault("backup-incomplete", "the latest daily set lacks its config archive", ("D5", "B2"),
              {f"{BACKUPS}::test_latest_backup_holds_every_part[daily]": ERROR}, _drop_config_archive,
              _restore_originals("backup-incomplete")),
        Fault("backup-empty-dump", "the latest daily dump is empty (and checksummed as such)", ("D5", "B2"),
              {f"{BACKUPS}::test_latest_backup_is_intact[daily]": CRITICAL}, _empty_dump,
              _restore_originals("backup-empty-dump")),
        Fault("backup-corrupt", "a byte in the middle of the latest daily dump is flipped", ("D5", "B2"),
              {f"{BACKUPS}::test_latest_backup_is_intact[daily]": CRITICAL}, _corrupt_dump,
              _restore_originals("backup-corrupt")),
        Fault("backup-unreadable", "a backup folder whose backup.json is cut short", ("D5",),
              {f"{BACKUPS}::test_every_backup_set_is_readable": ERROR}, _unreadable_set, _remove_unreadable_set),
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
               f"{PERF}::test_prediction_endpoint_answers_within_the_response_limit": WARNING}, _flag),
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
              ("T2", "D7", "D8", "D10"),
              {"checks/test_logs.py::test_log_is_present_and_being_written[access]": WARNING,
               "checks/test_traffic.py::*": DECLARED},
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
        Fault("plan-missing", "no maintenance plan for tomorrow", ("D12",),
              {"checks/test_plans.py::test_tomorrow_has_a_maintenance_plan": WARNING},
              _set_aside("plans", lambda sb: list(sb.plans.iterdir())), _put_back("plans", lambda sb: sb.plans)),
    ]
}  # fmt: skip


def _active(sandbox: Sandbox) -> dict[str, dict]:
    try:
        return json.loads(sandbox.faults_file.read_text())
    except (OSError, ValueError):
        return {}


def _remember(sandbox: Sandbox, name: str, info: dict | None = None) -> None:
    active = _active(sandbox)
    active[name] = {**active.get(name, {}), **(info or {})}
    atomic_write(sandbox.faults_file, json.dumps(active))


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
        _remember(sandbox, name)
        fault.inject(sandbox, state)
    return fault


def heal(sandbox: Sandbox) -> list[str]:
    """Undo every active fault, restart what is down, and wait until the platform is healthy again."""
    with sandbox.lock():
        state = _running_state(sandbox)
        active = list(_active(sandbox))
        _restart_what_is_down(sandbox, state)
        for name in active:
            CATALOGUE[name].heal(sandbox, state)
        _truncate_logs(sandbox)
        sandbox.faults_file.unlink(missing_ok=True)
        lifecycle.wait_until_ready(sandbox, state)
    return active


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


def stop_fault_processes(sandbox: Sandbox) -> None:
    for info in _active(sandbox).values():
        if "pid" in info:
            stop_process(info["pid"], str(sandbox.root))
    for marker in ("held", "hogged"):
        (sandbox.run_logs / marker).unlink(missing_ok=True)


if __name__ == "__main__" and sys.argv[1] == "hold":
    hold(sys.argv[2], int(sys.argv[3]))
