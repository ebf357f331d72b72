"""Latency (D6), the application's own settings (P6), public names (T6) and load runs (`-m load`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field

from opscheck.target.base import Seconds, Section


class LoadThresholds(Section):
    """k6-style thresholds for a load run: each one a check of its own. Unset means not judged."""

    p95_ms: Annotated[float, Field(gt=0)] | None = None
    p99_ms: Annotated[float, Field(gt=0)] | None = None
    error_percent: Annotated[float, Field(ge=0, le=100)] | None = None
    min_rps: Annotated[float, Field(gt=0)] | None = None


class Load(Section):
    """Load runs (`pytest -m load`, locust): where, with what, how much at most, and what passes.

    Nothing is sent unless [permissions] allow_load = true; the caps hold whatever profile is asked for.
    """

    host: str | None = None  # default: the API's base_url
    symbols: list[str] = ["AAPL", "MSFT", "GOOGL", "AMZN", "NVDA"]
    login_user: str | None = None  # a load-test account; without one, no login traffic
    login_password_env: str | None = None
    think_s: tuple[float, float] = (0.5, 1.5)  # each user's pause between requests, uniformly drawn
    default_profile: str = "standard"
    profiles_file: Path | None = None  # default: load/profiles.toml in the opscheck repository
    max_users: Annotated[int, Field(ge=1)] = 50
    max_duration_s: Annotated[int, Field(ge=1)] = 600
    stop_error_percent: Annotated[float, Field(gt=0, le=100)] = 50.0  # locust stops a run failing this badly
    min_requests: Annotated[int, Field(ge=1)] = 20  # fewer requests to an endpoint cannot give its percentiles
    thresholds: LoadThresholds = LoadThresholds(p95_ms=500, error_percent=5)  # the manual's 500 ms and 5 %
    endpoints: dict[str, LoadThresholds] = {}  # locust's request name (e.g. "/api/predictions/{symbol}") → limits


class Performance(Section):
    """Endpoints whose latency is measured (D6), and the manual's own P7 endpoint."""

    endpoints: list[str] = ["/api/predictions/AAPL", "/api/stock_prices/AAPL", "/api/health"]
    prediction_path: str = "/api/predictions/AAPL"
    samples: Annotated[int, Field(ge=3, le=1000)] = 10
    cpu_sample_s: Annotated[float, Field(gt=0, le=60)] = 2.0  # D6: CPU is averaged over this long


class App(Section):
    """The application's own settings that checks compare with the servers (P6)."""

    db_pool_max: Annotated[int, Field(ge=1)] | None = None
    instances: Annotated[int, Field(ge=1)] = 1


class Outside(Section):
    """The public names users reach the platform by (the manual's curl -I / nslookup, T6)."""

    urls: list[str] = []
    resolve_timeout_s: Seconds = 3.0
