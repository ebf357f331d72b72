"""Faults of the database: its contents (batch runs, prices, predictions), its connections, and what
the weekly database review looks at (indexes, bloat, retention, statements, wraparound, cache)."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg

from opscheck.identity import SUITE_SESSIONS
from sandbox import data, lifecycle, postgres
from sandbox.active import remember
from sandbox.errors import SandboxError
from sandbox.faults.base import BATCH, CRITICAL, ERROR, PERF, PG, RESTORE, WARNING, Fault, _stop_fault_process
from sandbox.shape import Shape, of
from sandbox.state import Sandbox, State, spawn

RULE = "checks/test_integrity.py::test_stock_prices_keep_the_rule"
HOT_INDEX = "idx_stock_prices_symbol_date"
HOLDER = "leaky-batch-job"  # the application_name of the connection faults' helper
# Sessions that end a moment after their client: an earlier helper's, and the last run's own
JUST_ENDING = (HOLDER, *SUITE_SESSIONS)
# The connection faults fill up to a count of sessions in use, besides the check's own; the helper holds what the
# platform (the API's pool, which grows under load) does not already. 47 of the sandbox's 50 are usable.
EXHAUSTED_IN_USE = 39  # with the check's: 40 of 47 (85 %), past T5's limit (80 %)
# with the check's: 45 of 47 (96 %), past T5's ERROR band (95 %), and still two to spare so the rest of the run connects
NEARLY_ALL_IN_USE = 44
# What a purge job does after its DELETE, so the fault leaves old data gone, not dead tuples behind.
PURGE_JOB_VACUUM = ("SELECT pg_stat_force_next_flush()", "VACUUM ANALYZE stock_prices")
STATS_FLUSH_S = 1.5  # PostgreSQL 15 flushes table statistics at most a second late
IDLE_IN_TRANSACTION_S = 5  # the sandbox target's [database] idle_in_transaction_s
DB_HEALTH = "checks/test_database_health.py"
WRAPAROUND_AGE = 1_200_000_000  # transaction IDs: 56 % of the 2^31 to wraparound
CACHE_READS = 20_000  # blocks of stock_prices read after the statistics reset
FAULT_SCHEMA = "opscheck_faults"


# --- contents: a copy kept, then changed -------------------------------------------------------


def _superuser(state: State) -> psycopg.Connection:
    return psycopg.connect(
        postgres.superuser_conninfo(Path(state.pg_dir), state.ports["postgres"], "miraikakaku"), autocommit=True
    )


Shaped = str | Callable[[Shape], str]  # SQL, or SQL for the sandbox's shape (its tables' names)


def _sql(table: Shaped, *statements: Shaped) -> Callable[[Sandbox, State], None]:
    """Change `table` with `statements`, keeping a copy of it first so heal can put it back as it was."""

    def inject(sandbox: Sandbox, state: State) -> None:
        shape = of(state.shape)
        name = table(shape) if callable(table) else table
        with _superuser(state) as conn:
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {FAULT_SCHEMA}")
            conn.execute(f"CREATE TABLE IF NOT EXISTS {FAULT_SCHEMA}.{name} AS TABLE {name}")
            for statement in statements:
                conn.execute(statement(shape) if callable(statement) else statement)

    return inject


def _batch(template: str) -> Callable[[Shape], str]:
    """A statement on the nightly jobs' runs: {table}, each column ({job}, {status}, …), {failed} and
    {latest_ingest}/{latest_predict} (the job's newest run's id), as the shape names them."""

    def statement(shape: Shape) -> str:
        names = {c: shape.col("batch", c) for c in BATCH_COLUMNS}
        latest = {f"latest_{job}": f"(SELECT id FROM {shape.batch_table} WHERE {names['job']} = '{job}' ORDER BY "
                  f"{names['started_at']} DESC LIMIT 1)" for job in ("ingest", "predict")}  # fmt: skip
        return template.format(table=shape.batch_table, failed=shape.statuses["failed"], **names, **latest)

    return statement


BATCH_COLUMNS = ("job", "started_at", "finished_at", "status", "rows_processed", "message")
BATCH_TABLE: Callable[[Shape], str] = lambda shape: shape.batch_table  # noqa: E731
PREDICTIONS_TABLE: Callable[[Shape], str] = lambda shape: shape.predictions_table  # noqa: E731
PREDICTIONS_INDEX: Callable[[Shape], str] = lambda shape: f"idx_{shape.predictions_table}_symbol_made_at"  # noqa: E731


def _restore_tables(sandbox: Sandbox, state: State) -> None:
    with _superuser(state) as conn:
        kept = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (FAULT_SCHEMA,)
        ).fetchall()
        for (table,) in kept:
            conn.execute(f"TRUNCATE {table}")
            conn.execute(f"INSERT INTO {table} SELECT * FROM {FAULT_SCHEMA}.{table}")
        conn.execute(f"DROP SCHEMA IF EXISTS {FAULT_SCHEMA} CASCADE")
        for (table,) in kept:  # only what was put back: a whole-database VACUUM reads every table from disk
            postgres.vacuum_analyze(conn, table)


def _unguarded(*dropped: str) -> Callable[[Shape], str]:
    """What a migration that dropped a guard of stock_prices leaves (the unique index rebuilt plain, or CHECK
    constraints dropped): the statement that does it, where the shape's schema has the guard at all."""

    def statement(shape: Shape) -> str:
        undone = [s for s in data.price_guards(shape) if any(name in s for name in dropped) and " ADD " not in s]
        return ";".join(s.replace("UNIQUE ", "") for s in undone) or "SELECT 1"

    return statement


