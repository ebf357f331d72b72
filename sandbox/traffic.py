"""The platform's users, simulated: a request mix and an hourly rate, for the history and for live traffic alike.

Clients come from the documentation address ranges (TEST-NET-2 and -3), never a real network.
"""

from __future__ import annotations

import gzip
import os
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sandbox.data import BASE_SYMBOLS
from sandbox.shape import DEFAULT, Shape

CLIENTS = [f"198.51.100.{i}" for i in range(1, 121)] + [f"203.0.113.{i}" for i in range(1, 81)]
AGENT = "Mozilla/5.0 (Miraikakaku app)"


def requests_per_hour(moment: datetime) -> float:
    """About 400 an hour, more while the Tokyo market is open (00:00-06:00 UTC)."""
    return 550.0 if moment.astimezone(UTC).hour < 6 else 350.0


def request(rng: random.Random) -> tuple[str, str, int, float]:
    """(method, path, status, seconds): the mix the API really serves, with its usual few errors."""
    roll = rng.random()
    symbol = rng.choice(BASE_SYMBOLS)
    seconds = rng.lognormvariate(-4.3, 0.5)
    if roll < 0.5:
        return "GET", f"/api/predictions/{symbol}", 200 if rng.random() > 0.002 else 500, seconds
    if roll < 0.8:
        return "GET", f"/api/stock_prices/{symbol}", 200 if rng.random() > 0.01 else 404, seconds * 1.5
    if roll < 0.95:
        return "GET", "/api/health", 200, seconds / 3
    return "POST", "/api/auth/login", 200 if rng.random() > 0.1 else 401, seconds * 2


def access_line(shape: Shape, client: str, moment: datetime, method: str, path: str, status: int, size: int,
                seconds: float) -> str:  # fmt: skip
    """A user's request as the shape's nginx logs it."""
    return shape.access_line(client, moment, method, path, status, size, seconds, AGENT)


HISTORY_DAYS = 15  # two full weeks and today: W1 compares a week with the week before


def write_history(
    logs: Path,
    end: datetime,
    days: int = HISTORY_DAYS,
    seed: int = 5,
    slowdown: float = 1.0,
    server_error_rate: float = 0.0,
    shape: Shape = DEFAULT,
) -> None:
    """`days` of traffic up to `end`, rotated daily as logrotate leaves it: access.log, .1, then .N.gz.

    `slowdown` and `server_error_rate` make a bad week for the faults (every request that much slower;
    that share of them answered 503).
    """
    rng = random.Random(seed)
    start = end - timedelta(days=days)
    buckets: list[list[str]] = [[] for _ in range(days)]
    app_lines: list[str] = []
    moment = start
    while moment < end:
        moment += timedelta(seconds=rng.expovariate(requests_per_hour(moment) / 3600))
        if moment >= end:
            break
        method, path, status, seconds = request(rng)
        seconds *= slowdown
        if server_error_rate and rng.random() < server_error_rate:
            status = 503
        client = rng.choice(CLIENTS)
        age_days = int((end - moment) / timedelta(days=1))
        buckets[days - 1 - age_days].append(access_line(shape, client, moment, method, path, status, 512, seconds))
        if end - moment < timedelta(days=2):
            app_lines.extend(_app_lines(rng, moment, path, status, client, shape))
    for index, lines in enumerate(buckets):
        rotation = days - 1 - index
        name = "access.log" if rotation == 0 else f"access.log.{rotation}"
        target = logs / (name + (".gz" if rotation >= 2 else ""))
        text = "".join(lines).encode()
        target.write_bytes(gzip.compress(text, 6) if rotation >= 2 else text)
        last = (end - timedelta(days=rotation)).timestamp()
        os.utime(target, (last, last))
    (logs / "api.log").write_text("".join(app_lines))


def _app_lines(rng: random.Random, moment: datetime, path: str, status: int, client: str, shape: Shape) -> list[str]:
    logger = "miraikakaku.api"
    if path == "/api/auth/login":
        user = f"user{int(client.rsplit('.', 1)[-1]):04d}"  # each person logs in from a client or two of their own
        if status == 401:
            return [shape.app_line(moment, "WARNING", logger, shape.failed_login(user, client))]
        return [shape.app_line(moment, "INFO", logger, f"login user={user} from {client}")]
    if status == 500 and rng.random() < 0.5:
        return [shape.app_line(moment, "ERROR", logger, "upstream price feed timed out after 3000 ms; retried")]
    return []
