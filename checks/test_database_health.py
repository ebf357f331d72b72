"""W4 — データベース最適化, P1-P4 — パフォーマンスチューニング: the weekly database review, read-only.

The manual's own queries (pg_stat_user_tables, pg_stat_statements, pg_stat_activity, EXPLAIN),
judged against the target's [database] figures instead of read by eye.
"""

import json

import pytest

from opscheck.judge.levels import Level, fail_at

pytestmark = [pytest.mark.weekly]


@pytest.mark.checklist("P1", "W4")
@pytest.mark.level("error")
def test_manual_index_is_present_and_valid(db, target):
    spec = target.spec.database
    rows = db.rows(
        "SELECT indexdef, indisvalid AND indisready AS usable FROM pg_indexes i"
        " JOIN pg_class c ON c.relname = i.indexname JOIN pg_index x ON x.indexrelid = c.oid"
        " WHERE i.schemaname = 'public' AND i.indexname = %s",
        (spec.hot_index,),
    )
    assert rows, f"index {spec.hot_index} does not exist. Manual (P1): CREATE INDEX CONCURRENTLY {spec.hot_index} …"
    assert spec.hot_index_columns in rows[0]["indexdef"], (
        f"{spec.hot_index} is {rows[0]['indexdef']!r}, not on {spec.hot_index_columns} as the manual defines it. "
        f"Manual (P1): recreate it CONCURRENTLY on {spec.hot_index_columns}"
    )
    assert rows[0]["usable"], f"{spec.hot_index} is invalid. Manual (P1): REINDEX INDEX CONCURRENTLY {spec.hot_index}"


@pytest.mark.checklist("P1", "W4")
@pytest.mark.level("warning")
def test_hot_query_is_served_by_an_index(db, target, measured):
    """Ask the planner, not the catalogue: an index that exists but is not used does not help."""
    query = target.spec.database.hot_query
    plan = db.value("EXPLAIN (FORMAT JSON) " + query)
    plan = json.loads(plan) if isinstance(plan, str) else plan
    nodes = list(_nodes(plan[0]["Plan"]))
    measured("plan", " → ".join(n["Node Type"] for n in nodes))
    scans = [n for n in nodes if n["Node Type"] == "Seq Scan"]
    assert not scans, (
        f"the hot query reads {', '.join(n.get('Relation Name', '?') for n in scans)} in full (Seq Scan): "
        f"{query}. Manual (P1): the index on {target.spec.database.hot_index_columns} is missing, invalid or "
        "not chosen (ANALYZE?)"
    )


def _nodes(node: dict):
    yield node
    for child in node.get("Plans", []):
        yield from _nodes(child)


@pytest.mark.checklist("P2", "W4")
@pytest.mark.level("warning")
def test_table_statistics_are_fresh(db, target, measured):
    spec = target.spec.database
    stale = db.rows(
        "SELECT relname, greatest(last_analyze, last_autoanalyze) AS analyzed, n_live_tup, n_mod_since_analyze"
        " FROM pg_stat_user_tables WHERE schemaname = 'public' AND n_live_tup > 0 AND ("
        "   greatest(last_analyze, last_autoanalyze) IS NULL"
        "   OR greatest(last_analyze, last_autoanalyze) < now() - make_interval(secs => %s)"
        "   OR n_mod_since_analyze > n_live_tup * %s / 100.0)",
        (spec.analyze_max_age_days * 86400, spec.changed_since_analyze_percent),
    )
    found = ", ".join(
        f"{r['relname']} (analyzed {r['analyzed'] or 'never'}, {r['n_mod_since_analyze']} of {r['n_live_tup']} "
        "rows changed since)"
        for r in stale
    )
    measured("tables_with_stale_statistics", len(stale))
    assert not stale, (
        f"stale planner statistics: {found} (at most {spec.analyze_max_age_days:g} days, "
        f"{spec.changed_since_analyze_percent:g} % changed). Manual (P2): ANALYZE; check that autovacuum runs"
    )


