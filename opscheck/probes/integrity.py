"""D4's rules: built-in ones judged from at most one pass over stock_prices, and the target's own SQL rules.

Each rule as its own query cost 76× a `SELECT count(*)` on 10 million rows; one grouped pass still cost
7–10×, most of it hashing every row by symbol and comparing numerics. So the rules first ask the schema:
a valid unique index on (symbol, date) proves "no duplicates", and a validated CHECK constraint proves a
row rule (the planner's own proof: with constraint_exclusion on, it refutes the rule's violating rows and
plans no scan), so neither is scanned. Where the unique index holds, the symbols' first and newest days
and their recent closes come from the index, one symbol at a time, and one ungrouped pass counts the rows
on trading days: with each day stored once, a symbol can only lack trading days, so the calendar's days
over every symbol's range less that count is the number missing. Where a validated CHECK keeps weekend days
out, that pass is a bare count(*) and only the holidays' rows are looked up, in the index. Without the
unique index (the manual's own schema), one pass grouped by symbol profiles them (row count, first and
last day, sums of the day numbers, bad rows) for the calendar to compare. Example rows are fetched only for
the symbols that break a rule, so a clean table costs the one pass; a rule that found violations may read
more.
Day-over-day jumps need consecutive rows, so they are checked over the recent days (the ones no earlier
run has seen), symbol by symbol through the index, and only for the symbols whose recent highest close is
more than the limit above their lowest (a move past the limit between two days needs such a spread).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import cached_property
from typing import Any, Protocol

from opscheck.judge.trading_days import calendar_profile, closed, last_complete_day
from opscheck.probes.postgres import Database
from opscheck.target.data import Integrity, IntegrityRule

JUMP_WINDOW_DAYS = 45
RECENT = f"%(last_complete_day)s::date - {JUMP_WINDOW_DAYS + 1}"  # the recent days' first: a cheap date test
# Rows that break either price rule, in one test (each rule's own query over the symbols tells which):
# where low <= open, close <= high holds, every price is positive exactly when low is.
BAD_PRICES = "NOT (low <= open AND open <= high AND low <= close AND close <= high AND low > 0 AND volume >= 0)"
# What each row rule forbids, and the columns it reads: the planner is asked whether the schema refutes it.
ROW_RULES = {
    "ohlc_consistent": ("low > high OR open NOT BETWEEN low AND high OR close NOT BETWEEN low AND high",
                        ["open", "high", "low", "close"]),
    "positive_prices": ("open <= 0 OR high <= 0 OR low <= 0 OR close <= 0 OR volume < 0",
                        ["open", "high", "low", "close", "volume"]),
}  # fmt: skip

UNIQUE_INDEX = """
SELECT i.indexrelid::regclass::text AS name,
       (SELECT attname FROM pg_attribute WHERE attrelid = i.indrelid AND attnum = i.indkey[0]) = 'symbol' AS leads,
       (i.indoption[1] & 1) = 1 AS second_desc  -- with the symbol leading: the days stored newest first
FROM pg_index i
WHERE i.indrelid = 'stock_prices'::regclass AND i.indisunique AND i.indisvalid AND i.indpred IS NULL
  AND i.indexprs IS NULL AND i.indnkeyatts = 2
  AND ARRAY(SELECT attname::text FROM pg_attribute WHERE attrelid = i.indrelid AND attnum IN (i.indkey[0], i.indkey[1])
            ORDER BY 1) = ARRAY['date', 'symbol']
ORDER BY 2 DESC LIMIT 1
"""
CHECKS = """
SELECT conname::text AS name FROM pg_constraint
WHERE conrelid = 'stock_prices'::regclass AND contype = 'c' AND convalidated
  AND conkey && ARRAY(SELECT attnum FROM pg_attribute WHERE attrelid = 'stock_prices'::regclass
                      AND attname = ANY(%(columns)s))
ORDER BY 1
"""
GROUPED = f"""
SELECT symbol, count(*) AS rows, min(date) AS first, max(date) AS last,
       sum(date - DATE '2000-01-03') AS day_sum,  -- integer sums (day numbers and squares < 2^31): cheap
       sum((date - DATE '2000-01-03') * (date - DATE '2000-01-03')) AS day_square_sum,{{bad}}
       min(close) FILTER (WHERE date > {RECENT}) AS recent_low, max(close) FILTER (WHERE date > {RECENT}) AS recent_high
