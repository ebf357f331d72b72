"""T6 — 影響範囲確認 (curl -I, nslookup): the public names resolve and answer, as users see them."""

from urllib.parse import urlsplit

import pytest

from opscheck.errors import ProbeError
from opscheck.probes.names import resolve


@pytest.mark.daily
@pytest.mark.morning
@pytest.mark.post_deploy
@pytest.mark.checklist("T6")
@pytest.mark.level("error")
def test_public_name_resolves_and_answers(public_url, http, target):
    host = urlsplit(public_url).hostname or ""
    try:
        addresses = resolve(host, target.spec.outside.resolve_timeout_s)
        answer = http.get(public_url, part="public URL")
    except ProbeError as exc:
        pytest.fail(f"{exc.what}. Manual: nslookup {host}; curl -I {public_url}; check DNS and the load balancer",
                    pytrace=False)  # fmt: skip
    assert answer.status < 500, (
        f"{public_url} ({host} → {', '.join(addresses)}) answered HTTP {answer.status}. Manual (段階1): show the "
        "maintenance page and tell the team"
    )
