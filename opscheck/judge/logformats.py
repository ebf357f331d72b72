"""How the platform's logs are written: nginx's access log and the application's log, line by line.

Pure parsing, no I/O: the log probe seeks and streams, these turn its lines into times and records.
The access log's format is nginx's own `log_format` string, compiled to a regular expression; the
application log's is a regular expression with named fields. The manual's own formats (nginx
`combined` plus `$request_time`; `2026-11-29 08:00:00,123 LEVEL logger message`) take a fast path.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo

TimeOf = Callable[[bytes], float | None]
MONTHS = {
    m.encode(): i
    for i, m in enumerate(["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], 1)
}

_last_stamp: list = [b"", None]  # lines of one second share a stamp: parse it once


def access_time(line: bytes) -> float | None:
    """Epoch seconds of an nginx access-log line: `… [29/Nov/2026:08:00:00 +0000] …`."""
    start = line.find(b"[")
    if start < 0 or len(line) < start + 27:
        return None
    stamp = line[start + 1 : start + 27]
    if stamp == _last_stamp[0]:
        return _last_stamp[1]
    _last_stamp[0], _last_stamp[1] = stamp, _parse_stamp(stamp)
    return _last_stamp[1]


def _parse_stamp(stamp: bytes) -> float | None:
    try:
        sign = 1 if stamp[21:22] == b"+" else -1
        offset = sign * (int(stamp[22:24]) * 3600 + int(stamp[24:26]) * 60)
        moment = datetime(
            int(stamp[7:11]), MONTHS[stamp[3:6]], int(stamp[0:2]),
            int(stamp[12:14]), int(stamp[15:17]), int(stamp[18:20]), tzinfo=UTC,
        )  # fmt: skip
    except (KeyError, ValueError):
        return None
    return moment.timestamp() - offset


def app_time(zone: tzinfo) -> TimeOf:
    """Epoch seconds of an application-log line: `2026-11-29 08:00:00,123 LEVEL logger message`, in `zone`."""
    return AppFormat.of(DEFAULT_APP_FORMAT, DEFAULT_APP_TIME, zone).time_of


@dataclass(frozen=True)
class AccessRecord:
    client: str
    time: float
    method: str
    path: str
    status: int
    size: int
    agent: str
    request_time: float | None


def parse_access(line: bytes) -> AccessRecord | None:
    """nginx `combined` plus `$request_time`: ip - user [time] "METHOD path PROTO" status size "ref" "agent" rt."""
    parts = line.split(b'"')
    if len(parts) < 7:
        return None
    when = access_time(parts[0])
    request = access_request(parts[1], parts[2], parts[6])
    if when is None or request is None:
        return None
    method, path, status, size, request_time = request
    return AccessRecord(
        client=access_client(parts[0]),
        time=when,
        method=method,
        path=path,
        status=status,
        size=size,
        agent=parts[5].decode(errors="replace"),
        request_time=request_time,
    )


def access_client(before: bytes) -> str:
    """The client's address: the first word of what precedes the request's quote."""
    return before.split(b" ", 1)[0].decode(errors="replace")


def access_request(request: bytes, numbers: bytes, after: bytes) -> tuple[str, str, int, int, float | None] | None:
    """Method, path (without its query), status, size and `$request_time` from a line's quoted request, what
    follows it, and what follows the agent's quote; None where they are not a request's (the line is no access
    line). In parts, so the bulk engine reads each distinct request and time as the line-by-line parser does."""
    target = access_target(request)
    tail = numbers.split()
    if target is None or len(tail) < 2:
        return None
    try:
        status, size = int(tail[0]), int(tail[1]) if tail[1] != b"-" else 0
        request_time = access_seconds(after)
    except ValueError:
        return None
    return (*target, status, size, request_time)


def access_target(request: bytes) -> tuple[str, str] | None:
    """(method, path without its query) of a request line; None where it holds no space."""
    words = request.split(b" ")
    if len(words) < 2:
        return None
    return words[0].decode(errors="replace"), words[1].split(b"?", 1)[0].decode(errors="replace")


def access_seconds(after: bytes) -> float | None:
    """`$request_time` from what follows the agent's quote (None: not logged); ValueError where it is no number."""
    rest = after.split()
    return float(rest[0]) if rest else None


# --- nginx log_format -------------------------------------------------------------------------------------

