"""Faults of the API's TLS: its certificate (near expiry, expired, for another name) and its options."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sandbox import tls
from sandbox.errors import SandboxError
from sandbox.faults.base import API_SCAN, CRITICAL, DECLARED, ERROR, HARDENING, WARNING, Fault
from sandbox.state import Sandbox, State, serving_pid

# With a certificate no client accepts, whatever judges the API over HTTPS cannot tell, and says so.
API_UNVERIFIABLE = {f"{HARDENING}::*[api]": DECLARED, f"{API_SCAN}::*": DECLARED}
TLS_CERT = "checks/test_tls.py::test_certificate_verifies_and_is_far_from_expiry"


def _reload_api(sandbox: Sandbox, state: State) -> None:
    """The API told to read its certificate and TLS configuration again (SIGHUP, as `nginx -s reload`), and done."""
    before = tls.reloads(sandbox.tls)
    os.kill(serving_pid(state.pids["api"]), signal.SIGHUP)
    deadline = time.monotonic() + 10
    while tls.reloads(sandbox.tls) == before:
        if time.monotonic() > deadline:
            raise SandboxError(f"the API did not reload its TLS configuration (see {sandbox.run_logs / 'api.out'})")
        time.sleep(0.02)


def _reissue_certificate(days: float, names: tuple[str, ...] = tls.SERVER_NAMES) -> Callable[[Sandbox, State], None]:
    def change(sandbox: Sandbox, state: State) -> None:
        tls.issue_server(sandbox.tls, datetime.now(UTC) + timedelta(days=days), names)
        _reload_api(sandbox, state)

    return change


def _tls_options(**options: str) -> Callable[[Sandbox, State], None]:
    def change(sandbox: Sandbox, state: State) -> None:
        tls.set_server_options(sandbox.tls, **options)
        _reload_api(sandbox, state)

    return change


FAULTS: list[Fault] = [
    Fault("cert-renewal-due", "the API's certificate expires in 20 days (renewal did not run)", ("X6", "MM2"),
          {}, _reissue_certificate(20), _reissue_certificate(90),
          also={"security": {f"{TLS_CERT}[127.0.0.1:*]": WARNING},
                "monthly": {f"{TLS_CERT}[127.0.0.1:*]": WARNING}}),
    Fault("cert-expiring", "the API's certificate expires in 5 days", ("X6", "MM2"),
          {}, _reissue_certificate(5), _reissue_certificate(90),
          also={"security": {f"{TLS_CERT}[127.0.0.1:*]": ERROR}}),
    Fault("cert-expired", "the API's certificate expired yesterday", ("X6", "MM2"),
          {}, _reissue_certificate(-1), _reissue_certificate(90),
          also={"security": {f"{TLS_CERT}[127.0.0.1:*]": CRITICAL, **API_UNVERIFIABLE}}),
    Fault("cert-wrong-name", "the API serves a certificate for www.example.jp", ("X6",),
          {}, _reissue_certificate(90, ("www.example.jp",)), _reissue_certificate(90),
          also={"security": {f"{TLS_CERT}[127.0.0.1:*]": ERROR, **API_UNVERIFIABLE}}),
    Fault("tls10-enabled", "the API's TLS configuration accepts TLS 1.0 and 1.1 (an old nginx snippet)", ("X8",),
          {}, _tls_options(minimum_version="TLSv1", ciphers="DEFAULT:@SECLEVEL=0"), _tls_options(),
          also={"security": {"checks/test_tls.py::test_old_protocols_are_refused[127.0.0.1:*]": WARNING}}),
    Fault("weak-ciphers", "the API's TLS configuration offers every cipher, anonymous ones included", ("X8",),
          {}, _tls_options(ciphers="ALL:eNULL:@SECLEVEL=0"), _tls_options(),
          also={"security": {"checks/test_tls.py::test_no_weak_cipher_is_accepted[127.0.0.1:*]": WARNING}}),
]  # fmt: skip
