"""T5 / D1 — PostgreSQL状態確認・接続数確認: the database is ready and has connections to spare.

The manual runs `pg_isready -h localhost` and counts `pg_stat_activity`; so do these, in a
read-only session.
"""

import shlex

import pytest

from opscheck.judge.bands import band
from opscheck.judge.levels import fail_at
from opscheck.plugin.parameters import on_hosts_with_role

pytestmark = [pytest.mark.daily, pytest.mark.morning]


@pytest.mark.checklist("T5", "D1")
@pytest.mark.level("error")
def test_postgres_accepts_connections(db, measured):
    assert db.value("SELECT 1") == 1, f"PostgreSQL at {db.address} answered SELECT 1 wrongly. Manual: "
    "systemctl status postgresql; sudo systemctl restart postgresql"
    measured("database_size_mb", round(db.value("SELECT pg_database_size(current_database())") / 2**20, 1))


@pytest.mark.checklist("T5")
@pytest.mark.level("error")
@pytest.mark.needs("postgres")
@on_hosts_with_role("postgres")
def test_postgres_is_ready_on_its_host(host, target):
    """`pg_isready` from the database's own host: the manual's first diagnostic step."""
    spec = target.spec.postgres
    if spec is None:
        pytest.skip("the target declares no PostgreSQL ([postgres] absent)")
    command = shlex.join(
        ["pg_isready", "-h", spec.host, "-p", str(spec.port), "-d", spec.dbname, "-t", str(spec.connect_timeout_s)]
    )
    result = host.run(f"timeout {spec.connect_timeout_s + 2} {command}")
    assert result.rc == 0, (
        f"`{command}` on {host.backend.get_pytest_id()} exited {result.rc}: {(result.stdout + result.stderr).strip()}. "
        "Manual: systemctl status postgresql; sudo systemctl restart postgresql"
    )


@pytest.mark.checklist("T5")
@pytest.mark.level("warning")
def test_postgres_connections_under_limit(db, thresholds, measured):
    """Above the limit a WARNING; at the ERROR band (95 % by default) an ERROR: the next sessions are refused."""
    row = db.rows(
        "SELECT (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend') AS used,"
        " current_setting('max_connections')::int AS max,"
        " current_setting('superuser_reserved_connections')::int AS reserved"
    )[0]
    usable = row["max"] - row["reserved"]
    percent = 100.0 * row["used"] / usable
    measured("connections_used_percent", round(percent, 1))
    limit, far = thresholds.db_connections_percent, thresholds.db_connections_error_percent
    level = band(percent, limit, far)
    if level is not None:
        fail_at(
            level,
            f"{row['used']} of {usable} usable connections in use ({percent:.0f} %; limit {limit:g} %, ERROR at "
            f"{far:g} %). Manual: find who holds them (pg_stat_activity) and adjust the connection pool "
            "(max_connections)",
        )
