"""The access log's traffic figures in bulk: each chunk of lines split by polars' CSV reader (Rust, on every core)
and grouped there; only the groups (a few thousand rows) come back into Python.

The line-by-line parser (`logformats.parse_access`) stays the definition. polars splits each line at its quotes,
as `parse_access` does, and only where every line holds exactly six quotes (so the split is the same); each
distinct client, stamp and request is then read by the line-by-line parser's own functions. A chunk where any of
them is not what it reads the same way is cut in halves until the odd lines sit in small pieces, and those go line
by line. So the figures are the same either way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from opscheck.judge.logformats import _parse_stamp, access_seconds, access_target

if TYPE_CHECKING:
    import polars as pl

SMALL = 64 << 10  # a chunk below this that the bulk parse refuses goes line by line
LEAST = 1 << 20  # a smaller chunk (a short window) goes line by line: polars' import would cost it more
# Chunks parsed at once, and one more read ahead: polars spreads each over every core; a third beside two overlaps
# their Python parts (under the GIL) and the reading (on 2 cores, 1 GB in 2.7–3.0 s instead of 3.1–3.5). Not one a
# core: memory holds PARSING frames and AHEAD chunks, whatever the core count (226–244 MB over 1 GB on 2 cores; with
# none read ahead, 226 MB and 0.2 s slower).
PARSING = 3
AHEAD = PARSING + 1
# A line split at its quotes, as `parse_access` splits it: client, user and stamp; request; status and size;
# referer; a space; agent; `$request_time`.
PARTS = [f"part{i}" for i in range(7)]
QUOTES = len(PARTS) - 1
# The first part ends in the stamp, `[29/Nov/2026:08:00:00 +0000] `: what comes before it names the client.
STAMPED = len("[29/Nov/2026:08:00:00 +0000] ")
NUMBERS = r"^ (\d{1,9}) (?:\d{1,18}|-) $"  # ` 200 512 `: the status and size, as nginx writes them
STAMP = r"^\[\d\d/[A-Z][a-z][a-z]/\d{4}:([01]\d|2[0-3]):[0-5]\d:[0-5]\d [+-]\d{4}"


@dataclass(frozen=True)
class Keys:
    """What a request is counted under, as the figures define it: its endpoint's name from the method and path, and
    its latency bucket from `$request_time` (None: not logged)."""

    endpoint: Callable[[str, str], str]
    bucket: Callable[[float | None], int | None]


@dataclass
class Groups:
    """One chunk's figures, grouped: what `logstats` folds into its `Traffic`."""

    clients: dict[str, int]  # requests per client
    # (endpoint, status, latency bucket or None, requests)
    requests: list[tuple[str, int, int | None, int]]
    # (epoch hour, requests)
    hours: list[tuple[int, int]]


def grouped(
    pieces: Iterable[tuple[int, bytes]],
    keys: Keys,
    leave_agents: tuple[str, ...],
    leave_clients: frozenset[str],
    least: int = LEAST,
) -> Iterator[tuple[int, Groups | bytes]]:
    """Each chunk's groups, or the piece of it (bytes) that must go line by line, with the window the chunk came
    tagged with (several windows read in one pass); chunks parsed on every core, PARSING at a time (memory stays a
    few chunks' worth); chunks under `least` bytes go line by line until one has gone in bulk (a short window never
    pays polars' import; a long one's short edges need not read line by line)."""
    with ThreadPoolExecutor(PARSING) as pool:
        pending: list[tuple[int, Future[list[Groups | bytes]]]] = []
        bulk = False
        for window, chunk in pieces:
            if len(chunk) < least and not bulk:
                yield window, chunk
                continue
            bulk = True
            pending.append((window, pool.submit(_split, chunk, keys, leave_agents, leave_clients)))
            if len(pending) >= AHEAD:
                yield from _tagged(*pending.pop(0))
        for window, future in pending:
            yield from _tagged(window, future)


def _tagged(window: int, future: Future[list[Groups | bytes]]) -> Iterator[tuple[int, Groups | bytes]]:
    for found in future.result():
        yield window, found


