"""Redis probe: socket and connect timeouts from the target; the password comes from its variable."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from opscheck.errors import ProbeError
from opscheck.target.redis import Redis


class Cache:
    part = "Redis"

    def __init__(self, spec: Redis, password: str | None) -> None:
        parts = urlsplit(spec.url)
        self.address = f"{parts.hostname}:{parts.port or 6379}"
        self._client = redis.Redis.from_url(
            spec.url,
            password=password,
            socket_timeout=spec.timeout_s,
            socket_connect_timeout=spec.timeout_s,
            retry=Retry(NoBackoff(), 0),  # redis-py retries with backoff by default: unbounded for a probe
            decode_responses=True,
        )

    def call(self, command: str, *args: Any) -> Any:
        try:
            return self._client.execute_command(command, *args)
        except redis.TimeoutError:
            raise ProbeError(self.part, self.address, "no answer within the timeout") from None
        except redis.RedisError as exc:
            raise ProbeError(self.part, self.address, " ".join(str(exc).split())) from None

    @property
    def user(self) -> str | None:
        """The ACL user the suite connects as; None where the URL names none (the default user, no ACLs)."""
        return self._client.connection_pool.connection_kwargs.get("username")

    def permitted(self, command: str, *refused_args: str) -> bool:
        """Whether this user's ACL lets it run `command`, asked with arguments the command itself refuses once the
        ACL has let it through (FLUSHALL with an unknown flag, CONFIG SET of no such option): nothing runs, and
        NOPERM or the command's own error says which it was."""
        try:
            self._client.execute_command(command, *refused_args)
        except redis.exceptions.NoPermissionError:
            return False
        except redis.TimeoutError:
            raise ProbeError(self.part, self.address, "no answer within the timeout") from None
        except redis.ConnectionError as exc:
            raise ProbeError(self.part, self.address, " ".join(str(exc).split())) from None
        except redis.ResponseError:
            return True
        raise ProbeError(self.part, self.address, f"{command} {' '.join(refused_args)} was not refused: stop and "
                         "look at this Redis")  # fmt: skip

    def scan(self, pattern: str, limit: int) -> list[str]:
        """Up to `limit` keys matching `pattern`, by SCAN (never KEYS on a live server)."""
        found: list[str] = []
        cursor = 0
        while len(found) < limit:
            cursor, keys = self.call("SCAN", cursor, "MATCH", pattern, "COUNT", 500)
            found.extend(keys[: limit - len(found)])
            if int(cursor) == 0:
                break
        return found

    def close(self) -> None:
        self._client.close()
