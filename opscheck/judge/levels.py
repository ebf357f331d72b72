"""The manual's alert levels (監視・アラート対応) and the response each one demands."""

from __future__ import annotations

import enum


class Level(enum.IntEnum):
    """Ordered so that `max()` of failures gives the run's worst level."""

    WARNING = 1
    ERROR = 2
    CRITICAL = 3

    @classmethod
    def parse(cls, name: str) -> Level:
        try:
            return cls[name.strip().upper()]
        except KeyError:
            known = ", ".join(level.name.lower() for level in cls)
            raise ValueError(f"unknown alert level {name!r}; use one of: {known}") from None

    @property
    def response(self) -> str:
        """The manual's response time for this level, as an on-duty engineer reads it."""
        return RESPONSE[self]

    def __str__(self) -> str:
        return self.name.lower()


RESPONSE = {
    Level.WARNING: "check and respond within 30 minutes (30分以内に確認・対応)",
    Level.ERROR: "start responding within 15 minutes, notify on-call (15分以内に対応開始)",
    Level.CRITICAL: "respond at once, convene the emergency team (即座に対応開始)",
}


class CheckFailure(AssertionError):
    """A failed check that raises a level other than its declared one.

    Checks whose severity depends on what they find (accuracy at 62 % is a WARNING,
    at 55 % an ERROR) raise this; a plain `assert` fails at the check's declared level.
    """

    def __init__(self, level: Level, message: str) -> None:
        super().__init__(message)
        self.level = level


def fail_at(level: Level, message: str) -> None:
    """Fail the running check at `level` with `message` (what was expected, found, and what to do)."""
    raise CheckFailure(level, message)


SEVERITY_LEVELS = {"critical": Level.CRITICAL, "high": Level.ERROR}  # moderate, low and unrated: WARNING


def of_severity(severity: str) -> Level:
    """An advisory's severity (critical, high, moderate, low, unknown) as the manual's alert level."""
    return SEVERITY_LEVELS.get(severity.lower(), Level.WARNING)
