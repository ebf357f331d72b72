"""What a backup job records at dump time and a restore must reproduce (W5, MM3, R1): one query set for both.

A backup job may run backup_figures.sql (from the shell: README) right after pg_dump; the restore drill
and the post-restore checks run the same file on what was restored and compare. A job that records
nothing (the manual's daily_backup.sh) is compared by the rows its dump holds.
The fingerprint is an order-independent sum of one 64-bit hash per row, so any changed,
lost or added row of stock_prices changes it, and it needs no sort.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from opscheck.errors import ProbeError
from opscheck.probes.backups import BackupSet

SQL = (Path(__file__).with_name("backup_figures.sql")).read_text(encoding="utf-8")

Query = Callable[[str], list[dict[str, Any]]]


def figures(query: Query) -> dict[str, Any]:
    """Row counts per table, symbols with their first and last day, indexes, and the stock_prices fingerprint."""
    found = query(SQL)[0]["figures"]
    return json.loads(found) if isinstance(found, str) else found


def recorded(backup: BackupSet) -> dict[str, Any]:
    """The figures a restore of `backup` must reproduce: the job's record of them where it wrote one (row counts,
    symbols, indexes, fingerprint), else what the dump itself holds (its rows per table, counted as it streams)."""
    found = backup.record.get("figures")
    if isinstance(found, dict) and {"fingerprint", "per_symbol", "row_counts"} <= found.keys():
        return found
    if backup.record.get("figures") is not None:
        raise ProbeError("backup record", backup.name, f'{backup.spec.record} holds "figures" without row_counts, '
                         "per_symbol and fingerprint: record them with backup_figures.sql (README)")  # fmt: skip
    rows = backup.row_counts()
    if not rows:
        raise ProbeError("backup", backup.name, f"its dump holds no table data to compare with "
                         f"({backup.dump_facts['problem'] or 'no COPY block read'})")  # fmt: skip
    newest = backup.dump_facts.get("newest")
    return {"row_counts": rows, **({"last_date": newest} if newest else {})}
