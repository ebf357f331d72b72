"""X1-X3 — セキュリティチェック (ログ): what the manual's awk one-liners look for in the access log, and
what a person reading them would miss: a login that succeeds after a burst of failures, one account
tried from many clients, requests for paths only attackers ask for."""

import re
import time

import pytest

from opscheck.judge import threats
from opscheck.judge.levels import Level, fail_at

pytestmark = [pytest.mark.security, pytest.mark.daily, pytest.mark.evening]  # 日常のセキュリティ チェック


@pytest.fixture(scope="module")
def seen(logs, target) -> threats.Threats:
    spec = target.spec.security
    since = time.time() - spec.window_hours * 3600
    found = threats.from_access(logs.file("access").lines(since=since), spec, logs.access_form)
    if "app" in target.spec.logs.declared():
        threats.add_application_log(found, logs.file("app").lines(since=since), spec)
    return found


def _clients(*clients: str) -> tuple[str, ...]:
    """Patterns for the lines of these clients (an address, not a longer one that begins with it)."""
    return tuple(rf"(?<![\w.:]){re.escape(c)}(?![\w.:])" for c in clients)


def _window(target) -> str:
    return f"the last {target.spec.security.window_hours:g} h"


@pytest.mark.checklist("X1")
@pytest.mark.level("warning")
@pytest.mark.logs("access")
def test_no_client_collects_many_error_answers(seen, target, measured, evidence):
    limit = target.spec.security.client_error_answers
    offenders = {c: n for c, n in seen.error_answers.items() if n > limit}
    evidence("access", *_clients(*offenders))
    measured("clients_with_error_answers", len(seen.error_answers))
    assert not offenders, (
        f"clients answered 403/404/5xx more than {limit} times in {_window(target)}: "
        + "; ".join(
            f"{client} {count} (e.g. {', '.join(p for p, _ in seen.error_paths[client].most_common(3))})"
            for client, count in sorted(offenders.items(), key=lambda kv: -kv[1])[:5]
        )
        + ". Manual (X1): a scanner or a broken client; block it at nginx (deny) if it is not ours"
    )


@pytest.mark.checklist("X2")
@pytest.mark.level("warning")
@pytest.mark.logs("access")
def test_no_client_floods_the_service(seen, target, measured, evidence):
    limit = target.spec.security.flood_per_minute
    top = seen.requests.most_common(5)
    measured("top_talkers", ", ".join(f"{c} {n}" for c, n in top))
    floods = seen.floods(limit)
    evidence("access", *_clients(*floods))
    assert not floods, (
        f"clients over {limit} requests in one minute in {_window(target)}: "
        + ", ".join(f"{c} ({n}/min)" for c, n in sorted(floods.items(), key=lambda kv: -kv[1])[:5])
        + f". Top talkers: {', '.join(f'{c} {n}' for c, n in top)}. Manual (X2): rate-limit (limit_req) or block"
    )


@pytest.mark.checklist("X3")
@pytest.mark.level("error")
@pytest.mark.logs("access")
def test_no_brute_force_on_logins(seen, target, measured, evidence):
    """Many failures from one client, or one account failing from many: ERROR. A success after a burst: CRITICAL."""
    spec = target.spec.security
    # The figures the limits judge, so the record agrees with the message: a window's total over every
    # client (76 where one client "failed 30 times") mixed earlier bursts and clients under the limit.
    measured("most_failed_logins_from_one_client", max(seen.failed_logins.values(), default=0))
    measured("most_clients_failing_one_account", max(map(len, seen.accounts.values()), default=0))
    from_one = {c: n for c, n in seen.failed_logins.items() if n >= spec.failed_logins_per_client}
    sprayed = {user: clients for user, clients in seen.accounts.items()
               if len(clients) >= spec.failed_login_clients_per_account}  # fmt: skip
    attackers = {*seen.success_after_failures, *from_one, *(c for clients in sprayed.values() for c in clients)}
    evidence("access", *_clients(*sorted(attackers)))
    if seen.success_after_failures:
        fail_at(Level.CRITICAL, "a login succeeded right after a burst of failures from the same client, a likely "
                "breach: " + ", ".join(f"{c} after {n} failures" for c, n in seen.success_after_failures.items())
                + ". Manual (X3, CRITICAL): lock the account, end its sessions, find what it did")  # fmt: skip
    assert not from_one and not sprayed, (
        f"brute force on {spec.login_path} in {_window(target)}: "
        + "; ".join([f"{c} failed {n} times" for c, n in from_one.items()]
                    + [f"account {u!r} failed from {len(c)} clients" for u, c in sprayed.items()])
        + ". Manual (X3): block the clients (fail2ban), warn the account's owner"
    )  # fmt: skip


@pytest.mark.checklist("X1", "X4")
@pytest.mark.level("warning")
@pytest.mark.logs("access")
def test_no_scanner_signatures(seen, target, measured, evidence):
    measured("scanning_clients", len(seen.signatures))
    evidence("access", *_clients(*seen.signatures))
    assert not seen.signatures, (
        f"requests for paths only attackers ask for in {_window(target)}: "
        + "; ".join(f"{client}: {', '.join(p for p, _ in paths.most_common(4))} ({sum(paths.values())} requests)"
                    for client, paths in list(seen.signatures.items())[:5])
        + ". Manual (X1): a scanner is mapping the service; block it, and check none of those paths answered 200"
    )  # fmt: skip
