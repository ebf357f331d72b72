"""Redis: how to reach it, the TTL policy of its keys (P5) and the streaming engine's tick stream."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from opscheck.target.base import Seconds, Section, without_userinfo


class Redis(Section):
    url: str
    password_env: str | None = None
    timeout_s: Seconds = 3.0
    # Key pattern → the longest TTL (seconds) its keys may have; a key with no TTL is a leak (P5).
    ttl_policy: dict[str, Annotated[int, Field(gt=0)]] = {"prediction:*": 300, "market:*": 60, "session:*": 3600}
    ttl_sample: Annotated[int, Field(ge=1, le=10_000)] = 200
    # The streaming engine's tick stream, and how old its newest entry may be.
    stream: str | Literal[False] = "ticks"  # false: the platform has no tick stream
    stream_max_age_s: Seconds = 10.0

    @field_validator("stream")
    @classmethod
    def _stream_named(cls, value: str | bool) -> str | bool:
        if value is True or value == "":
            raise ValueError('name the stream (e.g. "ticks"), or write stream = false when there is none')
        return value

    @field_validator("url")
    @classmethod
    def _redis_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("redis", "rediss") or not parts.hostname:
            raise ValueError(f"must be a redis:// or rediss:// URL, got {without_userinfo(value)!r}")
        if parts.password:
            raise ValueError("must not hold a password; set password_env to a variable's name")
        return value