def _restore_prices(sandbox: Sandbox, state: State) -> None:
    """The tables as they were, then stock_prices' guards as the shape's schema has them."""
    _restore_tables(sandbox, state)
    with _superuser(state) as conn:
        for statement in data.price_guards(of(state.shape)):
            conn.execute(statement)


def _scanned_on_the_manual_schema(catches: dict[str, str]) -> dict[str, dict[str, dict[str, str]]]:
    """The same checks catch it on the manual shape, whose schema has no guard: there D4 scans for it."""
    return {"manual": {"daily": catches}}


def _one_row(symbol: str, nth_latest: int) -> str:
    return f"(SELECT id FROM stock_prices WHERE symbol = '{symbol}' ORDER BY date DESC OFFSET {nth_latest} LIMIT 1)"


def _accuracy(percent: int) -> Callable[[Sandbox, State], None]:
    """Make exactly `percent` % of the last week's realised predictions right."""

    def statement(shape: Shape) -> str:
        table, correct, day = shape.predictions_table, shape.col("predictions", "correct"), shape.col(
            "predictions", "target_date")  # fmt: skip
        window = f"{correct} IS NOT NULL AND {day} > current_date - 7"
        return (f"UPDATE {table} p SET {correct} = ranked.rn <= round(ranked.n * {percent} / 100.0) FROM "
                f"(SELECT id, row_number() OVER (ORDER BY id) AS rn, count(*) OVER () AS n FROM {table} WHERE {window})"
                " AS ranked WHERE p.id = ranked.id")  # fmt: skip

    return _sql(PREDICTIONS_TABLE, statement)


# --- connections -------------------------------------------------------------------------------


def _hold(fault: str, count: int, in_transaction: bool = False) -> Callable[[Sandbox, State], None]:
    """A helper process holds `count` sessions open: idle, or idle inside a transaction it never ends."""
    return _holding(fault, lambda already: count, in_transaction)


def _fill(fault: str, in_use: int) -> Callable[[Sandbox, State], None]:
    """A helper process holds idle sessions until `in_use` are open, counting those the platform holds itself."""
    return _holding(fault, lambda already: in_use - already, in_transaction=False)


def _holding(fault: str, count: Callable[[int], int], in_transaction: bool) -> Callable[[Sandbox, State], None]:
    def inject(sandbox: Sandbox, state: State) -> None:
        wanted = count(_sessions_once_released(state))
        if not _helper_holds(sandbox, state, fault, wanted, in_transaction, last_attempt=False):
            _helper_holds(sandbox, state, fault, wanted, in_transaction, last_attempt=True)
        if in_transaction:
            time.sleep(IDLE_IN_TRANSACTION_S + 1)  # long enough to break the sandbox target's limit

    return inject