FROM stock_prices GROUP BY symbol
"""
# Symbol by symbol along the unique index, walking the way its days run oldest first (from its end where they are
# stored newest first): one descent finds the next symbol and its first day, a second its newest day and recent
# closes. {order} is "DESC" and {beyond} "<" to walk from the end, "" and ">" to walk from the start.
BY_INDEX = f"""
WITH RECURSIVE symbols AS (
  (SELECT symbol, date AS first FROM stock_prices WHERE symbol IS NOT NULL ORDER BY symbol {{order}}, date LIMIT 1)
  UNION ALL
  SELECT n.symbol, n.first FROM symbols s, LATERAL (
    SELECT symbol, date AS first FROM stock_prices p WHERE p.symbol {{beyond}} s.symbol
    ORDER BY symbol {{order}}, date LIMIT 1) AS n
)
SELECT s.symbol, s.first,
       -- the newest of the recent days; only a symbol without any looks further back
       coalesce(r.last, (SELECT max(date) FROM stock_prices p WHERE p.symbol = s.symbol)) AS last,
       r.recent_low, r.recent_high
FROM symbols s, LATERAL (SELECT max(date) AS last, min(close) AS recent_low, max(close) AS recent_high
                         FROM stock_prices p WHERE p.symbol = s.symbol AND p.date > {RECENT}) AS r
