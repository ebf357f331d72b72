"""Levels by how far past the limit (監視・アラート対応): a figure just over its limit is the check's
warning, one far past it (its ERROR band) is an ERROR — 96 % of the usable connections is not 81 %."""

from __future__ import annotations

from opscheck.judge.levels import Level


def band(value: float, limit: float, error_at: float) -> Level | None:
    """None within `limit`; WARNING above it; ERROR at or above `error_at` (the far band)."""
    if value >= error_at and value > limit:
        return Level.ERROR
    return Level.WARNING if value > limit else None


def times_limit(limit: float, factor: float) -> float:
    """The far band of a count limit: `factor` times it (a limit of 0 counted as 1, so 1 line is not 10×)."""
    return factor * max(limit, 1)
