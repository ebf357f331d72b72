"""Which part that is down explains a check's failure: Nagios's parent/child dependencies, Alertmanager's
inhibition. A part that cannot be reached is its own root cause (an API does not stop listening because its
database stopped); a check that needs a part, directly or through the graph, is put under the nearest one down.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from opscheck.judge.levels import Level

# The manual's level for a part that does not answer: サービス停止 and データベース接続エラー are both ERROR.
UNREACHABLE = Level.ERROR


def nearest_down(needed: Iterable[str], down: Iterable[str], graph: Mapping[str, Sequence[str]]) -> str | None:
    """The down part nearest to what a check needs (breadth first through `graph`), or None when all are up."""
    down_set = set(down)
    seen: set[str] = set()
    frontier = sorted(set(needed))
    while frontier:
        hit = [part for part in frontier if part in down_set]
        if hit:
            return hit[0]
        seen |= set(frontier)
        frontier = sorted({n for part in frontier for n in graph.get(part, ()) if n not in seen})
    return None


def blocked_level(declared: Level) -> Level:
    """A check blocked by a part that is down fails at its own level, never above the part's own (ERROR): a
    CRITICAL data-loss check that could not reach the database has not found data lost."""
    return min(declared, UNREACHABLE)


# The manual's action for each part that does not answer (システム起動手順, トラブルシューティング).
REMEDY = {
    "api": "systemctl restart miraikakaku-api (or docker-compose restart api)",
    "frontend": "systemctl restart miraikakaku-frontend (or docker-compose restart frontend)",
    "ml_engine": "read the ML engine's log, then restart advanced_ml_engine.py",
    "streaming_engine": "restart realtime_streaming_engine.py and check Redis",
    "monitoring": "restart monitoring_alert_system.py; until then alerts are not raised",
    "postgres": "systemctl status postgresql; pg_isready; sudo systemctl restart postgresql (データベース接続エラー)",
    "redis": "redis-cli ping; restart Redis (docker-compose up -d redis); the API and streaming engine need it",
}

# A part whose certificate no client accepts answers, yet blocks every check that needs it as if it were down; its
# remedy is the certificate's, never a restart (X6: 証明書の更新).
CERTIFICATE_REFUSED = "CERTIFICATE_VERIFY_FAILED"
CERTIFICATE_REMEDY = "renew its certificate (certbot renew) and reload nginx; restarting the process does not help"


def finding(cause: str) -> str:
    """What the preflight found at a part that did not answer as it should: down, or refused for its certificate."""
    return "answers with a certificate no client accepts" if CERTIFICATE_REFUSED in cause else "is down"


def remedy(part: str, cause: str) -> str:
    """The manual's action for that finding."""
    return CERTIFICATE_REMEDY if CERTIFICATE_REFUSED in cause else REMEDY[part]


def blocked_count(count: int) -> str:
    """How many checks a root cause blocked, as the verdict and the report say it (none: the part's own checks
    failed on their own, as a certificate check does)."""
    return f"{count} check(s) blocked by it" if count else "no check of this run is blocked by it"
