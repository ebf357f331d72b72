"""The platform's components and their HTTP health endpoints (D1), and how HTTP is spoken to them."""

from __future__ import annotations

from pathlib import Path

from pydantic import field_validator

from opscheck.target.base import Seconds, Section, http_url

COMPONENT_TITLES = {
    "api": "API server (FastAPI)",
    "frontend": "front end (Next.js)",
    "ml_engine": "ML engine",
    "streaming_engine": "streaming engine",
    "monitoring": "monitoring / alerting",
}


class Http(Section):
    timeout_s: Seconds = 5.0
    ca_bundle: Path | None = None


class Component(Section):
    base_url: str
    health: list[str] = ["/health"]
    # What a user or client loads first; nothing answering it is how "the system is down" looks from outside.
    entry: str = "/"

    _base_url = field_validator("base_url")(lambda cls, value: http_url(value))

    def health_urls(self) -> list[str]:
        return [self.base_url + path for path in self.health]


class Components(Section):
    api: Component | None = None
    frontend: Component | None = None
    ml_engine: Component | None = None
    streaming_engine: Component | None = None
    monitoring: Component | None = None
