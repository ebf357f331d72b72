"""What a role of the suite's own may do on a PostgreSQL server, read from the catalogue (privileges.sql)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from opscheck.judge.privileges import Grant

SQL = Path(__file__).with_name("privileges.sql").read_text(encoding="utf-8")
WHO = "SELECT quote_ident(current_user) AS me"

Rows = Callable[[str], list[dict[str, Any]]]


def grants_of(rows: Rows) -> tuple[str, list[Grant]]:
    """The connected role (as SQL names it) and every finding privileges.sql makes of it."""
    return rows(WHO)[0]["me"], [Grant.of(row) for row in rows(SQL)]
