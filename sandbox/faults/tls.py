"""Faults of the API's TLS: its certificate (near expiry, expired, for another name) and its options."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sandbox import lifecycle, tls
from sandbox.errors import SandboxError
from sandbox.faults.base import API_SCAN, CRITICAL, DECLARED, ERROR, HARDENING, WARNING, Fault
from sandbox.state import Sandbox, State, stop_process

# With a certificate no client accepts, whatever judges the API over HTTPS cannot tell, and says so.
API_UNVERIFIABLE = {f"{HARDENING}::*[api]": DECLARED, f"{API_SCAN}::*": DECLARED}
TLS_CERT = "checks/test_tls.py::test_certificate_verifies_and_is_far_from_expiry"


def _restart_api(sandbox: Sandbox, state: State) -> None:
    """The API restarted to read its certificate and TLS configuration again, and answering TLS."""
    stop_process(state.pids["api"], str(sandbox.root))
    state.pids["api"] = lifecycle.start_service(sandbox, "api")
    sandbox.write_state(state)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", state.ports["api"]), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SandboxError("the API did not come back after its TLS change")


def _reissue_certificate(days: float, names: tuple[str, ...] = tls.SERVER_NAMES) -> Callable[[Sandbox, State], None]:
    def change(sandbox: Sandbox, state: State) -> None:
        tls.issue_server(sandbox.tls, datetime.now(UTC) + timedelta(days=days), names)
        _restart_api(sandbox, state)

    return change


def _tls_options(**options: str) -> Callable[[Sandbox, State], None]:
    def change(sandbox: Sandbox, state: State) -> None:
        tls.set_server_options(sandbox.tls, **options)
        _restart_api(sandbox, state)

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