@pytest.mark.checklist("P4", "W4")
@pytest.mark.level("warning")
def test_dead_tuples_are_kept_down(db, target, measured):
    spec = target.spec.database
    bloated = db.rows(
        "SELECT relname, n_live_tup, n_dead_tup, last_autovacuum FROM pg_stat_user_tables"
        " WHERE schemaname = 'public' AND n_live_tup + n_dead_tup >= %s"
        " AND n_dead_tup > (n_live_tup + n_dead_tup) * %s / 100.0",
        (spec.dead_tuple_min_rows, spec.dead_tuple_percent),
    )
    found = ", ".join(
        f"{r['relname']} ({r['n_dead_tup']} dead of {r['n_live_tup'] + r['n_dead_tup']}, autovacuumed "
        f"{r['last_autovacuum'] or 'never'})"
        for r in bloated
    )
    measured("tables_over_the_dead_tuple_limit", len(bloated))
    assert not bloated, (
        f"dead tuples above {spec.dead_tuple_percent:g} %: {found}. Manual (P4): VACUUM ANALYZE the table; "
        "find why autovacuum does not (autovacuum_enabled, long transactions)"
    )


@pytest.mark.checklist("P3")
@pytest.mark.level("warning")
def test_stock_prices_keep_two_years(db, target, measured):
    """Retention: nothing older than the limit (the purge runs), and history up to near it (the purge is not eager)."""
    spec = target.spec.database
    row = db.rows(
        "SELECT (current_date - min(date)) AS oldest_days,"
        " count(*) FILTER (WHERE date < current_date - %s) AS past_retention FROM stock_prices",
        (spec.retention_days,),
    )[0]
    oldest = row["oldest_days"]
    measured("oldest_days", oldest)
    if oldest is not None and oldest < spec.retention_days - spec.retention_margin_days:
        fail_at(
            Level.ERROR,
            f"the oldest stock_prices row is {oldest} days old; the manual keeps {spec.retention_days} days, so "
            f"history up to {spec.retention_days - spec.retention_margin_days} days old should be there: the "
            "purge deleted too much. Manual (P3): restore the lost range from a backup (post_restore checks)",
        )
    assert row["past_retention"] == 0, (
        f"{row['past_retention']} stock_prices rows are older than {spec.retention_days} days (oldest {oldest} "
        "days). Manual (P3): DELETE FROM stock_prices WHERE date < CURRENT_DATE - INTERVAL '2 years'; is the purge "
        "job scheduled?"
    )


@pytest.mark.checklist("W4", "T5")
@pytest.mark.level("warning")
def test_no_statement_is_slow_on_average(db, target, measured):
    """The manual's pg_stat_statements query: mean time above the limit, over enough calls to mean something —
    or far above it over a few (a statement averaging 3 s is news on its second call, not its fifth)."""
    spec = target.spec.database
    slow = db.rows(
        "SELECT left(regexp_replace(query, '\\s+', ' ', 'g'), 120) AS query, calls,"
        " round(mean_exec_time::numeric, 1) AS mean_ms FROM pg_stat_statements"
        " WHERE mean_exec_time > %(limit)s"
        " AND (calls >= %(calls)s OR (calls >= %(far_calls)s AND mean_exec_time >= %(limit)s * %(far)s))"
        " AND userid <> (SELECT oid FROM pg_roles WHERE rolname = current_user)"
        " ORDER BY mean_exec_time DESC LIMIT 5",
        {"limit": spec.slow_statement_ms, "calls": spec.slow_statement_min_calls,
         "far_calls": spec.slow_statement_far_min_calls, "far": spec.slow_statement_far_factor},
    )  # fmt: skip
    measured("statements_slow_on_average", len(slow))
    assert not slow, (
        f"statements slower than {spec.slow_statement_ms:g} ms on average: "
        + "; ".join(f"{r['mean_ms']} ms × {r['calls']}: {r['query']}" for r in slow)
        + ". Manual (W4): EXPLAIN ANALYZE them; add the index or rewrite"
    )


