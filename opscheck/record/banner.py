"""The HTML report's verdict banner: what an engineer must read first, built from the run's check entries.

The worst level, the counts by level, each root cause with the checks it blocks, then every failure in
the order to act on it (CRITICAL first, a root cause's checks together). pytest-html draws the full table
below it; this is the part read at 09:00 during an incident.
"""

from __future__ import annotations

import re
from collections import Counter
from html import escape
from typing import Any

from opscheck.judge.causes import blocked_count

LEVELS = ("CRITICAL", "ERROR", "WARNING")  # worst first
FAILED = ("failed", "error")
HEADLINE_CHARS = 240
# what leads a failure's first line before its message: the check's file and line, the exception's name
LOCATION = re.compile(r"^(?:E\s+)?(?:[\w./-]+\.py:\d+: )?(?:[\w.]*(?:Error|Failure|Exception|Failed): )?")


def level_of(check: dict[str, Any]) -> str:
    """The level a failed check reports at (its own, else its declared one), upper case."""
    return str(check.get("failed_level") or check.get("level") or "").upper()


def rank(check: dict[str, Any]) -> tuple[int, int, str, str]:
    """The order to read checks in: failures before skips before passes, worst level first, a root cause's
    blocked checks together (causes before independent failures, as the terminal leads with them)."""
    outcome = str(check.get("outcome"))
    group = 0 if outcome in FAILED else 1 if outcome == "skipped" else 2
    level = level_of(check)
    cause = str(check.get("blocked_by") or "")
    return (
        group,
        LEVELS.index(level) if group == 0 and level in LEVELS else len(LEVELS),
        "0" + cause if cause else "1",
        str(check.get("nodeid")),
    )


def sort_key(check: dict[str, Any]) -> str:
    """`rank` as one string that sorts the same way (pytest-html's table sorts its columns as text)."""
    group, level, cause, nodeid = rank(check)
    return f"{group}{level}{cause}\x1f{nodeid}"


def root_causes(checks: list[dict[str, Any]], known: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """The run's root causes as summary.json states them; where it does not (yet), gathered from the
    failures' `blocked_by`, each at the worst level of what it blocks."""
    if known:
        return known
    blocks: dict[str, list[dict[str, Any]]] = {}
    for check in checks:
        if check.get("blocked_by") and check.get("outcome") in FAILED:
            blocks.setdefault(str(check["blocked_by"]), []).append(check)
    return [
        {
            "id": cause,
            "level": min((level_of(c) for c in found), key=_level_index),
            "blocks": [c["nodeid"] for c in found],
        }
        for cause, found in blocks.items()
    ]


def _level_index(level: str) -> int:
    return LEVELS.index(level) if level in LEVELS else len(LEVELS)


def headline(message: str) -> str:
    """A failure's first line, without pytest's exception name, cut to fit a line of the banner."""
    first = next((line.strip() for line in message.splitlines() if line.strip()), "")
    first = LOCATION.sub("", first, count=1)
    return first if len(first) <= HEADLINE_CHARS else first[: HEADLINE_CHARS - 1] + "…"


def banner(checks: list[dict[str, Any]], causes: list[dict[str, Any]] | None = None) -> str:
    """The banner's HTML: a coloured verdict line, the root causes, then the failures in the order to act on."""
    failed = sorted((c for c in checks if c.get("outcome") in FAILED), key=rank)
    by_level = Counter(level_of(c) for c in failed)
    outcomes = Counter(str(c.get("outcome")) for c in checks)
    worst = next((level for level in LEVELS if by_level[level]), "OK" if failed == [] else "FAILED")
    counts = ", ".join(f"{by_level[level]} {level}" for level in LEVELS if by_level[level])
    rest = "".join(f"; {n} {o}" for o, n in sorted(outcomes.items()) if o not in FAILED)
    skipped = f"; {outcomes['skipped']} skipped" if outcomes["skipped"] else ""
    verdict = (
        f"{worst}: {len(failed)} of {len(checks)} checks failed ({counts}){rest}"
        if failed
        else f"OK: all {outcomes['passed']} checks passed{skipped}"
    )
    parts = [f'<div id="verdict" class="verdict level-{worst.lower()}"><p class="verdict-line">{escape(verdict)}</p>']
    causes = root_causes(checks, causes)
    if causes:
        parts.append(f'<h3>Root causes ({len(causes)})</h3><ul class="causes">')
        parts.extend(_cause(cause) for cause in causes)
        parts.append("</ul>")
    if failed:
        parts.append('<h3>Failures, worst first</h3><ol class="failures">')
        parts.extend(_failure(check) for check in failed)
        parts.append("</ol>")
    return "".join(parts) + "</div>"


def _badge(level: str) -> str:
    return f'<span class="badge level-{escape(level.lower())}">{escape(level or "FAILED")}</span>'


def _cause(cause: dict[str, Any]) -> str:
    blocks = list(cause.get("blocks") or [])
    said = " — ".join(escape(str(cause[k])) for k in ("message", "remedy") if cause.get(k))
    names = "".join(f"<li>{escape(_name(n))}</li>" for n in blocks)
    return (
        f"<li>{_badge(str(cause.get('level') or '').upper())} <b>{escape(str(cause.get('id')))}</b>"
        + (f": {said}" if said else "")
        + (
            f"<details><summary>{blocked_count(len(blocks))}</summary><ul>{names}</ul></details>"
            if blocks
            else f"<br>{blocked_count(0)}"
        )
        + "</li>"
    )


def _failure(check: dict[str, Any]) -> str:
    cause = check.get("blocked_by")
    under = f' <span class="blocked">blocked by {escape(str(cause))}</span>' if cause else ""
    return (
        f"<li>{_badge(level_of(check))} <b>{escape(_name(str(check['nodeid'])))}</b>{under}"
        f'<br><span class="headline">{escape(headline(str(check.get("headline") or check.get("message") or "")))}'
        "</span></li>"
    )


def _name(nodeid: str) -> str:
    """A check's name as the table shows it, without the checks/ folder."""
    return nodeid.removeprefix("checks/")
