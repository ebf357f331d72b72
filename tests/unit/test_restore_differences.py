"""A restore judged against its backup's record: losses always count; gains only when nothing may have changed."""

from __future__ import annotations

from opscheck.judge.restore import differences

RECORDED = {"row_counts": {"stock_prices": 100, "users": 5}, "per_symbol": {"AAPL": ["2025-01-02", "2026-11-27"]},
            "indexes": ["idx_stock_prices_symbol_date"], "fingerprint": "abc"}  # fmt: skip


def test_the_same_figures_agree():
    assert differences(RECORDED, RECORDED) == []


def test_a_lost_row_a_lost_index_and_a_changed_row_are_each_named():
    found = {**RECORDED, "row_counts": {"stock_prices": 99, "users": 5}, "indexes": [], "fingerprint": "abd"}
    said = differences(RECORDED, found)
    assert any("stock_prices has 99 rows" in s for s in said)
    assert any("indexes missing: idx_stock_prices_symbol_date" in s for s in said)
    assert any("content differs" in s for s in said)


def test_a_live_system_may_have_gained_rows_and_days_but_not_lost_them():
    grown = {**RECORDED, "row_counts": {"stock_prices": 120, "users": 6}, "fingerprint": "new",
             "per_symbol": {"AAPL": ["2025-01-02", "2026-11-30"], "NEW": ["2026-11-30", "2026-11-30"]}}  # fmt: skip
    assert differences(RECORDED, grown, live=True) == []
    assert differences(RECORDED, grown) != []


def test_a_record_of_row_counts_alone_compares_row_counts_alone():
    counted = {"row_counts": {"stock_prices": 100, "users": 5}}
    assert differences(counted, RECORDED) == []
    assert differences(counted, {**RECORDED, "row_counts": {"stock_prices": 90, "users": 5}}) == [
        "stock_prices has 90 rows, the backup recorded 100"]  # fmt: skip