def _helper_holds(
    sandbox: Sandbox, state: State, fault: str, count: int, in_transaction: bool, last_attempt: bool
) -> bool:
    """Start the helper and wait until it holds its sessions; whether it did. A helper that ended at once, before
    its first session, is started once more; at the last attempt, say why it could not and who holds the slots."""
    command = [sys.executable, "-m", "sandbox.faults", "hold", str(sandbox.root), str(count), str(in_transaction)]
    env = {**os.environ, "SANDBOX_DIR": str(sandbox.root)}
    out = sandbox.run_logs / "fault-hold.out"
    start = out.stat().st_size if out.exists() else 0
    pid = spawn(command, out, env=env)
    remember(sandbox, fault, {"pid": pid})
    deadline = time.monotonic() + 40
    while not (sandbox.run_logs / "held").exists():
        ended = _ended(pid)
        if time.monotonic() > deadline or ended is not None:
            said = out.read_bytes()[start:].decode(errors="replace").strip().splitlines()[-3:]
            if not said and not last_attempt:
                return False
            raise SandboxError(
                f"could not hold {count} connections (helper {ended or 'still running'}): "
                f"{' | '.join(said) or 'said nothing'}; sessions then: {_sessions_by_name(state)}"
            )
        time.sleep(0.05)
    return True


def _ended(pid: int) -> str | None:
    """How the child `pid` ended (reaped here), or None while it runs."""
    try:
        done, status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:  # reaped already (subprocess reaps the children it started and was left)
        return "ended"
    if done == 0:
        return None
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"exited {os.waitstatus_to_exitcode(status)}"


def _sessions_by_name(state: State) -> str:
    with _superuser(state) as conn:
        rows = conn.execute(
            "SELECT coalesce(nullif(application_name, ''), '-'), count(*) FROM pg_stat_activity"
            " WHERE backend_type = 'client backend' GROUP BY 1 ORDER BY 2 DESC"
        ).fetchall()
    return ", ".join(f"{count} {name}" for name, count in rows)


def _sessions_once_released(state: State, timeout_s: float = 15) -> int:
    """The client sessions open once those just ending (an earlier helper's, the last run's) are gone: their
    backends end a moment after their clients, and until then they take the slots the helper needs."""
    deadline = time.monotonic() + timeout_s
    with _superuser(state) as conn:
        while True:
            ending, others = conn.execute(
                "SELECT count(*) FILTER (WHERE application_name = ANY(%s)), count(*) FROM pg_stat_activity"
                " WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()",
                (list(JUST_ENDING),),
            ).fetchone()
            if ending == 0 or time.monotonic() > deadline:
                return others - ending
            time.sleep(0.1)


