"""PostgreSQL: how to reach it read-only, what the weekly review judges (W4), and the drill's scratch server."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field

from opscheck.target.base import Percent, Section


class Postgres(Section):
    host: str
    port: int = Field(5432, ge=1, le=65535)
    dbname: str = "miraikakaku"
    user: str
    password_env: str | None = None
    sslmode: Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] = "prefer"
    # libpq will not wait less than 2 s for a connection.
    connect_timeout_s: int = Field(3, ge=2, le=60)
    statement_timeout_ms: int = Field(5000, ge=100, le=600_000)


class Drill(Section):
    """The scratch PostgreSQL server restore drills may write to (W5, MM3). Never the production database:
    each drill creates a database of its own there, restores into it, checks it and drops it."""

    host: str
    port: int = Field(5432, ge=1, le=65535)
    user: str  # needs CREATEDB there, and EXECUTE on amcheck's functions (see README)
    password_env: str | None = None
    maintenance_db: str = "postgres"
    sslmode: Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] = "prefer"
    # psql, pg_restore and pg_amcheck come from here; default: `pg_config --bindir`, then PATH.
    bin_dir: Path | None = None
    timeout_minutes: Annotated[float, Field(gt=0, le=24 * 60)] = 60.0
    # Recovery objectives: a restore slower than max_rto_minutes, or data older than max_rpo_hours, is an ERROR.
    max_rto_minutes: Annotated[float, Field(gt=0)] = 60.0
    max_rpo_hours: Annotated[float, Field(gt=0)] = 26.0


class DatabaseHealth(Section):
    """The weekly database review (W4, P1-P4): what the manual's pg_stat_* queries are judged against."""

    # P1: the manual's hot query and the index it must be served by.
    hot_query: str = "SELECT * FROM stock_prices WHERE symbol = 'AAPL' ORDER BY date DESC LIMIT 30"
    hot_index: str = "idx_stock_prices_symbol_date"
    hot_index_columns: str = "(symbol, date DESC)"
    analyze_max_age_days: Annotated[float, Field(gt=0)] = 7.0  # P2
    changed_since_analyze_percent: Percent = 20.0  # P2: more of a table changed since ANALYZE is stale
    retention_days: Annotated[int, Field(ge=1)] = 730  # P3: two years
    retention_margin_days: Annotated[int, Field(ge=0)] = 30  # P3: the oldest row is at least this near the limit
    dead_tuple_percent: Percent = 20.0  # P4
    dead_tuple_min_rows: Annotated[int, Field(ge=0)] = 1000  # P4: smaller tables are not judged
    slow_statement_ms: Annotated[float, Field(gt=0)] = 500.0  # W4: mean time of a statement in pg_stat_statements
    slow_statement_min_calls: Annotated[int, Field(ge=1)] = 5
    # W4: a mean this many times the limit is slow over fewer calls (a nightly report that takes 3 s twice)
    slow_statement_far_factor: Annotated[float, Field(ge=1)] = 4.0
    slow_statement_far_min_calls: Annotated[int, Field(ge=1)] = 2
    idle_in_transaction_s: Annotated[float, Field(gt=0)] = 300.0  # W4: a session idle inside a transaction
    long_query_s: Annotated[float, Field(gt=0)] = 300.0  # W4: a statement running longer than this
    # W4: how far each database's oldest unfrozen transaction ID is toward the 2^31 wraparound shutdown
    wraparound_warning_percent: Percent = 50.0
    wraparound_critical_percent: Percent = 75.0
    cache_hit_percent: Percent = 99.0  # W4: share of block reads served from shared_buffers
    cache_min_block_reads: Annotated[int, Field(ge=0)] = 10_000  # fewer since the stats reset are not judged