def _split(
    chunk: bytes, keys: Keys, leave_agents: tuple[str, ...], leave_clients: frozenset[str]
) -> list[Groups | bytes]:
    """The chunk's groups; where the bulk parse refuses it, its halves', down to small pieces left as bytes."""
    found = _groups(chunk, keys, leave_agents, leave_clients)
    if found is not None:
        return [found]
    if len(chunk) < SMALL:
        return [chunk]
    middle = chunk.find(b"\n", len(chunk) // 2)
    if middle < 0:
        return [chunk]
    return _split(chunk[:middle], keys, leave_agents, leave_clients) + _split(
        chunk[middle + 1 :], keys, leave_agents, leave_clients
    )


def _groups(chunk: bytes, keys: Keys, leave_agents: tuple[str, ...], leave_clients: frozenset[str]) -> Groups | None:
    """The chunk grouped, or None where a line of it might be read otherwise line by line."""
    import polars as pl  # here, not at import: the suite's start-up does not pay for it

    if not chunk or not chunk.isascii() or b"\r" in chunk or chunk.endswith(b"\n"):
        return None  # polars would take a carriage return for a line's end, and drop an empty last line
    try:  # a line with more than six quotes is an error: more fields than PARTS
        frame = pl.read_csv(
            chunk, has_header=False, separator='"', quote_char=None, schema=dict.fromkeys(PARTS, pl.String)
        )
    except pl.exceptions.PolarsError:
        return None
    if _length(frame) != len(chunk):
        return None  # a line with fewer than six quotes (polars fills an empty part and a missing one alike: null)
    left = [pl.col("part5").str.starts_with(agent) for agent in leave_agents]
    left += [pl.col("part0").str.starts_with(client + " ") for client in leave_clients if " " not in client]
    kept = frame.filter(~pl.any_horizontal(left).fill_null(False)) if left else frame
    clients = _clients(kept.group_by(pl.col("part0").str.head(-STAMPED), maintain_order=True).len().iter_rows())
    if clients is None:
        return None
    requests = _requests(kept, keys)
    if requests is None:
        return None
    hours = _hours(kept.get_column("part0").str.tail(STAMPED))
    if hours is None:
        return None
    return Groups(clients=clients, requests=requests, hours=hours)


def _length(frame: pl.DataFrame) -> int:
    """The bytes of the lines the frame was split from, were each split at six quotes: its parts, six quotes a row
    and the newlines between.

    polars gives one row a line (an empty one too, but the last: such a chunk is refused before) and refuses a line
    of more than six quotes; a line of fewer gives a row whose parts make up fewer bytes. So this is the chunk's
    length only where every line holds exactly six quotes: one count in Rust instead of a pass over the chunk."""
    import polars as pl

    return frame.select(pl.sum_horizontal(pl.all().str.len_bytes().sum())).item() + frame.height * (QUOTES + 1) - 1


def _requests(kept: pl.DataFrame, keys: Keys) -> list[tuple[str, int, int | None, int]] | None:
    """Requests per (endpoint, status, latency bucket): grouped by request line, status-and-size and time, each
    distinct request line and time read by `parse_access`'s own functions and named by `keys`, then grouped again
    by what they are counted under; None where one is not what `parse_access` reads, or a status or size is not
    as nginx writes them."""
    import polars as pl

    sized = kept.group_by("part1", "part2", "part6", maintain_order=True).len()
    status = pl.col("part2").str.extract(NUMBERS).cast(pl.Int64)  # what parse_access reads of any size NUMBERS takes
    sized = sized.select(pl.col("part1").fill_null(""), status, pl.col("part6").fill_null(""), "len")
    if sized.get_column("part2").has_nulls():
        return None
    endpoints, buckets = {}, {}
    for request in sized.get_column("part1").unique().to_list():
        target = _target(request)
        if target is None:
            return None
        endpoints[request] = keys.endpoint(*target)
    for after in sized.get_column("part6").unique().to_list():
        seconds = _seconds(after)
        if seconds is None:
            return None
        buckets[after] = keys.bucket(seconds[0])
    counted = sized.group_by(
        pl.col("part1").replace_strict(endpoints, return_dtype=pl.String),
        "part2",
        pl.col("part6").replace_strict(buckets, return_dtype=pl.Int64),
        maintain_order=True,
    ).agg(pl.col("len").sum())
    return list(counted.iter_rows())


@lru_cache(maxsize=65536)
def _target(request: str) -> tuple[str, str] | None:
    """(method, path) of a distinct request line, read by `parse_access`'s own function."""
    return access_target(request.encode())


@lru_cache(maxsize=65536)
def _seconds(after: str) -> tuple[float | None] | None:
    """`$request_time` of what follows a distinct agent, read by `parse_access`'s own function (in a tuple: None
    there is a time not logged); None where it is no number."""
    try:
        return (access_seconds(after.encode()),)
    except ValueError:
        return None


def _clients(prefixes: Iterable[tuple[str | None, int]]) -> dict[str, int] | None:
    """Requests per client from requests per first part before its stamp; None where the stamp's bracket is not
    the part's first (`access_time` takes the first) or no space ends the client (its word would reach into it)."""
    clients: dict[str, int] = {}
    for prefix, count in prefixes:
        if prefix is None or "[" in prefix or " " not in prefix:
            return None
        client = prefix.split(" ", 1)[0]  # `access_client`'s word, in the str polars gives
        clients[client] = clients.get(client, 0) + count
    return clients


def _hours(stamps: pl.Series) -> list[tuple[int, int]] | None:
    """Requests per epoch hour from each line's stamp (the first part's end), or None where a stamp is no stamp.

    A log is written in time order: its stamps come in runs of one second, counted by comparing neighbours (a
    tenth of the cost of hashing each), then checked and summed per minute and offset.
    """
    import polars as pl

    runs = stamps.rle().struct.unnest()  # its columns: len, value
    if not runs.select(pl.col("value").str.contains(STAMP).all(ignore_nulls=False)).item():
        return None
    minutes = runs.group_by(
        pl.col("value").str.slice(1, 17).alias("minute"),
        pl.col("value").str.slice(22, 5).alias("offset"),
        maintain_order=True,  # the hours in the order the lines give them, as line by line
    ).agg(pl.col("len").sum())
    hours = [(hour_of(minute, offset), count) for minute, offset, count in minutes.iter_rows()]
    if any(hour is None for hour, _ in hours):  # a day that cannot be (31 Nov): line by line drops it
        return None
    return hours  # type: ignore[return-value]


@lru_cache(maxsize=4096)
def hour_of(minute: str, offset: str) -> int | None:
    """The epoch hour of `29/Nov/2026:08:00` at `+0000`, as `parse_access` reads the stamp (None where it cannot)."""
    when = _parse_stamp(f"{minute}:00 {offset}".encode())
    return None if when is None else int(when // 3600)
