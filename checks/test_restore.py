"""R1 — データベース復旧後, R2 — 完全復旧後: after a real restore, the system holds what the backup held.

Run right after a restore: `pytest -m post_restore` (with --restored-from SET when it was not the
newest daily set). The component health checks (D1) carry the same mark.
"""

import os

import pytest

from opscheck.judge import restore
from opscheck.plugin.parameters import on_hosts_with_role
from opscheck.probes import backup_figures

pytestmark = [pytest.mark.post_restore]


@pytest.fixture(scope="module")
def restored_figures(db):
    return backup_figures.figures(db.rows)


@pytest.mark.checklist("R1")
@pytest.mark.level("critical")
def test_restored_database_holds_what_the_backup_held(restored_figures, restored_from):
    differences = restore.differences(backup_figures.recorded(restored_from), restored_figures, live=True)
    assert not differences, (
        f"the database does not hold what backup {restored_from.name} held: {'; '.join(differences)}. "
        "Manual (CRITICAL, データ損失): stop writes; restore again from that set and find what was skipped"
    )


@pytest.mark.checklist("R1")
@pytest.mark.level("critical")
def test_newest_data_is_as_new_as_the_backup(restored_figures, restored_from, measured):
    """No silent loss beyond the RPO: the newest trading day restored is the one the backup had."""
    recorded = backup_figures.recorded(restored_from)
    measured("newest_day", str(restored_figures["last_date"]))
    assert "last_date" in recorded, f"backup {restored_from.name} says nothing of its newest day (no stock_prices data)"
    assert restored_figures["last_date"] and restored_figures["last_date"] >= recorded["last_date"], (
        f"the newest stock_prices day is {restored_figures['last_date']}, the backup {restored_from.name} had "
        f"{recorded['last_date']}: the days between are lost. Manual: restore stock_prices from that set again"
    )


@pytest.mark.post_maintenance
@pytest.mark.weekly
@pytest.mark.checklist("R1", "MW2", "W4")
@pytest.mark.level("error")
def test_no_index_is_invalid(db):
    """Every index of the platform, not only the manual's: after a restore, a REINDEX in the maintenance window,
    or at the weekly review, an index cut short is invalid and unused."""
    broken = db.rows(
        "SELECT indexrelid::regclass::text AS index, indrelid::regclass::text AS tbl FROM pg_index"
        " JOIN pg_class c ON c.oid = indrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'"
        " AND NOT (indisvalid AND indisready)"
    )
    assert not broken, (
        f"invalid indexes: {', '.join(r['index'] + ' on ' + r['tbl'] for r in broken)}. "
        "Manual: REINDEX INDEX CONCURRENTLY each of them"
    )


@on_hosts_with_role("api")
@pytest.mark.checklist("R2")
@pytest.mark.level("error")
def test_configuration_matches_the_config_archive(host, host_spec, restored_from, target):
    root = target.spec.backups.config_root
    if root is None:
        pytest.skip("the target does not say where the config archive's paths live ([backups] config_root)")
    archived = restored_from.config_members()
    if not archived:
        pytest.fail(f"backup {restored_from.name} holds no config archive to compare with", pytrace=False)
    differing = []
    for member, digest in sorted(archived.items()):
        live = host.file(str(root / member))
        if not live.exists:
            differing.append(f"{member} missing")
        elif live.sha256sum != digest:
            differing.append(f"{member} differs")
    config_archive = os.path.basename(restored_from.part("config") or "config_*.tar.gz")
    assert not differing, (
        f"on {host_spec.name}, the configuration under {root} is not what {restored_from.name} archived: "
        f"{', '.join(differing)}. Manual: tar -xzf {config_archive} again and restart"
    )


@pytest.mark.checklist("R2")
@pytest.mark.level("error")
def test_caches_fill_again(http, cache, target):
    """A restored system starts with cold caches; a prediction asked for must be cached again (P5's pattern)."""
    api = target.spec.components.api
    if api is None:
        pytest.skip("the target declares no API ([components.api]) to ask")
    path = target.spec.performance.prediction_path
    answer = http.get(api.base_url + path, part="API")
    assert answer.status == 200, f"{path} answers {answer.status} after the restore"
    patterns = [p for p in target.spec.redis.ttl_policy if p.startswith("prediction")] or ["prediction:*"]
    cached = [key for p in patterns for key in cache.scan(p, 1)]
    assert cached, (
        f"after asking {path}, Redis holds no key matching {', '.join(patterns)}: the API does not fill its "
        "cache again. Manual: check that it is pointed at this Redis and may write there"
    )
