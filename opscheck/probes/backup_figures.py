"""What a backup job records at dump time and a restore must reproduce (W5, MM3, R1): one query set for both.

The backup job runs backup_figures.sql (from the shell: README) right after pg_dump; the
restore drill and the post-restore checks run the same file on what was restored and compare.
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
    """The figures the backup job recorded in the set's backup.json, or a failure that says they are missing."""
    found = backup.record.get("figures")
    if not isinstance(found, dict) or not {"fingerprint", "per_symbol", "row_counts"} <= found.keys():
        raise ProbeError("backup record", backup.name, 'backup.json holds no "figures" to compare with: the job '
                         "must record them at dump time (README: What your backup job must leave)")  # fmt: skip
    return found
