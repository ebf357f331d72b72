"""W7 — ログローテーション確認: logrotate covers every log the target names, and no log grows without bound."""

import shlex

import pytest

from opscheck.plugin.parameters import on_hosts_with_role

pytestmark = [pytest.mark.weekly]


@on_hosts_with_role("api")
@pytest.mark.checklist("W7")
@pytest.mark.level("warning")
def test_logrotate_covers_every_log(host, host_spec, target):
    """`logrotate --debug` reads the configuration as cron would and lists every log it would consider."""
    config = target.spec.logs.logrotate_config
    if config is None:
        pytest.skip("the target does not name its logrotate configuration ([logs] logrotate_config)")
    debug = host.run(f"logrotate --debug --state /dev/null {shlex.quote(str(config))}")
    said = debug.stdout + debug.stderr
    errors = [line for line in said.splitlines() if line.startswith("error:")]
    assert debug.rc == 0 and not errors, (
        f"logrotate rejects {config} on {host_spec.name}: {'; '.join(errors) or said.strip()[-300:]}"
    )
    uncovered = [f"{name} ({path})" for name, path in target.spec.logs.declared().items()
                 if f"considering log {path}" not in said]  # fmt: skip
    assert not uncovered, (
        f"{config} on {host_spec.name} does not rotate {', '.join(uncovered)}: they grow until the disk fills. "
        "Manual (W7): add them to /etc/logrotate.d/miraikakaku"
    )


@pytest.mark.checklist("W7", "W6")
@pytest.mark.level("warning")
def test_no_log_grows_past_its_limit(target, logs, measured):
    """Every declared log, on every host that keeps it: a log that is not there is named, never left out."""
    limit = target.spec.logs.max_size_mb
    declared = target.spec.logs.declared()
    if not declared:
        pytest.skip("the target declares no logs ([logs])")
    sizes, missing = {}, []
    for name in declared:
        for log in logs.file(name).each():
            live = log.live()
            if live is None:
                missing.append(log.place)
            else:
                sizes[f"{name} ({log.place})"] = live.size / 2**20
    assert not missing, f"no such log: {', '.join(missing)}: the sizes cannot be told. Manual (W7): find where it went"
    for name, size in sizes.items():
        measured(f"{name.split(' ')[0]}_mb", round(size, 1))
    big = [f"{name} {size:.0f} MB" for name, size in sizes.items() if size > limit]
    assert not big, (
        f"logs above {limit:g} MB: {', '.join(big)}: rotation is not happening for them (maxsize, a stuck "
        "copytruncate, a process holding the old file). Manual (W7): logrotate -f; then see why it did not"
    )
