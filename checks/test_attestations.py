"""M4 — 災害復旧計画の見直し, and any item that is a person's judgement: someone vouched for it recently.

`opscheck attest M4 --by NAME --note … --evidence dr-plan-review.md` records it in the audit chain;
this check fails when the latest attestation is older than the target allows (InSpec's waivers
have an expiry for the same reason: a judgement goes stale).
"""

from datetime import UTC, datetime

import pytest

from opscheck import audit
from opscheck.catalogue import catalogue
from opscheck.pytest_reports import run_dir

pytestmark = [pytest.mark.monthly]


@pytest.mark.level("warning")
def test_item_was_attested_recently(attested_item, target, request, measured):
    spec = target.spec.attestations
    trail = spec.trail or run_dir(request.config).parent
    limit = spec.max_age_days[attested_item]
    item = catalogue()[attested_item]
    latest = audit.latest_attestation(trail, attested_item)
    how = f"opscheck attest {attested_item} --by NAME --note '…' --evidence FILE --reports-dir {trail}"
    assert latest is not None, (
        f"no one has attested {attested_item} ({item.ja} / {item.en}) in {trail / audit.CHAIN}. Do it, then: {how}"
    )
    age_days = (datetime.now(UTC) - datetime.fromisoformat(latest["at"])).total_seconds() / 86400
    measured("attested_by", latest["by"])
    measured("age_days", round(age_days, 1))
    assert age_days <= limit, (
        f"{attested_item} ({item.en}) was last attested {age_days:.0f} days ago by {latest['by']} "
        f"(at most {limit:g} days): {latest.get('note') or 'no note'}. Review it again, then: {how}"
    )
