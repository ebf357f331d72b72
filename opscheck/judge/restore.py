"""A restore judged against its backup's record (W5, MM3, R1): what was lost, moved or changed, in words."""

from __future__ import annotations

from typing import Any


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
    # What the record does not hold (a dump's own counts carry no symbols, indexes or fingerprint) is not compared.
    was, now = recorded.get("per_symbol", {}), found.get("per_symbol", {}) if "per_symbol" in recorded else {}
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
