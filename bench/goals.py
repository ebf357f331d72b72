"""Issue 20's goals: a figure printed beside the goal it answers to, and whether it is met."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Goal:
    """A measured figure, the goal as the issue words it, and whether the figure meets it."""

    value: str
    goal: str
    met: bool

    def __str__(self) -> str:
        return f"{self.value}   goal {self.goal}: {'met' if self.met else 'NOT MET'}"


def at_most(value: float, limit: float, unit: str, shown: str | None = None) -> Goal:
    return Goal(shown or f"{value:.2f}{unit}", f"≤ {limit:g}{unit}", value <= limit)


def at_least(value: float, limit: float, unit: str, shown: str | None = None) -> Goal:
    return Goal(shown or f"{value:.2f}{unit}", f"≥ {limit:g}{unit}", value >= limit)
