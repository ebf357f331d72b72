"""The restore drill against a bare replay of the same dump into a scratch database, in the same run."""

from __future__ import annotations

import time
from pathlib import Path

from opscheck.probes import backup_figures, drill
from opscheck.probes.backups import BackupStore
from opscheck.target.loader import LoadedTarget


def drill_against_bare_restore(target: LoadedTarget) -> dict[str, str]:
    spec = target.spec.drill
    assert spec is not None and target.spec.backups is not None
    password = target.secret(spec.password_env)
    latest = BackupStore(target.spec.backups, target.spec.zone()).latest("daily")
    assert latest is not None
    dump = latest.part("database")
    server = drill.ScratchServer(spec, password)
    psql = drill.tool_path(spec, "psql")

    with server.connect(spec.maintenance_db) as admin:
        admin.execute("CREATE DATABASE opscheck_bench_bare")
    try:
        started = time.perf_counter()
        result = server.run_tool([psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction", "-f", str(dump)],
                                 "opscheck_bench_bare")  # fmt: skip
        bare_s = time.perf_counter() - started
        assert result.returncode == 0, result.stderr
        with server.connect("opscheck_bench_bare") as conn:
            # the one pass over stock_prices (days, rows, hashes per symbol), cut out of the SQL the job and drill share
            one_pass = backup_figures.SQL.split("WITH per_symbol AS (", 1)[1].split("GROUP BY symbol")[0]
            started = time.perf_counter()
            conn.execute(one_pass + " GROUP BY symbol").fetchall()
            fingerprint_s = time.perf_counter() - started
    finally:
        with server.connect(spec.maintenance_db) as admin:
            drill.drop_scratch(admin, "opscheck_bench_bare")

    started = time.perf_counter()
    outcome = drill.run(spec, password, latest)
    drill_s = time.perf_counter() - started
    assert not outcome.restore_error and outcome.amcheck_ok, outcome
    prices = latest.recorded_rows()["stock_prices"]
    return {
        "dump": f"{Path(dump).name}, {Path(dump).stat().st_size / 2**20:.0f} MB, {prices:,} prices",
        "bare replay (psql -v ON_ERROR_STOP=1 -1 -f)": f"{bare_s:.1f} s",
        "whole drill": f"{drill_s:.1f} s (restore {outcome.restore_s:.1f} s, figures {outcome.figures_s:.1f} s, "
        f"pg_amcheck {outcome.amcheck_s:.1f} s)",
        "fingerprint alone (the pass over stock_prices)": f"{fingerprint_s:.2f} s",
        "drill / bare replay": f"{drill_s / bare_s:.2f}×",
    }
