"""D4's rules: built-in ones judged from one pass over stock_prices, and the target's own SQL rules.

A full check of every rule as its own query cost 76× a `SELECT count(*)` on 10 million rows,
two rules past any sane statement timeout. So the built-ins read the table once, as a
per-symbol profile (row count, first and last day, sums of the day numbers, counts of bad
rows), and compare it with the trading-day calendar; example rows are fetched only for the
symbols that break a rule. Day-over-day jumps need consecutive rows, so they are checked
over the recent days (the ones no earlier run has seen), symbol by symbol through the index,
and only for the symbols whose recent highest close is more than the limit above their lowest
(a move past the limit between two days needs such a spread): the same pass finds those.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from opscheck.judge.trading_days import calendar_profile, last_complete_day
from opscheck.probes.postgres import Database
from opscheck.target.data import Integrity, IntegrityRule

JUMP_WINDOW_DAYS = 45

PROFILE = """
SELECT symbol, count(*) AS rows, min(date) AS first, max(date) AS last,
       sum(date - DATE '2000-01-03') AS day_sum,  -- integer sums (day numbers and squares < 2^31): cheap
       sum((date - DATE '2000-01-03') * (date - DATE '2000-01-03')) AS day_square_sum,
       -- rows that break either price rule, in one test (each rule's own query over the symbols tells which):
       -- where low <= open, close <= high holds, every price is positive exactly when low is
       count(*) FILTER (WHERE NOT (low <= open AND open <= high AND low <= close AND close <= high AND low > 0
                                   AND volume >= 0)) AS bad_prices,
       -- the recent days' spread of closes (only they are compared with the day before): a cheap date test first
       min(close) FILTER (WHERE date > %(last_complete_day)s::date - {days}) AS recent_low,
       max(close) FILTER (WHERE date > %(last_complete_day)s::date - {days}) AS recent_high
FROM stock_prices GROUP BY symbol
""".format(days=JUMP_WINDOW_DAYS + 1)


@dataclass(frozen=True)
class SymbolProfile:
    symbol: str
    rows: int
    first: date
    last: date
    day_sum: int
    day_square_sum: int
    bad_prices: int
    recent_low: Decimal | None
    recent_high: Decimal | None

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


class Rule(Protocol):
    name: str
    description: str
    level: str
    limit: int
    remedy: str

    def judge(self, db: Database, context: RuleContext) -> Verdict: ...


@dataclass
class RuleContext:
    """What the rules of one run share: the parameters, and the profile, read once and only if needed."""

    integrity: Integrity
    today: date
    _profiles: list[SymbolProfile] | None = None

    @property
    def last_complete_day(self) -> date:
        return last_complete_day(self.today, self.integrity.holidays, self.integrity.expected_lag_trading_days)

    def parameters(self) -> dict[str, Any]:
        return {
            "last_complete_day": self.last_complete_day,
            "holidays": list(self.integrity.holidays),
            "max_daily_move_percent": self.integrity.max_daily_move_percent,
        }

    def profiles(self, db: Database) -> list[SymbolProfile]:
        if self._profiles is None:
            self._profiles = [SymbolProfile(**row) for row in db.rows(PROFILE, self.parameters())]
        return self._profiles


@dataclass(frozen=True)
class ProfileRule:
    """A built-in rule: which symbols break it, from the profile; their rows, from `detail`."""

    name: str
    description: str
    level: str
    remedy: str
    detail: str  # rows for the symbols in %(symbols)s
    limit: int = 0

    def judge(self, db: Database, context: RuleContext) -> Verdict:
        """The profile names the suspect symbols; the detail query over them alone gives the truth."""
        suspects = [p.symbol for p in context.profiles(db) if self._suspect(p, context)]
        if not suspects:
            return Verdict(0, [])
        return _counted(db, self.detail, {**context.parameters(), "symbols": suspects})

    def _suspect(self, p: SymbolProfile, context: RuleContext) -> bool:
        if self.name in ("duplicate_rows", "no_missing_trading_days"):
            # The same count and the same sums of day numbers and of their squares: each trading day once.
            holidays = tuple(sorted(context.integrity.holidays))
            return (p.rows, p.day_sum, p.day_square_sum) != calendar_profile(p.first, p.last, holidays)
        if self.name in ("ohlc_consistent", "positive_prices"):
            return p.bad_prices > 0
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
    ),
    ProfileRule(
        "ohlc_consistent", "low <= open, close <= high", "error", "re-ingest the day from the data provider",
        "SELECT symbol, date, open, high, low, close FROM stock_prices WHERE symbol = ANY(%(symbols)s)"
        " AND (low > high OR open NOT BETWEEN low AND high OR close NOT BETWEEN low AND high)",
    ),
    ProfileRule(
        "positive_prices", "no price at or below zero, no negative volume", "error",
        "re-ingest the day from the data provider",
        "SELECT symbol, date, open, high, low, close, volume FROM stock_prices WHERE symbol = ANY(%(symbols)s)"
        " AND (open <= 0 OR high <= 0 OR low <= 0 OR close <= 0 OR volume < 0)",
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
