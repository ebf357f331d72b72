"""The access log's traffic figures in bulk: each chunk of lines parsed by polars' CSV reader (Rust, on every core)
and grouped there; only the groups (a few thousand rows) come back into Python.

The line-by-line parser (`logformats.parse_access`) stays the definition. A chunk is read in bulk only where every
line is one that parser reads the same way (ASCII, the format's exact shape, a valid stamp); any other chunk is cut
in halves until the odd lines sit in small pieces, and those go line by line. So the figures are the same either way.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from opscheck.judge.logformats import _parse_stamp

if TYPE_CHECKING:
    import polars as pl

SMALL = 64 << 10  # a chunk below this that the bulk parse refuses goes line by line
LEAST = 1 << 20  # a smaller chunk (a short window) goes line by line: polars' import would cost it more
# nginx `combined` plus `$request_time`, split at spaces outside quotes: its 11 fields. A line is read in bulk only
# where `parse_access` reads it the same way: three quoted fields without quotes or newlines in them, nothing
# before the stamp that holds a bracket, a whole stamp, numbers where numbers go.
COLUMNS = ["client", "dash", "user", "stamp", "offset", "request", "status", "size", "referer", "agent", "seconds"]
RAW_EXTRA = 10 + 6  # per line: the spaces between the fields, the quotes around three
BEFORE_STAMP = r'["\[]'
INSIDE_QUOTES = '["\n]'
STAMP = r"^\[\d\d/[A-Z][a-z][a-z]/\d{4}:([01]\d|2[0-3]):[0-5]\d:[0-5]\d$"
OFFSET = re.compile(r"[+-]\d{4}\]")
SECONDS = r"^\d{1,9}(\.\d{1,9})?$"


@dataclass
class Groups:
    """One chunk's figures, grouped: what `logstats` folds into its `Traffic`."""

    clients: dict[str, int]  # requests per client
    # (request line, status, latency bucket, requests)
    requests: list[tuple[str, int, int, int]]
    # (epoch hour, requests)
    hours: list[tuple[int, int]]


def grouped(
    chunks: Iterable[bytes],
    buckets: list[float],
    leave_agents: tuple[str, ...],
    leave_clients: frozenset[str],
    least: int = LEAST,
) -> Iterator[Groups | bytes]:
    """Each chunk's groups, or the piece of it (bytes) that must go line by line; chunks parsed on every core,
    a few at a time (memory stays a few chunks' worth); chunks under `least` bytes all go line by line."""
    workers = os.cpu_count() or 1
    with ThreadPoolExecutor(workers) as pool:
        pending: list[Future[list[Groups | bytes]]] = []
        for chunk in chunks:
            if len(chunk) < least:
                yield chunk
                continue
            pending.append(pool.submit(_split, chunk, buckets, leave_agents, leave_clients))
            if len(pending) >= workers:
                yield from pending.pop(0).result()
        for future in pending:
            yield from future.result()


