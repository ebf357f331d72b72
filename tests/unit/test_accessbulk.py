"""The bulk engine gives the figures the line-by-line parser gives, on any line: odd lines go line by line."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opscheck.identity import PROBE_AGENT
from opscheck.judge import accessbulk
from opscheck.judge.logstats import KEYS, merged, traffic, traffic_in

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FIELDS = {
    "client": ["198.51.100.7", "203.0.113.9", "", "a[b", 'a"b', "é"],
    "user": ["-", "[x", "bob"],
    "stamp": ["29/Nov/2026:08:00:00", "29/Nov/2026:08:59:59", "31/Nov/2026:08:00:00", "29/Nov/2026:24:00:00",
              "29/Xyz/2026:08:00:00", "1/Nov/2026:08:00:00", "29/Nov/0000:08:00:00"],
    "offset": ["+0000", "+0530", "-0800", "+9999", "+00:00"],
    "request": ["GET /api/predictions/AAPL HTTP/1.1", "POST /login?next=/ HTTP/1.1", "GET", "GET  /x",
                'GET /x"y HTTP/1.1', "GET /\n HTTP/1.1", ""],
    "status": ["200", "404", "503", "2x", "+1", "0200", "1" * 12],
    "size": ["512", "-", "x", ""],
    "agent": ["Mozilla/5.0", f"{PROBE_AGENT}0.1", 'x""y', ""],
    "seconds": ["0.005", "1.250", "60", "1e3", "-", "", "0.1 x", "inf", "1_0", ".5", "0.1\r"],
}  # fmt: skip


def line(f: dict[str, str], gap: str = " ") -> bytes:
    return (f'{f["client"]}{gap}-{gap}{f["user"]} [{f["stamp"]} {f["offset"]}] "{f["request"]}" {f["status"]} '
            f'{f["size"]} "-" "{f["agent"]}" {f["seconds"]}').encode()  # fmt: skip


def good(client: str = "198.51.100.7", seconds: str = "0.005") -> bytes:
    return line({k: v[0] for k, v in FIELDS.items()} | {"client": client, "seconds": seconds})


LINE = st.builds(line, st.fixed_dictionaries({k: st.sampled_from(v) for k, v in FIELDS.items()}),
                 st.sampled_from([" ", " ", "  "]))  # fmt: skip


@FAST
@given(st.lists(LINE, min_size=1, max_size=30), st.booleans())
def test_any_lines_give_the_line_by_line_figures(lines, leave_one_out):
    leave_out = frozenset({"203.0.113.9"}) if leave_one_out else frozenset()
    chunk = b"\n".join(lines)  # as a log holds them: a newline inside a field ends its line
    bulk = traffic_in([chunk], leave_out=leave_out, least=0)  # even a small chunk in bulk
    assert bulk == traffic(chunk.split(b"\n"), leave_out=leave_out)


# Values parse_access reads, the edgy ones included: so whole chunks of them are read in bulk, not refused.
READ = {
    "client": ["198.51.100.7", "203.0.113.9", "", "a]b"],
    "user": ["-", "bob", "a b"],
    "stamp": ["29/Nov/2026:08:00:00", "29/Nov/2026:08:59:59", "28/Feb/2026:23:59:59"],
    "offset": ["+0000", "+0530", "-0800", "+9999"],
    "request": ["GET /api/predictions/AAPL HTTP/1.1", "POST /login?next=/ HTTP/1.1", "GET  /x", "GET /a b c"],
    "status": ["200", "404", "503", "0200"],
    "size": ["512", "-", "0"],
    "agent": ["Mozilla/5.0", f"{PROBE_AGENT}0.1", "", "a b"],
    "seconds": ["0.005", "1.250", "60", "", "inf", "1_0", ".5", "0.1 x", " 0.2"],
}  # fmt: skip
READ_LINE = st.builds(line, st.fixed_dictionaries({k: st.sampled_from(v) for k, v in READ.items()}))


@FAST
@given(st.lists(READ_LINE, min_size=1, max_size=30), st.booleans())
def test_lines_read_in_bulk_give_the_line_by_line_figures(lines, leave_one_out):
    leave_out = frozenset({"203.0.113.9"}) if leave_one_out else frozenset()
    chunk = b"\n".join(lines)
    bulk, expected = traffic_in([chunk], leave_out=leave_out, least=0), traffic(lines, leave_out=leave_out)
    assert bulk == expected
    for figure in ("per_client", "statuses", "endpoints", "hourly"):  # in the order the lines give them, too
        assert list(getattr(bulk, figure)) == list(getattr(expected, figure))


def test_edgy_lines_are_read_in_bulk():
    """Whole chunks of lines parse_access reads are not refused: the bulk path above is the one tested."""
    lines = [line({k: v[i % len(v)] for k, v in READ.items()}) for i in range(40)]
    assert accessbulk._groups(b"\n".join(lines), KEYS, (PROBE_AGENT,), frozenset()) is not None


def test_lines_of_other_shapes_go_line_by_line():
    """polars splits each line at its quotes only where every line holds six: an empty line, a last newline, a
    line of fewer or more quotes (even two that make up six a line between them), a carriage return."""
    lines = [good(f"198.51.100.{i}") for i in range(6)]
    fewer, more = lines[1].replace(b'"-" ', b"", 1), lines[2].replace(b'"-"', b'"-""', 1)
    for odd in (
        [*lines[:3], b"", *lines[3:]],
        [*lines, b""],
        [lines[0], fewer, *lines[2:]],
        [lines[0], more, *lines[2:]],
        [lines[0], fewer, more, *lines[3:]],
        [lines[0] + b"\r", *lines[1:]],
    ):
        chunk = b"\n".join(odd)
        assert accessbulk._groups(chunk, KEYS, (PROBE_AGENT,), frozenset()) is None
        assert traffic_in([chunk], least=0) == traffic(chunk.split(b"\n"))


def test_an_odd_line_in_a_large_chunk_leaves_the_rest_in_bulk():
    lines = [good(f"198.51.100.{i % 200}", f"0.{i % 997:03d}") for i in range(4000)]
    lines[1234] = b'odd "line'
    chunk = b"\n".join(lines)
    parts = accessbulk._split(chunk, KEYS, (PROBE_AGENT,), frozenset())
    assert sum(len(p) for p in parts if isinstance(p, bytes)) < accessbulk.SMALL
    assert traffic_in([chunk], least=0) == traffic(lines)


def test_days_merged_are_the_week_read_at_once():
    days = [[good("198.51.100.1", "0.010"), good("203.0.113.9", "0.500")], [good("198.51.100.2", "2.000")]]
    assert merged(traffic(day) for day in days) == traffic([line for day in days for line in day])
