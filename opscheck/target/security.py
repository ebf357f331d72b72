"""Security: access-log threats (X1-X3), the API scan (X4), dependency audits (X5) and TLS (X6, X8)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator

from opscheck.target.base import Section

SCANNER_SIGNATURES = ["/.env", "/.git/", "/wp-login.php", "/wp-admin", "/phpmyadmin", "/etc/passwd", "../",
                      "%2e%2e", "/cgi-bin/", "/.aws/", "/server-status", "/actuator"]  # fmt: skip


class Security(Section):
    """X1-X3 and scanner signatures: what the access and application logs show of attacks."""

    window_hours: Annotated[float, Field(gt=0)] = 24.0
    trusted_clients: list[str] = []  # the monitoring, load generators, health checkers: not judged (nor D7 users)
    client_error_answers: Annotated[int, Field(ge=1)] = 50  # X1: 403/404/5xx answers to one client in the window
    flood_per_minute: Annotated[int, Field(ge=1)] = 300  # X2: one client's requests in any one minute
    failed_logins_per_client: Annotated[int, Field(ge=1)] = 10  # X3: brute force from one client
    failed_login_clients_per_account: Annotated[int, Field(ge=1)] = 5  # X3: one account tried from many clients
    login_path: str = "/api/auth/login"
    # X3: failed logins in the application log, each pattern naming the account (user) and the client (client)
    failed_login_patterns: list[str] = [
        r"authentication failed for user=(?P<user>\S+) from (?P<client>\S+)",
        r"login failed\W.*?user=(?P<user>[^\s,]+).*?ip=(?P<client>[^\s,]+)",
    ]
    scanner_signatures: list[str] = SCANNER_SIGNATURES  # paths only attackers ask for (replaces the defaults)
    extra_scanner_signatures: list[str] = []  # added to them: the site's own give-aways
    # X4 / W2: schemathesis against the API's OpenAPI document, bounded
    openapi: str = "/openapi.json"  # on the API's base_url
    scan_methods: list[Literal["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"]] = ["GET"]
    scan_examples: Annotated[int, Field(ge=1, le=1000)] = 25  # per operation
    scan_timeout_s: Annotated[float, Field(gt=0, le=1800)] = 120.0
    protected: list[str] = []  # API paths that must refuse anonymous calls (401/403)

    @field_validator("failed_login_patterns")
    @classmethod
    def _named(cls, value: list[str]) -> list[str]:
        for pattern in value:
            try:
                groups = re.compile(pattern).groupindex
            except re.error as exc:
                raise ValueError(f"{pattern!r} is not a regular expression: {exc}") from None
            if not {"user", "client"} <= set(groups):
                raise ValueError(f"{pattern!r} must name the groups user and client: (?P<user>…), (?P<client>…)")
        return value


class Dependencies(Section):
    """X5 / W3: the manifests to audit and the advisory services to ask (an air-gapped site names its mirrors)."""

    on: str = "api"  # the host (by name or role) that holds the manifests
    python: list[Path] = []  # pinned requirements files
    npm: list[Path] = []  # project folders holding package-lock.json
    osv_url: str = "https://api.osv.dev"  # OSV-compatible API: pip-audit asks {osv_url}/v1/query
    npm_registry: str = "https://registry.npmjs.org/"  # npm audit asks its advisories endpoint
    timeout_s: Annotated[float, Field(gt=0, le=300)] = 30.0


class Tls(Section):
    endpoints: list[str] = []
    ca_bundle: Path | None = None
