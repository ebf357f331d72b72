"""What the access and application logs show of attacks, in one pass over each: clients collecting
error answers (X1), floods (X2), failed logins and what followed them (X3), scanner signatures."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from opscheck.identity import NOT_USERS
from opscheck.judge.logformats import AccessFormat
from opscheck.target.security import Security

DEFAULT_ACCESS = AccessFormat.of()


@dataclass
class Threats:
    error_answers: Counter[str] = field(default_factory=Counter)
    error_paths: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    per_minute: Counter[tuple[str, int]] = field(default_factory=Counter)
    requests: Counter[str] = field(default_factory=Counter)
    failed_logins: Counter[str] = field(default_factory=Counter)
    # a login that succeeded from a client after at least this many failures: client → failures before it
    success_after_failures: dict[str, int] = field(default_factory=dict)
    accounts: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # user → failing clients
    signatures: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))  # client → paths

    def floods(self, limit: int) -> dict[str, int]:
        """client → its busiest minute's requests, for clients over `limit`."""
        worst: dict[str, int] = {}
        for (client, _minute), count in self.per_minute.items():
            if count > limit:
                worst[client] = max(worst.get(client, 0), count)
        return worst


def from_access(lines: Iterable[bytes], spec: Security, form: AccessFormat = DEFAULT_ACCESS) -> Threats:
    found = Threats()
    trusted = set(spec.trusted_clients)
    signatures = [s.lower() for s in [*spec.scanner_signatures, *spec.extra_scanner_signatures]]
    for line in lines:
        record = form.parse(line)
        if record is None or record.client in trusted:
            continue
        client = record.client
        if record.path == spec.login_path and record.method == "POST":
            if record.status in (401, 403):
                found.failed_logins[client] += 1
            elif 200 <= record.status < 300 and found.failed_logins[client] >= spec.failed_logins_per_client:
                found.success_after_failures[client] = found.failed_logins[client]
        if record.agent.startswith(NOT_USERS):
            # The suite's own probes, scans and load runs are no flood, error collector or scanner (its scans read
            # as 357 requests a minute). Logins are judged whatever the agent: the suite never logs in.
            continue
        found.requests[client] += 1
        found.per_minute[(client, int(record.time // 60))] += 1
        if record.status in (403, 404) or record.status >= 500:
            found.error_answers[client] += 1
            found.error_paths[client][f"{record.status} {record.path}"] += 1
        request_line = form.request_line(line).lower()
        if any(signature in request_line for signature in signatures):
            found.signatures[client][request_line.split(" ")[1] if " " in request_line else request_line] += 1
    return found


def add_application_log(found: Threats, lines: Iterable[bytes], spec: Security) -> None:
    """Failed logins the application logs (the target's patterns, each naming `user` and `client`): which
    accounts are tried, from how many clients; and from which clients, where the access log cannot tell."""
    trusted = set(spec.trusted_clients)
    patterns = [re.compile(p.encode()) for p in spec.failed_login_patterns]
    for line in lines:
        match = next((m for pattern in patterns if (m := pattern.search(line))), None)
        if match and match["client"].decode(errors="replace") not in trusted:
            found.accounts[match["user"].decode(errors="replace")].add(match["client"].decode(errors="replace"))
