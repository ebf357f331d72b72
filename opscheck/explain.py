"""`opscheck items` and `opscheck explain ID`: the manual's items in its own words, with what checks them.

The faults that prove an item come from the sandbox through the `opscheck.faults` entry point
(opscheck never imports the sandbox); without the sandbox installed the section says so.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path

from opscheck.catalogue import catalogue
from opscheck.check_index import by_item
from opscheck.errors import OpscheckError

FAULTS_GROUP = "opscheck.faults"


def items_text(checks: Path) -> str:
    """One line per manual item: ID, both wordings, when, and how many checks evidence it."""
    index = by_item(checks)
    lines = []
    for item in catalogue().values():
        found = index.get(item.id, [])
        files = ", ".join(dict.fromkeys(c.nodeid.split("::")[0].removeprefix("checks/") for c in found))
        lines.append(f"{item.id:5} {item.ja} — {item.en} [{item.schedule}]: {len(found)} check(s)"
                     + (f" in {files}" if files else ""))  # fmt: skip
    return "\n".join(lines)


def explain_text(item_id: str, checks: Path) -> str:
    items = catalogue()
    if item_id not in items:
        raise OpscheckError(f"{item_id} is not a checklist item; `opscheck items` lists them")
    item = items[item_id]
    found = by_item(checks).get(item_id, [])
    out = [f"{item.id}: {item.ja}", f"    {item.en} (the manual: {item.schedule})", "", f"Checks ({len(found)}):"]
    for check in found:
        out.append(f"  {check.nodeid}")
        out.append(f"      level {check.level.upper() or '?'}; schedules {', '.join(check.schedules) or 'none'}")
        if check.settings:
            out.append(f"      tuned by {', '.join(check.settings)}")
        if check.remedy:
            out.append(f"      remedy: {check.remedy}")
    out += [
        "",
        f"Run it: pytest --item {item.id} --target NAME",
        "",
        "Faults that prove it (opscheck sandbox fault NAME):",
    ]
    out += _faults(item_id) or ["  (none listed: the sandbox's fault catalogue is not installed)"]
    return "\n".join(out)


def _faults(item_id: str) -> list[str]:
    lines = []
    for ep in entry_points(group=FAULTS_GROUP):
        lines += [f"  {f['line']}" for f in ep.load()() if item_id in f["items"]]
    return lines
