"""M4 — 災害復旧計画の見直し, and any item that is a person's judgement: someone vouched for it recently.

`opscheck attest M4 --by NAME --note … --evidence dr-plan-review.md` records it in the audit chain;
this check fails when the latest attestation is older than the target allows (InSpec's waivers
have an expiry for the same reason: a judgement goes stale).
"""

import pytest

from opscheck.catalogue import catalogue
from opscheck.record import audit

pytestmark = [pytest.mark.monthly]


@pytest.mark.level("warning")
def test_item_was_attested_recently(attested_item, target, attestation_trail, measured):
    limit = target.spec.attestations.max_age_days[attested_item]
    item = catalogue()[attested_item]
    latest, problem = audit.stale_attestation(attestation_trail, attested_item, item.en, limit)
    if latest:
        measured("attested_by", latest["by"])
        measured("age_days", latest["age_days"])
    assert not problem, problem
