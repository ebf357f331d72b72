"""What every section of a target file shares: unknown keys refused, URLs without secrets, bounded numbers."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

Seconds = Annotated[float, Field(gt=0, le=300)]


Percent = Annotated[float, Field(gt=0, le=100)]


def http_url(value: str) -> str:
    """An http(s) URL without a password in it, and without a trailing slash."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"must be an http:// or https:// URL, got {without_userinfo(value)!r}")
    if parts.password:
        raise ValueError("must not hold a password; name an environment variable instead")
    return value.rstrip("/")


class Section(BaseModel):
    """Every section refuses keys it does not know: a typo must not become a silent default."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def without_userinfo(url: str) -> str:
    """A URL as it may be shown: any `user:password@` removed."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[1]).geturl()