def _connect_when_a_slot_frees(state: State, password: str, timeout_s: float = 15) -> psycopg.Connection:
    """A session as the leaky job's; while the slots are taken by sessions just ending (a run's, a heal's), again."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return psycopg.connect(
                host="127.0.0.1", port=state.ports["postgres"], dbname="miraikakaku", user="miraikakaku",
                password=password, application_name=HOLDER, connect_timeout=5,
            )  # fmt: skip
        except psycopg.OperationalError as exc:
            full = "slots" in str(exc) or "too many clients" in str(exc)
            if not full or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def hold(root: str, count: int, in_transaction: bool) -> None:
    """The helper process of the connection faults: open `count` sessions and keep them (in a transaction)."""
    sandbox = Sandbox(Path(root))
    state = sandbox.read_state()
    assert state is not None
    password = sandbox.secrets()["SANDBOX_PG_OWNER_PASSWORD"]
    conns = []
    for number in range(1, count + 1):
        conns.append(_connect_when_a_slot_frees(state, password))
        if in_transaction:
            conns[-1].execute("SELECT count(*) FROM stock_prices")  # opens the transaction; never committed
        print(f"holding {number} connection(s)", flush=True)
    (sandbox.run_logs / "held").touch()
    while conns:
        time.sleep(60)


def _lower_max_connections(sandbox: Sandbox, state: State) -> None:
    with _superuser(state) as conn:
        conn.execute("ALTER SYSTEM SET max_connections = 12")
    postgres.restart(Path(state.pg_dir))


def _reset_max_connections(sandbox: Sandbox, state: State) -> None:
    with _superuser(state) as conn:
        conn.execute("ALTER SYSTEM RESET max_connections")
    postgres.restart(Path(state.pg_dir))


# --- what the weekly database review looks at --------------------------------------------------


def _invalidate_index(valid: bool, index: Shaped = HOT_INDEX) -> Callable[[Sandbox, State], None]:
    """What an interrupted REINDEX CONCURRENTLY (or a restore stopped mid-way) leaves: an index marked invalid."""

    def change(sandbox: Sandbox, state: State) -> None:
        name = index(of(state.shape)) if callable(index) else index
        with _superuser(state) as conn:
            conn.execute(f"UPDATE pg_index SET indisvalid = {valid} WHERE indexrelid = %s::regclass", (name,))

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


def _slow_statement(seconds: float, times: int) -> Callable[[Sandbox, State], None]:
    """The application's sessions ran a statement of `seconds` `times` times, all at once (pg_stat_statements counts
    the same calls and mean whether they overlapped or not: one after another cost the fault 3.6 s to inject)."""

    def once(sandbox: Sandbox, state: State) -> None:
        password = sandbox.secrets()["SANDBOX_PG_OWNER_PASSWORD"]
        with psycopg.connect(host="127.0.0.1", port=state.ports["postgres"], dbname="miraikakaku",
                             user="miraikakaku", password=password, autocommit=True) as conn:  # fmt: skip
            conn.execute(f"SELECT pg_sleep({seconds})")

    def run(sandbox: Sandbox, state: State) -> None:
        with ThreadPoolExecutor(max_workers=times) as sessions:
            for done in [sessions.submit(once, sandbox, state) for _ in range(times)]:
                done.result()

    return run


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
    with _superuser(state) as conn:
        postgres.read_prices(conn, CACHE_READS)


def _feed_cache(sandbox: Sandbox, state: State) -> None:
    """shared_buffers back and the cache warmed, then the statistics reset so the ratio measures the new setting."""
    with _superuser(state) as conn:
        conn.execute("ALTER SYSTEM RESET shared_buffers")
    postgres.restart(Path(state.pg_dir))
    with _superuser(state) as conn:
        postgres.read_prices(conn, 1)  # into the cache, then counted afresh
        postgres.read_prices(conn, lifecycle.WARM_BLOCKS)


def _as_superuser(*statements: str) -> Callable[[Sandbox, State], None]:
    def run(sandbox: Sandbox, state: State) -> None:
        with _superuser(state) as conn:
            for statement in statements:
                conn.execute(statement)

    return run


PRIVILEGES = "checks/test_privileges.py"
MONITOR_WRITES = ("INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public", "CREATE ON SCHEMA public")


FAULTS: list[Fault] = [
    Fault("pg-connections-exhausted", f"a leaky job holds idle connections until {EXHAUSTED_IN_USE + 1} are in use",
          ("T5",), {f"{PG}::test_postgres_connections_under_limit": WARNING},
          _fill("pg-connections-exhausted", EXHAUSTED_IN_USE), _stop_fault_process),
    Fault("pg-connections-nearly-all",
          f"a leaky job holds idle connections until {NEARLY_ALL_IN_USE + 1} are in use (≥ 95 %)", ("T5",),
          {f"{PG}::test_postgres_connections_under_limit": ERROR},
          _fill("pg-connections-nearly-all", NEARLY_ALL_IN_USE), _stop_fault_process),
    Fault("batch-failed", "last night's ingest job failed", ("D2",),
          {f"{BATCH}::test_last_nightly_run_succeeded[ingest]": ERROR},
          _sql(BATCH_TABLE, _batch("UPDATE {table} SET {status} = '{failed}', {message} = 'feed timed out after 3 "
                                   "retries' WHERE id = {latest_ingest}")), _restore_tables),
    Fault("batch-late", "last night's predict job finished five hours after 02:00, past the 06:00 deadline", ("D2",),
          {f"{BATCH}::test_last_nightly_run_finished_before_the_deadline[predict]": WARNING},
          _sql(BATCH_TABLE, _batch("UPDATE {table} SET {finished_at} = {started_at} + interval '5 h'"
                                   " WHERE id = {latest_predict}")), _restore_tables),
    Fault("batch-zero-rows", "last night's ingest 'succeeded' with 0 rows", ("D2",),
          {f"{BATCH}::test_last_nightly_run_processed_a_plausible_row_count[ingest]": ERROR},
          _sql(BATCH_TABLE, _batch("UPDATE {table} SET {rows_processed} = 0 WHERE id = {latest_ingest}")),
          _restore_tables),
    Fault("batch-stopped", "the nightly batch has not run for two nights", ("D2", "T4"),
          {f"{BATCH}::test_last_nightly_run_succeeded[*]": ERROR,
           "checks/test_predictions.py::test_ml_engine_model_is_freshly_trained": WARNING},
          _sql(BATCH_TABLE, _batch("DELETE FROM {table} WHERE {started_at} > now() - interval '2 days'")),
          _restore_tables),
    Fault("duplicate-rows", "the unique index on (symbol, date) rebuilt plain, then one day of AAPL stored twice",
          ("D4",), {f"{RULE}[duplicate_rows]": ERROR},
          _sql("stock_prices", _unguarded("idx_stock_prices_symbol_date"),
               "INSERT INTO stock_prices (symbol, date, open, high, low, close, volume) SELECT symbol, date, open,"
               f" high, low, close, volume FROM stock_prices WHERE id = {_one_row('AAPL', 3)}"), _restore_prices,
          on=_scanned_on_the_manual_schema({f"{RULE}[duplicate_rows]": ERROR})),
    Fault("impossible-price", "the OHLC CHECK constraint dropped, then a day of MSFT whose high is below its low",
          ("D4",), {f"{RULE}[ohlc_consistent]": ERROR},
          _sql("stock_prices", _unguarded("stock_prices_ohlc"),
               f"UPDATE stock_prices SET high = low * 0.9 WHERE id = {_one_row('MSFT', 10)}"), _restore_prices,
          on=_scanned_on_the_manual_schema({f"{RULE}[ohlc_consistent]": ERROR})),
    Fault("negative-price", "the price CHECK constraints dropped, then a day of NVDA with a negative close", ("D4",),
          {f"{RULE}[positive_prices]": ERROR, f"{RULE}[ohlc_consistent]": ERROR,
           f"{RULE}[no_implausible_jumps]": WARNING},
          _sql("stock_prices", _unguarded("stock_prices_ohlc", "stock_prices_positive"),
               f"UPDATE stock_prices SET close = -close WHERE id = {_one_row('NVDA', 20)}"), _restore_prices,
          on=_scanned_on_the_manual_schema({f"{RULE}[positive_prices]": ERROR, f"{RULE}[ohlc_consistent]": ERROR,
                                            f"{RULE}[no_implausible_jumps]": WARNING})),
    Fault("stale-symbol", "TSLA's last three days never arrived", ("D4",),
          {f"{RULE}[symbols_up_to_date]": ERROR},
          _sql("stock_prices", "DELETE FROM stock_prices WHERE id IN (SELECT id FROM stock_prices"
               " WHERE symbol = 'TSLA' ORDER BY date DESC LIMIT 3)"), _restore_tables,
          on=_scanned_on_the_manual_schema({f"{RULE}[symbols_up_to_date]": ERROR})),
    Fault("price-gap", "a day missing in the middle of GOOGL's history", ("D4",),
          {f"{RULE}[no_missing_trading_days]": ERROR},
          _sql("stock_prices", f"DELETE FROM stock_prices WHERE id = {_one_row('GOOGL', 100)}"), _restore_tables,
          on=_scanned_on_the_manual_schema({f"{RULE}[no_missing_trading_days]": ERROR})),
    Fault("price-jump", "one day of META's close and high tripled", ("D4",),
          {f"{RULE}[no_implausible_jumps]": WARNING},
          _sql("stock_prices", f"UPDATE stock_prices SET close = close * 3, high = high * 3"
               f" WHERE id = {_one_row('META', 15)}"), _restore_tables,
          on=_scanned_on_the_manual_schema({f"{RULE}[no_implausible_jumps]": WARNING})),
    Fault("symbol-vanished", "every row of JPM deleted", ("D4",),
          {"checks/test_integrity.py::test_stock_prices_did_not_shrink_since_the_last_backup": CRITICAL},
          _sql("stock_prices", "DELETE FROM stock_prices WHERE symbol = 'JPM'"), _restore_tables),
    Fault("accuracy-62", "the last week's predictions 62 % right", ("D9",),
          {"checks/test_predictions.py::test_prediction_accuracy_holds": WARNING}, _accuracy(62),
          _restore_tables),
    Fault("accuracy-55", "the last week's predictions 55 % right", ("D9",),
          {"checks/test_predictions.py::test_prediction_accuracy_holds": ERROR}, _accuracy(55), _restore_tables),
    Fault("pg-max-connections-lowered", "PostgreSQL restarted with max_connections = 12", ("P6",),
          {f"{PERF}::test_application_pool_fits_under_max_connections": WARNING},
          _lower_max_connections, _reset_max_connections),
    Fault("restore-lost-days", "the restore brought back stock_prices without its last week",
          ("R1",), {}, _sql("stock_prices", "DELETE FROM stock_prices WHERE date >= (SELECT max(date) - 4"
                                            " FROM stock_prices)"), _restore_tables,
          also={"post_restore": {f"{RESTORE}::test_restored_database_holds_what_the_backup_held": CRITICAL,
                                 f"{RESTORE}::test_newest_data_is_as_new_as_the_backup": CRITICAL}}),
    Fault("index-invalid", f"{HOT_INDEX} marked invalid (a REINDEX CONCURRENTLY cut short)", ("R1", "P1"),
          {}, _invalidate_index(False), _invalidate_index(True),
          also={"post_restore": {f"{RESTORE}::test_no_index_is_invalid": ERROR},
                "weekly": {f"{DB_HEALTH}::test_manual_index_is_present_and_valid": ERROR,
                           f"{DB_HEALTH}::test_hot_query_is_served_by_an_index": WARNING,
                           f"{RESTORE}::test_no_index_is_invalid": ERROR}}),
    Fault("index-invalid-elsewhere", "the predictions' index marked invalid, not the manual's own", ("W4",),
          {}, _invalidate_index(False, PREDICTIONS_INDEX), _invalidate_index(True, PREDICTIONS_INDEX),
          also={"weekly": {f"{RESTORE}::test_no_index_is_invalid": ERROR}}),
    Fault("autovacuum-off-bloat", "autovacuum off on stock_prices, then every row rewritten", ("P2", "P4"),
          {}, _bloat(True), _bloat(False),
          also={"weekly": {f"{DB_HEALTH}::test_table_statistics_are_fresh": WARNING,
                           f"{DB_HEALTH}::test_dead_tuples_are_kept_down": WARNING}}),
    Fault("rows-past-retention", "AAPL rows from three years ago (the purge never ran)", ("P3",),
          {}, _sql("stock_prices", "INSERT INTO stock_prices (symbol, date, open, high, low, close, volume)"
                                   " SELECT symbol, date - 1092, open, high, low, close, volume FROM stock_prices"
                                   " WHERE symbol = 'AAPL' ORDER BY date LIMIT 20"), _restore_tables,
          also={"weekly": {f"{DB_HEALTH}::test_stock_prices_keep_two_years": WARNING}}),
    Fault("purge-too-eager", "every stock_prices row older than a year deleted", ("P3",),
          {}, _sql("stock_prices", "DELETE FROM stock_prices WHERE date < current_date - 365",
                   *PURGE_JOB_VACUUM), _restore_tables,
          also={"weekly": {f"{DB_HEALTH}::test_stock_prices_keep_two_years": ERROR}}),
    Fault("slow-statement", "the application ran a 600 ms statement six times", ("W4",),
          {}, _slow_statement(0.6, 6), _reset_statement_stats,
          also={"weekly": {f"{DB_HEALTH}::test_no_statement_is_slow_on_average": WARNING}}),
    Fault("slow-statement-twice", "the application ran a 2.1 s statement twice (over 4× the limit)", ("W4",),
          {}, _slow_statement(2.1, 2), _reset_statement_stats,
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
    Fault("monitor-role-writes", "the monitoring role granted INSERT, UPDATE, DELETE on every table and CREATE",
          ("O1",), {}, _as_superuser(*(f"GRANT {what} TO opscheck_monitor" for what in MONITOR_WRITES)),
          _as_superuser(*(f"REVOKE {what} FROM opscheck_monitor" for what in MONITOR_WRITES)),
          also={"security": {f"{PRIVILEGES}::test_monitoring_role_only_reads": WARNING}}),
    Fault("monitor-in-owner-role", "the monitoring role made a member of miraikakaku, the tables' owner",
          ("O1",), {}, _as_superuser("GRANT miraikakaku TO opscheck_monitor"),
          _as_superuser("REVOKE miraikakaku FROM opscheck_monitor"),
          also={"security": {f"{PRIVILEGES}::test_monitoring_role_only_reads": WARNING}}),
    Fault("drill-role-createrole", "the drill's role given CREATEROLE", ("O1",),
          {}, _as_superuser("ALTER ROLE opscheck_drill CREATEROLE"),
          _as_superuser("ALTER ROLE opscheck_drill NOCREATEROLE"),
          also={"security": {f"{PRIVILEGES}::test_drill_role_holds_only_createdb": WARNING}}),
]  # fmt: skip