DEFAULT_ACCESS_FORMAT = (
    '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" '
    '"$http_user_agent" $request_time'
)
TIME_VARIABLES = ("time_local", "time_iso8601", "msec")
VARIABLE = re.compile(r"\$(?:\{(\w+)\}|(\w+))", re.ASCII)  # nginx names variables in ASCII


@dataclass(frozen=True)
class AccessFormat:
    """An access log's format: nginx's `log_format` string, and which variable holds the client's address
    (`remote_addr`, or `http_x_forwarded_for` behind a proxy that nginx does not resolve with real_ip)."""

    log_format: str = DEFAULT_ACCESS_FORMAT
    client: str = "remote_addr"
    regex: re.Pattern[bytes] | None = field(default=None, compare=False)

    @classmethod
    def of(cls, log_format: str = DEFAULT_ACCESS_FORMAT, client: str = "remote_addr") -> AccessFormat:
        """Compile `log_format`; ValueError names what it lacks (a time, the status, the request)."""
        if log_format == DEFAULT_ACCESS_FORMAT and client == "remote_addr":
            return cls()
        regex = nginx_regex(log_format)
        names = set(regex.groupindex)
        if not names & set(TIME_VARIABLES):
            raise ValueError(f"holds no time ({', '.join('$' + v for v in TIME_VARIABLES)})")
        if "status" not in names:
            raise ValueError("holds no $status")
        if "request" not in names and not {"request_method", "request_uri"} <= names | {"uri"}:
            raise ValueError("holds no $request (nor $request_method with $request_uri or $uri)")
        if client not in names:
            raise ValueError(f"holds no ${client}, the client's address")
        return cls(log_format, client, regex)

    def parse(self, line: bytes) -> AccessRecord | None:
        if self.regex is None:
            return parse_access(line)
        match = self.regex.match(line)
        if match is None:
            return None
        got = match.groupdict()
        when = _time_of_groups(got)
        if got.get("request") is not None:
            request = got["request"].split(b" ")
            method, target = (request[0], request[1]) if len(request) >= 2 else (b"", b"")
        else:
            method, target = got.get("request_method") or b"", got.get("request_uri") or got.get("uri") or b""
        try:
            status = int(got["status"])
            size = got.get("body_bytes_sent") or got.get("bytes_sent") or b"-"
            seconds = got.get("request_time") or b"-"
            request_time = float(seconds) if seconds != b"-" else None
        except ValueError:
            return None
        if when is None or not target:
            return None
        client = (got.get(self.client) or b"-").split(b",", 1)[0].strip()
        return AccessRecord(
            client=client.decode(errors="replace"), time=when, method=method.decode(errors="replace"),
            path=target.split(b"?", 1)[0].decode(errors="replace"), status=status,
            size=int(size) if size.isdigit() else 0, agent=(got.get("http_user_agent") or b"").decode(errors="replace"),
            request_time=request_time,
        )  # fmt: skip

    def time_of(self, line: bytes) -> float | None:
        if self.regex is None:
            return access_time(line)
        match = self.regex.match(line)
        return _time_of_groups(match.groupdict()) if match else None

    def request_line(self, line: bytes) -> str:
        """The request as the client sent it (`GET /path?query HTTP/1.1`), for signatures hidden in the query."""
        if self.regex is None:
            parts = line.split(b'"', 2)
            return parts[1].decode(errors="replace") if len(parts) > 2 else ""
        match = self.regex.match(line)
        if match is None:
            return ""
        got = match.groupdict()
        return (got.get("request") or got.get("request_uri") or got.get("uri") or b"").decode(errors="replace")


def nginx_regex(log_format: str) -> re.Pattern[bytes]:
    """nginx's log_format as a regular expression: each $variable a named group, the text between literal.

    A variable inside quotes takes anything but a quote, inside brackets anything but the closing bracket,
    elsewhere anything but a space; a variable used twice, or one that cannot be a group's name (nginx's regex
    captures `$1`), is matched without a name.
    """
    out, seen, at = [], set(), 0
    for match in VARIABLE.finditer(log_format):
        before = log_format[at : match.start()]
        out.append(re.escape(before))
        name = match[1] or match[2]
        after = log_format[match.end() : match.end() + 1]
        body = '[^"]*' if before.endswith('"') and after == '"' else r"[^\]]*" if before.endswith("[") else r"\S*"
        named = name.isidentifier() and name not in seen
        out.append(f"(?P<{name}>{body})" if named else f"(?:{body})")
        seen.add(name)
        at = match.end()
    out.append(re.escape(log_format[at:]))
    return re.compile("".join(out).encode())


