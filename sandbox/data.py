"""The `miraikakaku` database: the manual's schema and deterministic synthetic data.

Prices are a seeded random walk over weekdays (made in PostgreSQL), so the same `--rows`
gives the same table; predictions carry realised outcomes at about the manual's normal 80 %
accuracy; batch runs cover the last week of nights.
"""

from __future__ import annotations

import hashlib
import itertools
import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import psycopg

from sandbox.shape import Shape

PRICES_TABLE = """
CREATE TABLE stock_prices (
    id bigserial PRIMARY KEY,
    symbol text NOT NULL,
    date date NOT NULL,
    open numeric(12,4) NOT NULL,
    high numeric(12,4) NOT NULL,
    low numeric(12,4) NOT NULL,
    close numeric(12,4) NOT NULL,
    volume bigint NOT NULL
);
CREATE TABLE users (
    id serial PRIMARY KEY,
    username text UNIQUE NOT NULL,
    password_sha256 text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE sessions (
    id text PRIMARY KEY,
    user_id integer NOT NULL REFERENCES users (id),
    started_at timestamptz NOT NULL,
    last_seen timestamptz NOT NULL
);
"""


# What the default shape's schema holds the prices to, so D4 reads these rules from the catalogue instead of
# scanning; the manual's own schema (the manual shape) has only the plain index, and D4 scans for them there.
PRICE_CHECKS = {
    "stock_prices_ohlc": "low <= high AND low <= open AND open <= high AND low <= close AND close <= high",
    "stock_prices_positive": "open > 0 AND high > 0 AND low > 0 AND close > 0 AND volume >= 0",
    "stock_prices_weekday": "extract(isodow FROM date) < 6",  # no weekend rows: D4 counts only holidays' rows
}


def price_guards(shape: Shape) -> list[str]:
    """The manual's index on (symbol, date DESC) — where the shape enforces the rules, unique and covering close
    (D4 reads each symbol's recent closes from the index alone) — and the shape's CHECK constraints, (re)made:
    what a fault that dropped one of them puts back when it heals."""
    unique, covering = ("UNIQUE ", " INCLUDE (close)") if shape.price_constraints else ("", "")
    statements = [
        "DROP INDEX IF EXISTS idx_stock_prices_symbol_date",
        f"CREATE {unique}INDEX idx_stock_prices_symbol_date ON stock_prices (symbol, date DESC){covering}",
    ]
    for name, condition in PRICE_CHECKS.items():
        statements.append(f"ALTER TABLE stock_prices DROP CONSTRAINT IF EXISTS {name}")
        if shape.price_constraints:
            statements.append(f"ALTER TABLE stock_prices ADD CONSTRAINT {name} CHECK ({condition})")
    return statements


def schema(shape: Shape) -> str:
    """The manual's schema, its batch and prediction tables named as `shape` names them."""
    b, p, s = (lambda c: shape.col("batch", c)), (lambda c: shape.col("predictions", c)), shape.statuses
    states = ", ".join(f"'{v}'" for v in s.values())
    return (
        PRICES_TABLE
        + f"""
CREATE TABLE {shape.predictions_table} (
    id bigserial PRIMARY KEY,
    {p("symbol")} text NOT NULL,
    {p("made_at")} timestamptz NOT NULL,
    {p("target_date")} date NOT NULL,
    predicted_close numeric(12,4) NOT NULL,
    predicted_up boolean NOT NULL,
    actual_close numeric(12,4),
    {p("correct")} boolean,
    {p("model_version")} text NOT NULL
);
CREATE INDEX idx_{shape.predictions_table}_symbol_made_at
    ON {shape.predictions_table} ({p("symbol")}, {p("made_at")} DESC);
CREATE TABLE {shape.batch_table} (
    id bigserial PRIMARY KEY,
    {b("job")} text NOT NULL,
    {b("started_at")} timestamptz NOT NULL,
    {b("finished_at")} timestamptz,
    {b("status")} text NOT NULL CHECK ({b("status")} IN ({states})),
    {b("rows_processed")} integer NOT NULL DEFAULT 0,
    {b("message")} text NOT NULL DEFAULT ''
);
"""
    )


