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


def differences(recorded: dict[str, Any], found: dict[str, Any], live: bool = False) -> list[str]:
    """Each way `found` differs from what the backup job `recorded`, in words; empty when they agree.

    `live`: `found` is a running system restored from the backup, which may have gained rows since
    (new sessions, a new day's prices); only losses count then.
    """
    out = []
    for table, count in recorded.get("row_counts", {}).items():
        now = found["row_counts"].get(table)
        if now != count and not (live and now is not None and now > count):
            out.append(f"{table} has {now} rows, the backup recorded {count}")
    was, now = recorded.get("per_symbol", {}), found.get("per_symbol", {})
    lost, added = sorted(was.keys() - now.keys()), sorted(now.keys() - was.keys())
    if lost:
        out.append(f"symbols missing: {', '.join(lost[:10])}{' …' if len(lost) > 10 else ''}")
    if added and not live:
        out.append(f"symbols the backup did not have: {', '.join(added[:10])}")
    moved = [f"{s} {was[s][0]}..{was[s][1]} → {now[s][0]}..{now[s][1]}" for s in sorted(was.keys() & now.keys())
             if now[s][0] != was[s][0] or (now[s][1] < was[s][1] if live else now[s][1] != was[s][1])]  # fmt: skip
    if moved:
        out.append(f"date range changed for {len(moved)} symbol(s): {'; '.join(moved[:5])}")
    missing_indexes = sorted(set(recorded.get("indexes", [])) - set(found.get("indexes", [])))
    if missing_indexes:
        out.append(f"indexes missing: {', '.join(missing_indexes)}")
    same_rows = recorded.get("row_counts", {}).get("stock_prices") == found["row_counts"].get("stock_prices")
    if "fingerprint" in recorded and recorded["fingerprint"] != found["fingerprint"] and (same_rows or not live):
        out.append(
            f"stock_prices content differs (fingerprint {found['fingerprint']}, recorded {recorded['fingerprint']})"
        )
    return out