@pytest.mark.checklist("W4", "T5")
@pytest.mark.level("warning")
def test_no_session_idles_in_a_transaction_or_runs_too_long(db, target, measured):
    """An idle transaction holds locks and stops VACUUM from cleaning; a runaway query holds a connection."""
    spec = target.spec.database
    stuck = db.rows(
        "SELECT pid, usename, application_name, state, round(extract(epoch FROM now() - state_change)) AS idle_s,"
        " round(extract(epoch FROM now() - query_start)) AS running_s, left(query, 80) AS query"
        " FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() AND ("
        "   (state LIKE 'idle in transaction%%' AND now() - state_change > make_interval(secs => %s))"
        "   OR (state = 'active' AND now() - query_start > make_interval(secs => %s)))",
        (spec.idle_in_transaction_s, spec.long_query_s),
    )
    found = "; ".join(
        f"pid {r['pid']} ({r['usename']}, {r['application_name'] or '-'}) {r['state']} for "
        f"{r['idle_s'] if r['state'] != 'active' else r['running_s']} s: {r['query']}"
        for r in stuck
    )
    measured("sessions_holding_the_database", len(stuck))
    assert not stuck, (
        f"sessions holding the database: {found}. Manual (W4): find the client; "
        "SELECT pg_terminate_backend(pid) if it is stuck"
    )


WRAPAROUND_XIDS = 2**31  # PostgreSQL stops accepting writes near this age to protect the data


@pytest.mark.checklist("W4")
@pytest.mark.level("warning")
def test_no_database_nears_transaction_id_wraparound(db, target, measured):
    """age(datfrozenxid) per database: autovacuum's freezing must keep it far from 2^31."""
    spec = target.spec.database
    ages = db.rows(
        "SELECT datname, age(datfrozenxid) AS age, current_setting('autovacuum_freeze_max_age')::bigint AS freeze_max"
        " FROM pg_database ORDER BY age(datfrozenxid) DESC"
    )
    oldest = ages[0]
    percent = 100 * oldest["age"] / WRAPAROUND_XIDS
    measured("wraparound_percent", round(percent, 2))
    found = ", ".join(f"{r['datname']} {r['age']:,}" for r in ages[:4])
    advice = (
        f"transaction IDs since the last freeze: {found} ({percent:.0f} % of the way to wraparound; "
        f"autovacuum_freeze_max_age {oldest['freeze_max']:,}). Manual (W4): VACUUM (FREEZE) each database now "
        "(vacuumdb --all --freeze); find why autovacuum did not (autovacuum off, a long transaction)"
    )
    if percent >= spec.wraparound_critical_percent:
        fail_at(Level.CRITICAL, f"near wraparound, PostgreSQL will stop taking writes: {advice}")
    assert percent < spec.wraparound_warning_percent, advice


@pytest.mark.checklist("W4")
@pytest.mark.level("warning")
def test_cache_hit_ratio_is_high(db, target, measured):
    """blks_hit against blks_read since the statistics were reset: the manual's shared_buffers tuning signal."""
    spec = target.spec.database
    row = db.rows(
        "SELECT blks_hit, blks_read, stats_reset, current_setting('shared_buffers') AS shared_buffers"
        " FROM pg_stat_database WHERE datname = current_database()"
    )[0]
    reads = row["blks_hit"] + row["blks_read"]
    if reads < spec.cache_min_block_reads:
        pytest.skip(f"only {reads:,} block reads since the statistics were reset ({row['stats_reset']}): too few to "
                    f"judge the cache (at least {spec.cache_min_block_reads:,})")  # fmt: skip
    ratio = 100 * row["blks_hit"] / reads
    measured("cache_hit_percent", round(ratio, 2))
    assert ratio >= spec.cache_hit_percent, (
        f"only {ratio:.1f} % of block reads came from shared_buffers ({row['blks_read']:,} from disk of {reads:,}; "
        f"at least {spec.cache_hit_percent:g} %). shared_buffers is {row['shared_buffers']}. "
        "Manual (キャッシュ設定調整): raise shared_buffers toward 25 % of memory, "
        "then find the queries that read most (pg_stat_statements)"
    )