def _split(
    chunk: bytes, buckets: list[float], leave_agents: tuple[str, ...], leave_clients: frozenset[str]
) -> list[Groups | bytes]:
    """The chunk's groups; where the bulk parse refuses it, its halves', down to small pieces left as bytes."""
    found = _groups(chunk, buckets, leave_agents, leave_clients)
    if found is not None:
        return [found]
    if len(chunk) < SMALL:
        return [chunk]
    middle = chunk.find(b"\n", len(chunk) // 2)
    if middle < 0:
        return [chunk]
    return _split(chunk[:middle], buckets, leave_agents, leave_clients) + _split(
        chunk[middle + 1 :], buckets, leave_agents, leave_clients
    )


def _groups(
    chunk: bytes, buckets: list[float], leave_agents: tuple[str, ...], leave_clients: frozenset[str]
) -> Groups | None:
    """The chunk grouped, or None where a line of it might be read otherwise line by line."""
    import polars as pl  # here, not at import: the suite's start-up does not pay for it

    if not chunk or not chunk.isascii():
        return None
    try:
        frame = pl.read_csv(
            chunk, has_header=False, separator=" ", quote_char='"', schema=dict.fromkeys(COLUMNS, pl.String)
        )
    except pl.exceptions.PolarsError:
        return None
    if not frame.select(_shaped(len(chunk))).item():
        return None
    kept = frame.filter(
        ~pl.any_horizontal(pl.col("agent").str.starts_with(agent) for agent in leave_agents)
        & ~pl.col("client").is_in(list(leave_clients))
    )  # a line left out is left out line by line too, read or not: only the kept ones need checking further
    requests = kept.group_by("request", "status", "seconds", maintain_order=True).len()
    if not requests.select(_requests_shaped()).item():
        return None
    minutes = _minutes(kept)
    if minutes is None:
        return None
    latency = pl.lit(pl.Series(buckets, dtype=pl.Float64)).search_sorted(
        pl.col("seconds").cast(pl.Float64) * 1000, side="left"
    )
    counted = requests.group_by(
        "request", pl.col("status").cast(pl.Int64), latency.alias("bucket"), maintain_order=True
    ).agg(pl.col("len").sum())
    hours = [(hour_of(minute, offset), count) for minute, offset, count in minutes.iter_rows()]
    if any(hour is None for hour, _ in hours):  # an offset or a day that cannot be (31 Nov): line by line drops it
        return None
    return Groups(
        clients=dict(kept.group_by("client", maintain_order=True).len().iter_rows()),
        requests=list(counted.iter_rows()),
        hours=hours,  # type: ignore[arg-type]
    )


def _minutes(kept: pl.DataFrame) -> pl.DataFrame | None:
    """Requests per minute and offset (a minute's stamp without the `[`), or None where a stamp is no stamp.

    A log is written in time order: its stamps come in runs of one second, counted by comparing neighbours (a
    tenth of the cost of hashing each); a chunk whose offset changes (a clock's summer time) is hashed instead.
    """
    import polars as pl

    offsets = kept.get_column("offset")
    if offsets.is_empty() or (offsets == offsets[0]).all():
        runs = kept.get_column("stamp").rle().struct.unnest()  # its columns: len, value
        stamps = runs.select(pl.col("value").alias("stamp"), pl.lit(offsets[0] if len(offsets) else "").alias("offset"),
                             "len")  # fmt: skip
    else:
        stamps = kept.group_by("stamp", "offset", maintain_order=True).len()
    if not stamps.select(pl.col("stamp").str.contains(STAMP).all()).item():
        return None
    return stamps.group_by(pl.col("stamp").str.slice(1, 17), "offset", maintain_order=True).agg(pl.col("len").sum())


def _shaped(size: int) -> pl.Expr:
    """True where every line of a chunk of `size` bytes splits into the format's fields as `parse_access` splits it:
    the fields and the quotes and spaces between them make up the whole chunk (no field ran over a line or lost a
    quote), no quote inside a field, no bracket before the stamp."""
    import polars as pl

    fields = pl.all_horizontal(
        pl.all().is_not_null(),
        *(~pl.col(name).str.contains(BEFORE_STAMP) for name in ("client", "dash", "user")),
        *(~pl.col(name).str.contains(INSIDE_QUOTES) for name in ("referer", "agent")),
        pl.col("client").str.len_bytes() > 0,
        pl.col("stamp").str.len_bytes() == len("[29/Nov/2026:08:00:00"),
        pl.col("size").str.contains(r"^(\d{1,18}|-)$"),
    )
    raw = pl.sum_horizontal(pl.all().str.len_bytes()).sum() + pl.len() * (RAW_EXTRA + 1) - 1
    return fields.all() & (raw == size)


def _requests_shaped() -> pl.Expr:
    """True where every (request, status, seconds) group holds what `parse_access` reads as numbers and a request."""
    import polars as pl

    return pl.all_horizontal(
        ~pl.col("request").str.contains(INSIDE_QUOTES),
        pl.col("request").str.contains(" ", literal=True),
        pl.col("status").str.contains(r"^\d{1,9}$"),
        pl.col("seconds").str.contains(SECONDS),
    ).all()


@lru_cache(maxsize=4096)
def hour_of(minute: str, offset: str) -> int | None:
    """The epoch hour of `29/Nov/2026:08:00` at `+0000]`, as `parse_access` reads the stamp (None where it cannot)."""
    if not OFFSET.fullmatch(offset):
        return None
    when = _parse_stamp(f"{minute}:00 {offset[:5]}".encode())
    return None if when is None else int(when // 3600)


@lru_cache(maxsize=65536)
def request_of(request: str) -> tuple[str, str]:
    """(method, path without its query) of a request line, as `parse_access` splits it."""
    parts = request.split(" ")
    return parts[0], parts[1].split("?", 1)[0]