BASE_SYMBOLS = [
    "AAPL", "MSFT", "GOOGL", "AMZN", "NVDA", "META", "TSLA", "JPM", "V", "JNJ",
    "7203.T", "6758.T", "9984.T", "8306.T", "6861.T", "9432.T", "4063.T", "6098.T", "8035.T", "7974.T",
]  # fmt: skip
TRADING_DAYS_2Y = 520
MODEL_VERSION = "lstm-2026.11"
ACCURACY = 0.85
DEMO_USER = ("demo", "demo-password")


def symbols_for(rows: int) -> list[str]:
    """Enough symbols for about `rows` price rows over two years of trading days."""
    count = max(1, round(rows / TRADING_DAYS_2Y))
    extra = [f"SYM{i:04d}" for i in range(max(0, count - len(BASE_SYMBOLS)))]
    return (BASE_SYMBOLS + extra)[:count] if count <= len(BASE_SYMBOLS) else BASE_SYMBOLS + extra


def last_trading_day(today: date) -> date:
    day = today
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def trading_days(end: date, count: int) -> list[date]:
    days: list[date] = []
    day = end
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day -= timedelta(days=1)
    return days[::-1]


# A seeded random walk per symbol, made inside PostgreSQL: 10 million rows take seconds, not minutes.
PRICES = """
WITH days AS (
  SELECT d::date AS date FROM generate_series(%(first)s::date, %(last)s::date, interval '1 day') AS d
  WHERE extract(isodow FROM d) < 6
), symbols AS (
  SELECT symbol, 20 + 580 * random() AS base FROM unnest(%(symbols)s::text[]) WITH ORDINALITY AS s(symbol, n)
  ORDER BY n
), walk AS (
  SELECT symbol, date,
         base * exp(sum(ln(1 + (random() - 0.5) * 0.05)) OVER (PARTITION BY symbol ORDER BY date)) AS close
  FROM symbols CROSS JOIN days
)
INSERT INTO stock_prices (symbol, date, open, high, low, close, volume)
SELECT symbol, date, open, greatest(open, close) * (1 + random() * 0.01), least(open, close) * (1 - random() * 0.01),
       close, (200000 + random() * 5000000)::bigint
FROM (SELECT symbol, date, close, close * (1 + (random() - 0.5) * 0.008) AS open FROM walk) AS w
ORDER BY symbol, date
"""


def load(conn: psycopg.Connection, rows: int, now: datetime, shape: Shape) -> dict[str, int]:
    """Create the schema and fill it; returns row counts per table."""
    conn.execute(schema(shape))
    days = trading_days(last_trading_day(now.date()), TRADING_DAYS_2Y)
    symbols = symbols_for(rows)
    conn.execute("SET max_parallel_workers_per_gather = 0")  # one worker: the seeded sequence stays the same
    conn.execute("SELECT setseed(0.42)")
    conn.execute(PRICES, {"first": days[0], "last": days[-1], "symbols": symbols})
    for statement in price_guards(shape):  # after the rows, as a deployment adds them: a compact index, built once
        conn.execute(statement)
    recent = conn.execute(
        "SELECT symbol, date, close FROM stock_prices WHERE symbol = ANY(%s) AND date >= %s",
        (symbols[:20], days[-23]),
    ).fetchall()
    closes: dict[tuple[str, date], Decimal] = {(symbol, day): close for symbol, day, close in recent}
    _load_predictions(conn, symbols[:20], days[-23:], closes, now, shape)
    _load_batch_history(conn, len(symbols), now, shape)
    _load_users(conn, now)
    counts = {}
    for table in ("stock_prices", shape.predictions_table, shape.batch_table, "users", "sessions"):
        counts[table] = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # type: ignore[index]
    return counts


