"""D4 — データ整合性の確認: stock_prices complete and sane, by rules an operator can extend in the target file."""

from datetime import datetime

import pytest

from opscheck.judge.levels import Level, fail_at
from opscheck.probes.integrity import RuleContext

pytestmark = [pytest.mark.daily, pytest.mark.morning, pytest.mark.checklist("D4")]


@pytest.fixture(scope="session")
def rule_context(target):
    """Shared by every rule of the run, so the built-ins read the schema's guards and stock_prices once."""
    return RuleContext(target.spec.integrity, datetime.now(target.spec.zone()).date())


def test_stock_prices_keep_the_rule(db, rule_context, integrity_rule, measured):
    """One rule: its level and limit come from the rule."""
    verdict = integrity_rule.judge(db, rule_context)
    total = verdict.total
    measured("rows_breaking_it", total)
    if verdict.enforced_by:
        measured("enforced_by", verdict.enforced_by)
    if total > integrity_rule.limit:
        examples = "; ".join(", ".join(f"{k}={v}" for k, v in row.items()) for row in verdict.examples)
        fail_at(
            Level.parse(integrity_rule.level),
            f"{total} row(s) break '{integrity_rule.name}' ({integrity_rule.description}; "
            f"limit {integrity_rule.limit}). Examples: {examples}. Manual: {integrity_rule.remedy or 'correct them'}"
            + (f"; {verdict.note}" if verdict.note else ""),
        )


@pytest.mark.level("critical")
def test_stock_prices_did_not_shrink_since_the_last_backup(db, backups, rule_context, measured):
    """Fewer rows than the last daily backup recorded, beyond what retention purges, is data lost (the rows
    counted by the rules' own pass where it ran, so the table is not read again)."""
    latest = backups.latest("daily")
    recorded = latest.recorded_rows().get("stock_prices") if latest else None
    if recorded is None:
        pytest.fail(f"no daily backup in {backups.place} holds stock_prices' rows to compare with", pytrace=False)
    now = rule_context.row_count(db)
    floor = int(recorded * 0.99)
    measured("rows_against_the_backup", f"{now} of {recorded}")
    assert now >= floor, (
        f"stock_prices holds {now} rows; the daily backup {latest.name} recorded {recorded} (at least {floor} "
        "expected after retention). Manual (CRITICAL, データ損失リスク): stop writes, find what deleted rows, "
        "restore them from that backup"
    )