ORDER BY s.symbol
"""
# Ungrouped: the rows, those on closed days (a hashed lookup per row) unless the schema keeps weekends out, and
# bad rows where the schema does not refute them; with neither to test, a bare count(*).
ONE_PASS = "SELECT count(*) AS rows{closed}{bad} FROM stock_prices"
CLOSED_ROWS = ", count(*) FILTER (WHERE date = ANY(%(closed)s::date[])) AS closed_rows"
WEEKEND_ROWS = "extract(isodow FROM date) >= 6"  # what a weekday CHECK refutes
# The rows stored on holidays, one lookup of the unique index per (symbol, holiday) inside the symbol's range.
HOLIDAY_ROWS = """
SELECT count(*) AS closed_rows FROM unnest(%(symbols)s::text[], %(days)s::date[]) AS q(symbol, date)
WHERE EXISTS (SELECT 1 FROM stock_prices p WHERE p.symbol = q.symbol AND p.date = q.date)
"""


@dataclass(frozen=True)
class SymbolProfile:
    """One symbol as the rules see it; what only the grouped pass reads is None when it came from the index."""

    symbol: str
    first: date
    last: date
    recent_low: Decimal | None
    recent_high: Decimal | None
    rows: int | None = None
    day_sum: int | None = None
    day_square_sum: int | None = None
    bad_prices: int | None = None

    def may_jump(self, percent: float) -> bool:
        """Whether two of the recent closes are far enough apart for a day-over-day move past `percent`: a move up
        by p needs high > low·(1 + p); one down by p (< 100 %) high > low/(1 − p), more still. Kept with a margin."""
        if self.recent_low is None or self.recent_high is None:
            return False
        return self.recent_low <= 0 or self.recent_high > self.recent_low * Decimal(1 + percent / 100 * 0.99)


@dataclass(frozen=True)
class Verdict:
    total: int
    examples: list[dict[str, Any]]
    enforced_by: str | None = None  # the schema's guard that proves the rule, so nothing was scanned
    note: str = ""  # what would have kept the violations out


class Rule(Protocol):
    name: str
    description: str
    level: str
    limit: int
    remedy: str

    def judge(self, db: Database, context: RuleContext) -> Verdict: ...


@dataclass
class RuleContext:
    """What the rules of one run share: the parameters, the schema's guards and the profiles, each read once and
    only if needed; `reads` lists every query over stock_prices with its time (the benchmark prints them)."""

    integrity: Integrity
    today: date
    reads: list[tuple[str, float]] = field(default_factory=list)
    _known: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def last_complete_day(self) -> date:
        """Once a run: each symbol's profile is compared with it (19,231 calls took 65 ms here)."""
        return last_complete_day(self.today, self.integrity.holidays, self.integrity.expected_lag_trading_days)

    def parameters(self) -> dict[str, Any]:
        return {
            "last_complete_day": self.last_complete_day,
            "holidays": list(self.integrity.holidays),
            "max_daily_move_percent": self.integrity.max_daily_move_percent,
        }

    def read(self, db: Database, what: str, sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        return self._timed(what, lambda: db.rows(sql, params or {}))

    def _timed(self, what: str, make: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        made = make()
        self.reads.append((what, time.perf_counter() - started))
        return made

    def _once(self, key: str, make: Callable[[], Any]) -> Any:
        if key not in self._known:
            self._known[key] = make()
        return self._known[key]

    def unique_index(self, db: Database) -> dict[str, Any] | None:
        """A valid unique index on exactly (symbol, date): no duplicates can be stored, whatever the rows."""
        return self._once("unique", lambda: next(iter(self.read(db, "the catalogue: unique", UNIQUE_INDEX)), None))

    def enforced_by(self, db: Database, rule: str) -> str | None:
        """The guard in the schema that proves `rule` holds for every row, if there is one."""
        if rule == "duplicate_rows":
            index = self.unique_index(db)
            return f"unique index {index['name']}" if index else None
        if rule in ROW_RULES:
            return self._once(rule, lambda: self._timed(
                f"the planner: a CHECK refutes {rule}?", lambda: _refuted_by_checks(db, *ROW_RULES[rule])))  # fmt: skip
        return None

    def weekdays_only(self, db: Database) -> str | None:
        """The validated CHECK from which the planner proves no row falls on a weekend, if there is one."""
        refute = lambda: _refuted_by_checks(db, WEEKEND_ROWS, ["date"])  # noqa: E731
        return self._once("weekdays", lambda: self._timed("the planner: a CHECK refutes weekend rows?", refute))

    def _bad_count(self, db: Database) -> str:
        """The bad rows' count, where a row rule is not refuted by the schema (else nothing to count)."""
        unproven = [rule for rule in ROW_RULES if not self.enforced_by(db, rule)]
        return f"count(*) FILTER (WHERE {BAD_PRICES}) AS bad_prices" if unproven else ""

    def grouped(self, db: Database) -> list[SymbolProfile]:
        """One pass grouped by symbol: what the calendar needs to tell a duplicate or missing day, and bad rows."""

        def make() -> list[SymbolProfile]:
            bad = f" {bad}," if (bad := self._bad_count(db)) else ""
            rows = self.read(db, "one pass grouped by symbol", GROUPED.format(bad=bad), self.parameters())
            return [SymbolProfile(**row) for row in rows]

        return self._once("grouped", make)

    def symbols(self, db: Database) -> list[SymbolProfile]:
        """Every symbol's first and newest day and recent closes: down the unique index when one leads with the
        symbol (each day stored once), else from the grouped pass."""
        index = self.unique_index(db)
        if not (index and index["leads"]):
            return self.grouped(db)
        order, beyond = ("DESC", "<") if index["second_desc"] else ("", ">")
        walk = BY_INDEX.format(order=order, beyond=beyond)
        return self._once("by index", lambda: [SymbolProfile(**row) for row in self.read(
            db, f"symbol by symbol along {index['name']}", walk, self.parameters())])  # fmt: skip

    def totals(self, db: Database) -> dict[str, int]:
        """With each day stored once, one ungrouped pass: the trading days missing over all symbols (the
        calendar's days over each range less the rows on trading days) and the rows a row rule may break."""

        def make() -> dict[str, int]:
            symbols = self.symbols(db)
            if not symbols:
                return {"rows": 0, "missing": 0, "bad_prices": 0}
            bad = f", {bad}" if (bad := self._bad_count(db)) else ""
            if self.weekdays_only(db):  # only a holiday's rows need finding: by the index, not by testing every row
                row = self.read(db, "one pass, not grouped", ONE_PASS.format(closed="", bad=bad))[0]
                closed_rows = self._holiday_rows(db, symbols)
            else:
                first, last = min(p.first for p in symbols), max(p.last for p in symbols)
                days = (first + timedelta(days=n) for n in range((last - first).days + 1))
                shut = [day for day in days if closed(day, self.integrity.holidays)]
                sql = ONE_PASS.format(closed=CLOSED_ROWS, bad=bad)
                row = self.read(db, "one pass, not grouped", sql, {"closed": shut})[0]
                closed_rows = row["closed_rows"]
            holidays = tuple(sorted(self.integrity.holidays))
            expected = sum(calendar_profile(p.first, p.last, holidays)[0] for p in symbols)
            trading_rows = row["rows"] - closed_rows
            return {"rows": row["rows"], "missing": expected - trading_rows, "bad_prices": row.get("bad_prices", 0)}

        return self._once("totals", make)

    def _holiday_rows(self, db: Database, symbols: list[SymbolProfile]) -> int:
        """The rows stored on the target's weekday holidays: one index lookup for each holiday inside a symbol's
        range, none at all where no holiday falls in any."""
        pairs = [(p.symbol, day) for p in symbols for day in sorted(self.integrity.holidays)
                 if day.weekday() < 5 and p.first <= day <= p.last]  # fmt: skip
        if not pairs:
            return 0
        params = {"symbols": [symbol for symbol, _ in pairs], "days": [day for _, day in pairs]}
        return self.read(db, f"the holidays' rows, {len(pairs)} index lookups", HOLIDAY_ROWS, params)[0]["closed_rows"]

    def row_count(self, db: Database) -> int:
        """stock_prices' rows: counted by a pass the rules already made, else by one count(*)."""
        if "totals" in self._known:
            return self._known["totals"]["rows"]
        if "grouped" in self._known:
            return sum(p.rows or 0 for p in self._known["grouped"])
        return self.read(db, "count(*)", "SELECT count(*) AS rows FROM stock_prices")[0]["rows"]

    def profiles_for(self, db: Database, rule: str) -> list[SymbolProfile]:
        """The profiles to find `rule`'s suspects in: none at all when the one pass shows it unbroken."""
        if rule in ("symbols_up_to_date", "no_implausible_jumps"):
            return self.symbols(db)
        index = self.unique_index(db)
        if rule == "duplicate_rows" or not (index and index["leads"]):
            return self.grouped(db)
        if rule == "no_missing_trading_days":
            return self.grouped(db) if self.totals(db)["missing"] else []
        return self.symbols(db) if self.totals(db)["bad_prices"] else []  # a row rule: every symbol a suspect


def _refuted_by_checks(db: Database, violation: str, columns: list[str]) -> str | None:
    """The validated CHECK constraints on `columns`, if the planner proves from the schema that no row matches
    `violation` (constraint exclusion: it plans no scan at all); None if it cannot."""
    names = [row["name"] for row in db.rows(CHECKS, {"columns": columns})]
    if not names:
        return None
    setting = db.value("SELECT current_setting('constraint_exclusion')")
    db.value("SELECT set_config('constraint_exclusion', 'on', false)")
    try:
        plan = db.value(f"EXPLAIN (FORMAT JSON) SELECT 1 FROM stock_prices WHERE {violation}")
    finally:
        db.value("SELECT set_config('constraint_exclusion', %s, false)", (setting,))
    top = (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]
    refuted = top.get("One-Time Filter") == "false" and not top.get("Plans")
    return f"CHECK {', '.join(names)}" if refuted else None


@dataclass(frozen=True)
class ProfileRule:
    """A built-in rule: which symbols may break it, from a profile; their rows, from `detail`."""

    name: str
    description: str
    level: str
    remedy: str
    detail: str  # rows for the symbols in %(symbols)s
    guard: str = ""  # what in the schema would keep these violations out
    limit: int = 0

    def judge(self, db: Database, context: RuleContext) -> Verdict:
        """The schema may prove the rule; else a profile names the suspect symbols and the detail query over
        them alone gives the truth."""
        enforced = context.enforced_by(db, self.name)
        if enforced:
            return Verdict(0, [], enforced_by=enforced)
        suspects = [p.symbol for p in context.profiles_for(db, self.name) if self._suspect(p, context)]
        if not suspects:
            return Verdict(0, [])
        found = _counted(db, self.detail, {**context.parameters(), "symbols": suspects})
        return Verdict(found.total, found.examples, note=self.guard if found.total else "")

    def _suspect(self, p: SymbolProfile, context: RuleContext) -> bool:
        if self.name in ("duplicate_rows", "no_missing_trading_days"):
            # The same count and the same sums of day numbers and of their squares: each trading day once.
            holidays = tuple(sorted(context.integrity.holidays))
            return (p.rows, p.day_sum, p.day_square_sum) != calendar_profile(p.first, p.last, holidays)
        if self.name in ROW_RULES:
            return p.bad_prices is None or p.bad_prices > 0  # None: the ungrouped pass counted them, not by symbol
        if self.name == "symbols_up_to_date":
            return p.last < context.last_complete_day
        if self.name == "no_implausible_jumps":
            return p.may_jump(context.integrity.max_daily_move_percent)
        raise ValueError(f"no built-in rule {self.name}")


def _counted(db: Database, sql: str, params: dict[str, Any]) -> Verdict:
    """A rule's violating rows: how many in all, and the first five (one pass)."""
    rows = db.rows(f"SELECT *, count(*) OVER () AS violations_total FROM ({sql}) AS violations LIMIT 5", params)
    total = rows[0]["violations_total"] if rows else 0
    return Verdict(total, [{k: v for k, v in r.items() if k != "violations_total"} for r in rows])


@dataclass(frozen=True)
class SqlRule:
    """A rule as a read-only query returning the violating rows (the target's own, or the jump rule)."""

    name: str
    description: str
    level: str
    remedy: str
    sql: str
    limit: int = 0

    def judge(self, db: Database, context: RuleContext) -> Verdict:
        return _counted(db, self.sql, context.parameters())


BUILT_IN: list[Rule] = [
    ProfileRule(
        "duplicate_rows", "no (symbol, date) stored twice", "error",
        "delete the extra copies and find the job that inserted them twice",
        "SELECT symbol, date, count(*) AS copies FROM stock_prices WHERE symbol = ANY(%(symbols)s)"
        " GROUP BY symbol, date HAVING count(*) > 1",
        "nothing in the schema keeps them out: make the index on (symbol, date) unique once they are gone",
    ),
    ProfileRule(
        "ohlc_consistent", "low <= open, close <= high", "error", "re-ingest the day from the data provider",
        "SELECT symbol, date, open, high, low, close FROM stock_prices WHERE symbol = ANY(%(symbols)s)"
        f" AND ({ROW_RULES['ohlc_consistent'][0]})",
        "no validated CHECK constraint keeps them out: add one (low <= open, close <= high) once they are corrected",
    ),
    ProfileRule(
        "positive_prices", "no price at or below zero, no negative volume", "error",
        "re-ingest the day from the data provider",
        "SELECT symbol, date, open, high, low, close, volume FROM stock_prices WHERE symbol = ANY(%(symbols)s)"
        f" AND ({ROW_RULES['positive_prices'][0]})",
        "no validated CHECK constraint keeps them out: add one (every price > 0, volume >= 0) once they are corrected",
    ),
    ProfileRule(
        "symbols_up_to_date", "every symbol has prices up to the last complete trading day", "error",
        "check last night's ingest for the symbol (D2) and the provider's feed",
        "SELECT symbol, max(date) AS latest FROM stock_prices WHERE symbol = ANY(%(symbols)s) GROUP BY symbol"
        " HAVING max(date) < %(last_complete_day)s",
    ),
    ProfileRule(
        "no_missing_trading_days", "no trading day missing inside a symbol's range (weekdays less holidays)",
        "error", "back-fill the missing days from the data provider",
        "SELECT p.symbol, d::date AS missing_date FROM"
        " (SELECT symbol, min(date) AS first, max(date) AS last FROM stock_prices"
        "  WHERE symbol = ANY(%(symbols)s) GROUP BY symbol) AS p,"
        " generate_series(p.first, p.last, interval '1 day') AS d"
        " WHERE extract(isodow FROM d) < 6 AND NOT d::date = ANY(%(holidays)s::date[])"
        " AND NOT EXISTS (SELECT 1 FROM stock_prices s WHERE s.symbol = p.symbol AND s.date = d::date)",
    ),
    ProfileRule(
        "no_implausible_jumps",
        f"no close moved more than the target's limit from the day before (the last {JUMP_WINDOW_DAYS} days)",
        "warning", "compare the day with the provider; a split or a bad tick needs correcting",
        # Symbol by symbol, each a range scan of the (symbol, date DESC) index: no pass over the whole table.
        "SELECT s.symbol, m.date, m.close, m.older_close, round(100 * (m.close / m.older_close - 1), 1)"
        " AS move_percent FROM unnest(%(symbols)s::text[]) AS s(symbol), LATERAL ("
        "   SELECT date, close, lead(close) OVER (ORDER BY date DESC) AS older_close FROM stock_prices p"
        f"   WHERE p.symbol = s.symbol AND p.date > %(last_complete_day)s - {JUMP_WINDOW_DAYS + 1}"
        "   ORDER BY date DESC) AS m"
        " WHERE m.older_close > 0 AND abs(m.close / m.older_close - 1) * 100 > %(max_daily_move_percent)s",
    ),
]  # fmt: skip


def rules(integrity: Integrity) -> list[Rule]:
    """The built-in rules in their order, a target's rule of the same name in place of one, then its own."""
    merged: dict[str, Rule] = {rule.name: rule for rule in BUILT_IN}
    for rule in integrity.rules:
        merged[rule.name] = _sql_rule(rule)
    return list(merged.values())


def _sql_rule(rule: IntegrityRule) -> SqlRule:
    return SqlRule(rule.name, rule.description, rule.level, rule.remedy, rule.sql, rule.limit)