def _load_predictions(conn, symbols, days, closes, now: datetime, shape: Shape) -> None:
    """A month of next-day predictions, 85 % right every day (so any window is at the normal level)."""
    rng = random.Random(7)
    rows = []
    for previous, target in itertools.pairwise(days):
        wrong = set(rng.sample(symbols, round(len(symbols) * (1 - ACCURACY))))
        for symbol in symbols:
            base = closes[(symbol, previous)]
            actual = closes[(symbol, target)]
            went_up = actual >= base
            predicted_up = went_up if symbol not in wrong else not went_up
            predicted = base * Decimal("1.01" if predicted_up else "0.99")
            made_at = datetime.combine(previous, time(22, 0), UTC)
            rows.append((symbol, made_at, target, predicted, predicted_up, actual, predicted_up == went_up))
    p = {c: shape.col("predictions", c) for c in ("symbol", "made_at", "target_date", "correct", "model_version")}
    with conn.cursor().copy(
        f"COPY {shape.predictions_table} ({p['symbol']}, {p['made_at']}, {p['target_date']}, predicted_close,"
        f" predicted_up, actual_close, {p['correct']}, {p['model_version']}) FROM STDIN"
    ) as copy:
        for row in rows:
            copy.write_row((*row, MODEL_VERSION))
    for symbol in symbols:
        conn.execute(
            f"INSERT INTO {shape.predictions_table} ({p['symbol']}, {p['made_at']}, {p['target_date']},"
            f" predicted_close, predicted_up, {p['model_version']}) VALUES (%s, %s, %s, %s, true, %s)",
            (symbol, now - timedelta(hours=2), now.date() + timedelta(days=1), closes[(symbol, days[-1])],
             MODEL_VERSION),
        )  # fmt: skip


def _load_batch_history(conn, symbol_count: int, now: datetime, shape: Shape) -> None:
    """The nightly ingest/predict/train jobs of the last seven nights, all succeeded, at 02:00."""
    b = {c: shape.col("batch", c) for c in ("job", "started_at", "finished_at", "status", "rows_processed")}
    local = now.astimezone(shape.zone)  # the jobs run at 02:00 where the platform is
    for nights_ago in range(7, 0, -1) if local.hour >= 3 else range(8, 1, -1):
        night = datetime.combine(local.date() - timedelta(days=nights_ago - 1), time(2, 0), shape.zone)
        for offset, job in enumerate(("ingest", "predict", "train")):
            started = night + timedelta(minutes=10 * offset)
            conn.execute(
                f"INSERT INTO {shape.batch_table} ({b['job']}, {b['started_at']}, {b['finished_at']}, {b['status']},"
                f" {b['rows_processed']}) VALUES (%s, %s, %s, '{shape.statuses['succeeded']}', %s)",
                (job, started, started + timedelta(minutes=4), symbol_count if job != "train" else 1),
            )


def _load_users(conn, now: datetime) -> None:
    rng = random.Random(11)
    users = [DEMO_USER] + [(f"user{i:04d}", f"pw-{i}") for i in range(1, 500)]
    with conn.cursor().copy("COPY users (username, password_sha256, created_at) FROM STDIN") as copy:
        for name, password in users:
            copy.write_row((name, password_hash(password), now - timedelta(days=rng.randint(1, 700))))
    with conn.cursor().copy("COPY sessions (id, user_id, started_at, last_seen) FROM STDIN") as copy:
        for i in range(120):
            started = now - timedelta(minutes=rng.randint(5, 600))
            copy.write_row((f"s{i:05d}", rng.randint(1, 500), started, started + timedelta(minutes=rng.randint(1, 4))))


def password_hash(password: str) -> str:
    return hashlib.sha256(b"miraikakaku:" + password.encode()).hexdigest()
