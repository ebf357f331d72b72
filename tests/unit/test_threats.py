"""X1-X3 from the logs: error collectors, floods, brute force and what followed it, sprayed accounts, scanners."""

from __future__ import annotations

from opscheck.judge.threats import add_application_log, from_access
from opscheck.target.security import Security

SPEC = Security(trusted_clients=["10.0.0.100"])


def line(client: str, method: str, path: str, status: int, second: int = 0, agent: str = "x") -> bytes:
    return (f'{client} - - [29/Nov/2026:08:{second // 60:02d}:{second % 60:02d} +0000] "{method} {path} HTTP/1.1" '
            f'{status} 10 "-" "{agent}" 0.01').encode()  # fmt: skip


def test_a_login_that_succeeds_after_a_burst_of_failures_is_remembered():
    lines = [line("192.0.2.1", "POST", "/api/auth/login", 401, s) for s in range(12)]
    lines.append(line("192.0.2.1", "POST", "/api/auth/login", 200, 13))
    found = from_access(lines, SPEC)
    assert found.failed_logins["192.0.2.1"] == 12
    assert found.success_after_failures == {"192.0.2.1": 12}


def test_a_flood_is_one_clients_busiest_minute():
    found = from_access([line("198.51.100.1", "GET", "/", 200, s % 60) for s in range(400)], SPEC)
    assert found.floods(SPEC.flood_per_minute) == {"198.51.100.1": 400}
    assert found.floods(500) == {}


def test_scanner_signatures_and_error_answers_are_per_client():
    found = from_access([line("203.0.113.5", "GET", "/.env", 404), line("203.0.113.5", "GET", "/wp-login.php", 404)],
                        SPEC)  # fmt: skip
    assert found.error_answers["203.0.113.5"] == 2
    assert set(found.signatures["203.0.113.5"]) == {"/.env", "/wp-login.php"}


def test_trusted_clients_are_not_judged():
    found = from_access([line("10.0.0.100", "GET", "/.env", 404)] * 100, SPEC)
    assert not found.requests and not found.signatures


def test_accounts_tried_from_many_clients_come_from_the_application_log():
    found = from_access([], SPEC)
    add_application_log(found, [f"2026-11-29 08:00:00,000 WARNING api authentication failed for user=admin from "
                                f"192.0.2.{n}".encode() for n in range(6)], SPEC)  # fmt: skip
    assert found.accounts["admin"] == {f"192.0.2.{n}" for n in range(6)}


def test_failed_logins_written_with_ip_are_seen_too():
    found = from_access([], SPEC)
    add_application_log(found, [b"[2026-11-29T09:00:00+09:00] WARN api.auth: login failed: user=root ip=192.0.2.9"],
                        SPEC)  # fmt: skip
    assert found.accounts["root"] == {"192.0.2.9"}


def test_the_suites_own_scans_are_no_flood_scanner_or_error_collector_but_logins_are_judged():
    """The API scan's 357 requests a minute, its 404s and its odd paths are the suite's, not an attacker's."""
    scan = [line("192.0.2.9", "GET", "/.env" if s % 2 else "/x", 404, s % 60, "opscheck-scan/run") for s in range(400)]
    probes = [line("192.0.2.9", "GET", "/schemathesis-probe%5C", 404, 1, "schemathesis/4.32.5")]
    logins = [line("192.0.2.9", "POST", "/api/auth/login", 401, s, "opscheck-probe/1") for s in range(12)]
    found = from_access(scan + probes + logins, SPEC)
    assert found.floods(SPEC.flood_per_minute) == {} and not found.error_answers and not found.signatures
    assert found.failed_logins["192.0.2.9"] == 12, "a spoofed agent does not hide a brute force"
