"""D4's rules: the built-in ones, merged with the target's, and the parameters their queries use."""

from __future__ import annotations

import tomllib
from datetime import date, timedelta
from importlib.resources import files
from typing import Any

from opscheck.target import Integrity, IntegrityRule


def rules(integrity: Integrity) -> list[IntegrityRule]:
    """Built-in rules in their order, a target's rule of the same name in place of one, then the target's own."""
    raw = tomllib.loads(files("opscheck").joinpath("integrity_rules.toml").read_text(encoding="utf-8"))
    merged = {rule["name"]: IntegrityRule(**rule) for rule in raw["rules"]}
    for rule in integrity.rules:
        merged[rule.name] = rule
    return list(merged.values())


def last_complete_day(today: date, integrity: Integrity) -> date:
    """The trading day `expected_lag_trading_days` back from today (weekdays, less the target's holidays)."""
    day, steps = today, integrity.expected_lag_trading_days
    while steps > 0 or _closed(day, integrity):
        day -= timedelta(days=1)
        if not _closed(day, integrity):
            steps -= 1
    return day


def _closed(day: date, integrity: Integrity) -> bool:
    return day.weekday() >= 5 or day in integrity.holidays


def parameters(today: date, integrity: Integrity) -> dict[str, Any]:
    return {
        "last_complete_day": last_complete_day(today, integrity),
        "holidays": list(integrity.holidays),
        "max_daily_move_percent": integrity.max_daily_move_percent,
    }


def violations_query(rule: IntegrityRule, examples: int) -> str:
    """The rule's rows, at most `examples` of them, each carrying the total count (one pass over the data)."""
    return f"SELECT *, count(*) OVER () AS violations_total FROM ({rule.sql}) AS violations LIMIT {int(examples)}"
