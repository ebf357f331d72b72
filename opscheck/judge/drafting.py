"""Guesses for `opscheck targets draft`, from what a running deployment shows: pure functions of samples.

Each guess says how sure it is (the share of sample lines a format reads, the columns a table matched),
so the drafted file can mark it for the operator to review.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from opscheck.judge.logformats import (
    DEFAULT_ACCESS_FORMAT,
    DEFAULT_APP_FORMAT,
    DEFAULT_APP_TIME,
    AccessFormat,
    AppFormat,
)

ACCESS_CANDIDATES = [
    (DEFAULT_ACCESS_FORMAT, "remote_addr"),  # the manual's: combined, then $request_time
    ('$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" '
     '"$http_user_agent" "$http_x_forwarded_for" rt=$request_time', "http_x_forwarded_for"),
    ('$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" '
     '"$http_user_agent" "$http_x_forwarded_for" $request_time', "http_x_forwarded_for"),
    ('$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" '
     '"$http_user_agent"', "remote_addr"),  # plain combined: no request times
]  # fmt: skip
APP_CANDIDATES = [
    (DEFAULT_APP_FORMAT, DEFAULT_APP_TIME),
    (r"\[(?P<time>[^\]]+)\] (?P<level>[A-Z]+) (?P<logger>[\w.]+): (?P<message>.*)", "iso"),
    (
        r"(?P<time>\d{4}-\d\d-\d\dT[\d:.]+(?:Z|[+-]\d\d:?\d\d)?) (?P<level>[A-Z]+) (?P<logger>\S+) (?P<message>.*)",
        "iso",
    ),
    (r"(?P<time>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)[,.]?\d* \[(?P<level>[A-Z]+)\] (?P<message>.*)", DEFAULT_APP_TIME),
]
PRIVATE = re.compile(r"^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|127\.)")


@dataclass(frozen=True)
class Guess:
    value: object
    why: str  # what the guess rests on, for the draft's comment


def access_format(lines: Sequence[bytes]) -> Guess | None:
    """The candidate nginx format that reads the most sample lines (with request times preferred)."""
    best: tuple[float, str, str] | None = None
    for log_format, client in ACCESS_CANDIDATES:
        form = AccessFormat.of(log_format, client)
        records = [r for r in map(form.parse, lines) if r is not None]
        share = len(records) / len(lines) if lines else 0
        timed = any(r.request_time is not None for r in records)
        if client == "http_x_forwarded_for" and records and not _forwarded(form, lines):
            continue
        score = share + (0.01 if timed else 0)
        if best is None or score > best[0]:
            best = (score, log_format, client)
    if best is None or best[0] < 0.9:
        return None
    return Guess((best[1], best[2]), f"reads {min(100, round(100 * best[0]))} % of the last {len(lines)} lines")


def _forwarded(form: AccessFormat, lines: Sequence[bytes]) -> bool:
    """Whether nginx sees only proxies (private addresses) and the clients arrive forwarded."""
    assert form.regex is not None
    peers = {m["remote_addr"] for line in lines if (m := form.regex.match(line))}
    return bool(peers) and all(PRIVATE.match(p.decode(errors="replace")) for p in peers)


def app_format(lines: Sequence[bytes]) -> Guess | None:
    """The candidate application-log pattern that reads the most entry lines."""
    best: tuple[float, str, str] | None = None
    for pattern, time_format in APP_CANDIDATES:
        form = AppFormat.of(pattern, time_format)
        read = [line for line in lines if form.entry(line) is not None and form.time_of(line) is not None]
        share = len(read) / len(lines) if lines else 0
        if best is None or share > best[0]:
            best = (share, pattern, time_format)
    if best is None or best[0] < 0.6:  # tracebacks and continuation lines are not entries
        return None
    return Guess((best[1], best[2]), f"reads {round(100 * best[0])} % of the last {len(lines)} lines")


# --- data sources ------------------------------------------------------------------------------------------

SYNONYMS = {
    "batch": {
        "job": ("job", "job_name", "name", "task", "task_name"),
        "started_at": ("started_at", "start_time", "started", "start", "begin_at", "created_at"),
        "finished_at": ("finished_at", "end_time", "ended_at", "finished", "completed_at", "end"),
        "status": ("status", "state", "result", "outcome"),
        "rows_processed": ("rows_processed", "records", "rows", "row_count", "processed", "items"),
        "message": ("message", "detail", "details", "error", "log"),
    },
    "predictions": {
        "made_at": ("made_at", "created", "created_at", "predicted_at", "generated_at"),
        "target_date": ("target_date", "horizon_date", "for_date", "prediction_date", "target_day"),
        "correct": ("correct", "hit", "is_correct", "was_correct", "accurate"),
    },
}
REQUIRED = {"batch": 5, "predictions": 3}  # message is optional


@dataclass(frozen=True)
class Source:
    sql: str
    table: str
    columns: dict[str, str]  # the column the checks want → the table's
    why: str


def source(kind: str, tables: dict[str, list[str]]) -> Source | None:
    """A read-only query with the columns `kind` needs, from the table whose columns match them best."""
    best: tuple[int, str, dict[str, str]] | None = None
    for table, columns in sorted(tables.items()):
        found = {want: next(c for c in columns if c in names) for want, names in SYNONYMS[kind].items()
                 if any(c in names for c in columns)}  # fmt: skip
        if best is None or len(found) > best[0]:
            best = (len(found), table, found)
    if best is None or best[0] < REQUIRED[kind]:
        return None
    _, table, found = best
    select = ", ".join(col if col == want else f"{col} AS {want}" for want, col in found.items())
    return Source(f"SELECT {select} FROM {table}", table, found, f"table {table}: {', '.join(found.values())}")


SUCCESS = re.compile(r"succe|^ok$|^done$|^complete|^finished$|^passed$", re.IGNORECASE)


def succeeded(values: Sequence[str]) -> list[str]:
    """The status values that look like success."""
    return sorted(v for v in values if SUCCESS.search(v))


# --- files: backup sets and plans --------------------------------------------------------------------------

DATE = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
WEEK = re.compile(r"(?<!\d)(\d{4})-W(\d{2})(?!\d)")
YEAR_MONTH = re.compile(r"(?:^|/)(\d{4})/(\d{2})(?=/)")


def plan_pattern(relative: str) -> str:
    """A plan file's path, its dates made the plans' pattern fields: 2026/12/2026-12-05-x.md becomes
    {year}/{month}/{date}-x.md."""
    out = YEAR_MONTH.sub(lambda m: m[0].replace(f"{m[1]}/{m[2]}", "{year}/{month}"), relative)
    out = WEEK.sub("{iso_year}-W{iso_week}", out)
    return DATE.sub("{date}", out)


def plan_patterns(relatives: Sequence[str]) -> dict[str, list[str]]:
    """Patterns for each kind of plan file seen (maintenance, no_maintenance, deploy, no_deploy)."""
    kinds: dict[str, list[str]] = {}
    for relative in relatives:
        pattern = plan_pattern(relative)
        if "{" not in pattern:
            continue
        lower = pattern.lower()
        kind = "deploy" if "deploy" in lower else "maintenance" if "maint" in lower else None
        if kind is None:
            continue
        if lower.endswith((".none", "/none")) or "no-" in lower or "none" in lower.rsplit("/", 1)[-1]:
            kind = "no_" + kind
        generic = re.sub(r"(\{date\}|\{iso_year\}-W\{iso_week\})[^/]*\.md$", r"\1*.md", pattern) if kind in (
            "maintenance",) else re.sub(r"/[^/{]+\.md$", "/*.md", pattern)  # fmt: skip
        if generic not in kinds.setdefault(kind, []):
            kinds[kind].append(generic)
    return kinds


REVIEW = re.compile(r"^(?P<key>(reviewed|approved|signed[- ]off)[- ]by):", re.IGNORECASE | re.MULTILINE)


def review_line(texts: Sequence[str]) -> Guess | None:
    """The review line the deploy plans carry (Reviewed-by:, Approved-by:), as a regular expression."""
    keys = sorted({m["key"] for text in texts for m in REVIEW.finditer(text)})
    if not keys:
        return None
    return Guess(f"(?m)^{keys[0]}:[ \\t]*\\S", f"{keys[0]}: found in the deploy plans")
