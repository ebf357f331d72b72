"""The platform's dependency graph: which part needs which, so a part that is down is named once, as the cause.

The default is the manual's architecture (front end → API → PostgreSQL, Redis; ML engine → PostgreSQL;
streaming engine → Redis); a deployment built otherwise says so in `[topology] needs`.
"""

from __future__ import annotations

from pydantic import field_validator

from opscheck.target.base import Section

PARTS = ("api", "frontend", "ml_engine", "streaming_engine", "monitoring", "postgres", "redis")
MANUAL_NEEDS: dict[str, list[str]] = {
    "frontend": ["api"],
    "api": ["postgres", "redis"],
    "ml_engine": ["postgres"],
    "streaming_engine": ["redis"],
}


class Topology(Section):
    # part → the parts it needs; a check that fails while one of them is down is grouped under it.
    needs: dict[str, list[str]] = MANUAL_NEEDS
    # Reach every part once, concurrently, before any check: a check whose part is down fails at once.
    preflight: bool = True

    @field_validator("needs")
    @classmethod
    def _known_parts(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        unknown = sorted({p for part, needed in value.items() for p in (part, *needed)} - set(PARTS))
        if unknown:
            raise ValueError(f"unknown part(s) {', '.join(unknown)} (parts are: {', '.join(PARTS)})")
        return value
