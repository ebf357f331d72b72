"""Security faults: attacks in the logs, vulnerable dependency pins, the advisories out of reach,
a security update waiting."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sandbox import apt, dependencies, traffic
from sandbox.faults.base import CRITICAL, ERROR, SECURITY_LOGS, WARNING, Fault, _stop
from sandbox.faults.logs import _app_line
from sandbox.shape import of
from sandbox.state import Sandbox, State

DEPENDENCIES = "checks/test_dependencies.py::test_no_dependency_has_a_known_vulnerability"


def _attack(*requests: tuple[str, str, str, int, int]) -> Callable[[Sandbox, State], None]:
    """Append (client, method, path, status, count) requests to the access log, as they happened just now;
    each failed login also leaves the API's failed-login line (in the shape's words) in api.log."""

    def inject(sandbox: Sandbox, state: State) -> None:
        now, shape = datetime.now(UTC), of(state.shape)
        access, app = [], []
        for client, method, path, status, count in requests:
            for _ in range(count):
                access.append(traffic.access_line(shape, client, now, method, path, status, 32, 0.004))
                if path == "/api/auth/login" and status == 401:
                    user = "admin" if client.startswith("192.0.2.1") else "demo"
                    app.append(_app_line(state, "WARNING", "miraikakaku.api", shape.failed_login(user, client)))
        with open(sandbox.logs / "access.log", "a", encoding="utf-8") as out:
            out.writelines(access)
        with open(sandbox.logs / "api.log", "a", encoding="utf-8") as out:
            out.writelines(app)

    return inject


def _pin(**pins: dict[str, str]) -> Callable[[Sandbox, State], None]:
    """The platform's manifests with these pins (none given: as at up)."""

    def change(sandbox: Sandbox, state: State) -> None:
        dependencies.write(sandbox.app_sources, **pins)

    return change


def _offer_security_update(offered: str) -> Callable[[Sandbox, State], None]:
    def change(sandbox: Sandbox, state: State) -> None:
        apt.write(sandbox.apt_root, offered)

    return change


FAULTS: list[Fault] = [
    Fault("security-update-pending",
          f"the security archive offers {apt.PACKAGE} {apt.FIXED}; the host has {apt.INSTALLED}", ("MM1",),
          {}, _offer_security_update(apt.FIXED), _offer_security_update(apt.INSTALLED),
          also={"monthly": {"checks/test_updates.py::test_no_security_update_is_waiting[sandbox]": WARNING}}),
    Fault("apt-lists-stale", "the host's package lists last refreshed 30 days ago (apt-daily.timer off)",
          ("MM1",), {}, lambda sandbox, state: apt.age_lists(sandbox.apt_root, 30),
          _offer_security_update(apt.INSTALLED),
          also={"monthly": {"checks/test_updates.py::test_no_security_update_is_waiting[sandbox]": WARNING}}),
    Fault("brute-force-burst", "30 failed logins from one client in a minute", ("X3",),
          {f"{SECURITY_LOGS}::test_no_brute_force_on_logins": ERROR},
          _attack(("192.0.2.66", "POST", "/api/auth/login", 401, 30))),
    Fault("breach-after-burst", "30 failed logins from one client, then one that succeeds", ("X3",),
          {f"{SECURITY_LOGS}::test_no_brute_force_on_logins": CRITICAL},
          _attack(("192.0.2.77", "POST", "/api/auth/login", 401, 30),
                  ("192.0.2.77", "POST", "/api/auth/login", 200, 1))),
    Fault("account-sprayed", "the account 'admin' failing from eight clients", ("X3",),
          {f"{SECURITY_LOGS}::test_no_brute_force_on_logins": ERROR},
          _attack(*[(f"192.0.2.1{i}", "POST", "/api/auth/login", 401, 1) for i in range(8)])),
    Fault("scanner-sweep", "one client asking for /.env, /.git/config, /wp-login.php and ../../etc/passwd",
          ("X1", "X4"), {f"{SECURITY_LOGS}::test_no_scanner_signatures": WARNING},
          _attack(*[("192.0.2.99", "GET", path, 404, 5)
                    for path in ("/.env", "/.git/config", "/wp-login.php", "/static/../../etc/passwd")])),
    Fault("404-storm", "200 requests for unknown symbols from one client", ("X1",),
          {f"{SECURITY_LOGS}::test_no_client_collects_many_error_answers": WARNING},
          _attack(("192.0.2.50", "GET", "/api/predictions/ZZZZ", 404, 200))),
    Fault("request-flood", "400 requests from one client in one minute", ("X2",),
          {f"{SECURITY_LOGS}::test_no_client_floods_the_service": WARNING},
          _attack(("192.0.2.10", "GET", "/api/predictions/AAPL", 200, 400))),
    Fault("vulnerable-python-pin", "requirements.txt pins python-multipart 0.0.17 (GHSA-59g5-xgcq-4qw3, high)",
          ("X5", "W3"), {}, _pin(python={"python-multipart": "0.0.17"}), _pin(),
          also={"security": {f"{DEPENDENCIES}[pip:requirements.txt]": ERROR}}),
    Fault("vulnerable-npm-pin", "package-lock.json pins next 14.2.20 (GHSA-f82v-jwr5-mffw, critical)",
          ("X5", "W3"), {}, _pin(npm={"next": "14.2.20"}), _pin(),
          also={"security": {f"{DEPENDENCIES}[npm:frontend/package-lock.json]": CRITICAL}}),
    Fault("advisories-unreachable", "the advisory mirror is down", ("X5", "W3"),
          {}, _stop("advisories"), also={"security": {f"{DEPENDENCIES}[*]": ERROR}}),
]  # fmt: skip