def _time_of_groups(got: dict[str, bytes | None]) -> float | None:
    if got.get("time_local"):
        return _parse_stamp(got["time_local"])  # type: ignore[arg-type]
    try:
        if got.get("time_iso8601"):
            return datetime.fromisoformat(got["time_iso8601"].decode()).timestamp()  # type: ignore[union-attr]
        if got.get("msec"):
            return float(got["msec"])  # type: ignore[arg-type]
    except (UnicodeDecodeError, ValueError):
        return None
    return None


# --- the application's log --------------------------------------------------------------------------------

DEFAULT_APP_FORMAT = (
    r"(?P<time>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)[,.]\d+ (?P<level>[A-Z]+) (?P<logger>\S+) ?(?P<message>.*)"
)
DEFAULT_APP_TIME = "%Y-%m-%d %H:%M:%S"
LEVEL_NAMES = {"WARN": "WARNING", "FATAL": "CRITICAL", "CRIT": "CRITICAL", "ERR": "ERROR", "EMERG": "CRITICAL",
               "ALERT": "CRITICAL", "NOTICE": "INFO", "TRACE": "DEBUG"}  # fmt: skip
KNOWN_LEVELS = {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}


@dataclass(frozen=True)
class AppEntry:
    stamp: str  # the line's time as written, to the second
    level: str  # DEBUG, INFO, WARNING, ERROR or CRITICAL
    message: str


@dataclass(frozen=True)
class AppFormat:
    """An application log's lines: a regular expression with the named fields `time`, `level` and `message`,
    and `time`'s strftime format ("iso" for ISO 8601), read in `zone` where the time carries no offset."""

    pattern: str
    time_format: str
    zone: tzinfo
    regex: re.Pattern[bytes] = field(compare=False, repr=False)

    @classmethod
    def of(
        cls, pattern: str = DEFAULT_APP_FORMAT, time_format: str = DEFAULT_APP_TIME, zone: tzinfo = UTC
    ) -> AppFormat:
        regex = re.compile(pattern.encode())
        missing = {"time", "level", "message"} - set(regex.groupindex)
        if missing:
            raise ValueError(f"holds no named field {', '.join(sorted(missing))} (e.g. (?P<level>[A-Z]+))")
        return cls(pattern, time_format, zone, regex)

    @property
    def default(self) -> bool:
        return self.pattern == DEFAULT_APP_FORMAT and self.time_format == DEFAULT_APP_TIME

    def time_of(self, line: bytes) -> float | None:
        if self.default:
            return self._moment(line[:19])
        match = self.regex.match(line)
        return self._moment(match["time"]) if match else None

    def entry(self, line: bytes) -> AppEntry | None:
        """The line's time, level and message; None for a line that is not an entry (a traceback's continuation)."""
        if self.default:
            parts = line.split(None, 4)
            if len(parts) < 4 or parts[2] not in LEVELS_DEFAULT:
                return None
            message = parts[4].decode(errors="replace").strip() if len(parts) > 4 else ""
            return AppEntry((parts[0] + b" " + parts[1][:8]).decode(errors="replace"), parts[2].decode(), message)
        match = self.regex.match(line)
        if match is None:
            return None
        level = match["level"].decode(errors="replace").upper()
        level = LEVEL_NAMES.get(level, level)
        if level not in KNOWN_LEVELS:
            return None
        return AppEntry(
            match["time"].decode(errors="replace")[:19], level, match["message"].decode(errors="replace").strip()
        )

    def _moment(self, text: bytes) -> float | None:
        try:
            written = text.decode("ascii").strip()
            if self.time_format == "iso":
                moment = datetime.fromisoformat(written)
            else:
                moment = datetime.strptime(written, self.time_format)
        except (UnicodeDecodeError, ValueError):
            return None
        return (moment if moment.tzinfo else moment.replace(tzinfo=self.zone)).timestamp()


LEVELS_DEFAULT = (b"DEBUG", b"INFO", b"WARNING", b"ERROR", b"CRITICAL")
