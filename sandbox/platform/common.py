"""What every service process shares: where the sandbox is, its ports and secrets, its logs, its active faults."""

from __future__ import annotations

import json
import logging
import os
from functools import cache
from pathlib import Path

from sandbox import shape as shapes
from sandbox.shape import Shape
from sandbox.state import Sandbox


@cache
def sandbox() -> Sandbox:
    return Sandbox(Path(os.environ["SANDBOX_DIR"]))


@cache
def ports() -> dict[str, int]:
    return json.loads(sandbox().state_file.read_text())["ports"]


@cache
def shape() -> Shape:
    """How this sandbox lays the platform out (its tables, logs, backups): sandbox.shape."""
    return shapes.of(json.loads(sandbox().state_file.read_text()).get("shape", "default"))


def secret(name: str) -> str:
    return os.environ[name]


def app_logger(name: str, filename: str) -> logging.Logger:
    """The application log the manual tails (`/var/log/miraikakaku/<name>.log`)."""
    logger = logging.getLogger(name)
    if not logger.handlers:
        handler = logging.FileHandler(sandbox().logs / filename, encoding="utf-8")
        handler.setFormatter(shape().formatter())  # in the shape's zone, whatever the machine's TZ
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return logger


class ActiveFaults:
    """The faults injected into a running process's behaviour, re-read when faults.json changes."""

    def __init__(self) -> None:
        self._mtime = -1.0
        self._active: dict[str, dict] = {}

    def get(self) -> dict[str, dict]:
        path = sandbox().faults_file
        try:
            mtime = path.stat().st_mtime
        except OSError:
            return {}
        if mtime != self._mtime:
            try:
                self._active = json.loads(path.read_text())
                self._mtime = mtime
            except ValueError:
                return self._active
        return self._active

    def __contains__(self, name: str) -> bool:
        return name in self.get()


FAULTS = ActiveFaults()


def harden(headers, https: bool, origin: str | None) -> None:
    """The security headers nginx's server block adds (`add_header … always;`), unless a fault removed one."""
    if https and "hsts-missing" not in FAULTS:
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    if "server-banner" in FAULTS:  # server_tokens on, behind a PHP-era proxy
        headers["Server"] = "nginx/1.18.0 (Ubuntu)"
        headers["X-Powered-By"] = "Express 4.17.1"
    if "cors-open" in FAULTS and origin:  # the whole world allowed, cookies included
        headers["Access-Control-Allow-Origin"] = origin
        headers["Access-Control-Allow-Credentials"] = "true"
