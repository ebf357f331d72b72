"""Bringing a sandbox up and down. `up` from nothing to a healthy platform in seconds; `down` ends all it started."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import ssl
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg

from opscheck.record import audit
from sandbox import apt, backup, cgroup, data, dependencies, metrics, postgres, s3, suite_history, traffic
from sandbox import fleet as hosts
from sandbox.active import stop_fault_processes
from sandbox.errors import SandboxError
from sandbox.shape import Shape, of
from sandbox.state import FLEET_FOLDERS, Sandbox, State, free_port, is_ours, spawn, stop_process
from sandbox.targetfile import write_target

SERVICES = ("api", "frontend", "streaming", "monitoring", "advisories")
OUTSIDE_THE_PLATFORM = {"advisories"}  # the advisory mirror is the site's, not the platform's: not in its cgroup
NEEDS = {"frontend": "api"}  # a part's health is asked only once what it needs answers, or it logs errors
SECRET_NAMES = (
    "SANDBOX_PG_OWNER_PASSWORD",  # the application's own role
    "OPSCHECK_SANDBOX_PG_PASSWORD",  # the checks' read-only monitoring role
    "OPSCHECK_SANDBOX_REDIS_PASSWORD",
    "OPSCHECK_SANDBOX_DRILL_PASSWORD",  # the restore drill's role: may create (and drop) scratch databases
    "OPSCHECK_SANDBOX_LOAD_PASSWORD",  # the load-test account's password (the login in load/locustfile.py)
    "OPSCHECK_SANDBOX_S3_KEY",  # the fleet's off-site bucket (sandbox.s3)
    "OPSCHECK_SANDBOX_S3_SECRET",
)
LOAD_USER = "loadtest"
MAX_CONNECTIONS = 50
READY_TIMEOUT_S = 40.0


def up(sandbox: Sandbox, rows: int = 10_000, shape: str = "default", fleet: bool = False) -> State:
    """Start a fresh sandbox in `sandbox.root`, ending whatever an earlier one left behind, laid out as `shape`;
    `fleet`: spread over hosts of its own (sandbox.fleet)."""
    _require_binaries()
    with sandbox.lock():
        _down_unlocked(sandbox)
        shutil.rmtree(sandbox.root, ignore_errors=True)
        if fleet:
            sandbox.root.mkdir(parents=True)
            (sandbox.root / "fleet.json").write_text(json.dumps({"hosts": [h.name for h in hosts.HOSTS]}))
            for name in FLEET_FOLDERS:
                (sandbox.root / name).mkdir()  # where the hosts see them; empty everywhere else
        for folder in (sandbox.logs, sandbox.run_logs, sandbox.config_dir, sandbox.backups_local,
                       sandbox.backups_offsite, sandbox.plans, sandbox.app_sources):  # fmt: skip
            folder.mkdir(parents=True, exist_ok=True)
        secret_values = {name: secrets.token_urlsafe(18) for name in SECRET_NAMES}
        sandbox.secrets_file.write_text(json.dumps(secret_values))
        sandbox.secrets_file.chmod(0o600)
        state = State(
            ports=_free_ports(("postgres", "redis", *SERVICES, *(["s3"] if fleet else []))),
            started_at=datetime.now(UTC).isoformat(),
            shape=of(shape).name,
        )
        sandbox.write_state(state)
        try:
            _start_all(sandbox, state, secret_values, rows)
        except BaseException:
            _down_unlocked(sandbox)
            raise
        return state


def _free_ports(names: tuple[str, ...]) -> dict[str, int]:
    """A free port for each of `names`, no two the same."""
    ports: dict[str, int] = {}
    for name in names:
        ports[name] = free_port(taken=ports.values())
    return ports


def _require_binaries() -> None:
    postgres.bindir()
    if shutil.which("redis-server") is None:
        raise SandboxError("redis-server not found: install it (apt-get install redis-server), then try again")


def _start_all(sandbox: Sandbox, state: State, secret_values: dict[str, str], rows: int) -> None:
    from sandbox.tls import make_ca_and_server

    make_ca_and_server(sandbox.tls)
    _write_config(sandbox, state)
    if sandbox.is_fleet:
        hosts.prepare(sandbox)
        hosts.start(sandbox, state)
        state.pids["s3"] = s3.start(sandbox, state)  # the cloud's, not the platform's: in no host
        sandbox.write_state(state)
    state.data_mount = _mount_data_volume(sandbox)
    state.cgroup = cgroup.create("opscheck-sandbox-" + hashlib.sha1(str(sandbox.root).encode()).hexdigest()[:10])
    sandbox.write_state(state)
    state.pg_dir = str(postgres.make_cluster_dir())
    sandbox.write_state(state)
    postgres.init_cluster(Path(state.pg_dir), state.ports["postgres"], MAX_CONNECTIONS)
    postgres.start(Path(state.pg_dir))
    now = datetime.now(UTC)
    _create_database(Path(state.pg_dir), state.ports["postgres"], secret_values, rows, now, of(state.shape))
    traffic.write_history(sandbox.logs, end=now, shape=of(state.shape))
    metrics.write_history(sandbox.metrics, now.timestamp(), metrics.disk_percent(sandbox, state))
    with cgroup.unthrottled(state.cgroup):
        state.pids["redis"] = start_redis(sandbox, state.ports["redis"])
        sandbox.write_state(state)
        for name in SERVICES:
            state.pids[name] = start_service(sandbox, name)
            sandbox.write_state(state)
        _make_backup_history(sandbox, state, now)
        _write_plans(sandbox, now, of(state.shape))
        attest_reviews(sandbox, {"M4": 3, "X7": 3})
        suite_history.write(sandbox.suite_history, now)
        apt.write(sandbox.apt_root)
        dependencies.write(sandbox.app_sources)
        write_target(sandbox, state)
        wait_until_ready(sandbox, state)
    warm_up(sandbox, state)


DATA_VOLUME_MB = 64


def _mount_data_volume(sandbox: Sandbox) -> str:
    """A 64 MB volume of the platform's own, so T3 judges a disk the sandbox owns, not the machine's.

    An ext4 file system on a loop device, so it has block-device I/O figures to judge too; a tmpfs
    where loop devices cannot be had. Mounting needs root; without it the target declares no disk to
    watch (and says so when T3 skips).
    """
    sandbox.data.mkdir(exist_ok=True)
    if os.geteuid() != 0:
        return ""
    image = sandbox.root / "data.img"
    attempts = [
        ["mount", "-o", "loop", str(image), str(sandbox.data)],
        ["mount", "-t", "tmpfs", "-o", f"size={DATA_VOLUME_MB}m,mode=0755", "opscheck-sandbox", str(sandbox.data)],
    ]
    with open(image, "wb") as out:
        out.truncate(DATA_VOLUME_MB << 20)
    formatted = subprocess.run(["mkfs.ext4", "-q", "-m", "0", "-F", str(image)], capture_output=True, timeout=60)
    for command in attempts[0 if formatted.returncode == 0 else 1 :]:
        if subprocess.run(command, capture_output=True, timeout=30).returncode == 0:
            return str(sandbox.data)
    return ""


def start_service(sandbox: Sandbox, name: str) -> int:
    secret_values = sandbox.secrets()
    env = {
        **os.environ,
        "SANDBOX_DIR": str(sandbox.root),
        "SANDBOX_PG_OWNER_PASSWORD": secret_values["SANDBOX_PG_OWNER_PASSWORD"],
        "SANDBOX_REDIS_PASSWORD": secret_values["OPSCHECK_SANDBOX_REDIS_PASSWORD"],
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    command = [sys.executable, "-m", "sandbox.platform.serve", name, str(sandbox.root)]
    state = sandbox.read_state()
    if state is not None:
        command = hosts.on_host(state, name, command)  # a fleet's service runs on its own host
    pid = spawn(command, sandbox.run_logs / f"{name}.out", env=env)
    return pid if name in OUTSIDE_THE_PLATFORM else contain(sandbox, pid)


def restart_service(sandbox: Sandbox, state: State, name: str) -> None:
    """Stop the service (where it still runs) and start it again, its new pid in `state` (written by the caller)."""
    stop_process(state.pids[name], str(sandbox.root))
    state.pids[name] = start_service(sandbox, name)


def contain(sandbox: Sandbox, pid: int) -> int:
    """Put a process of the platform into the sandbox's cgroup (where it has one)."""
    state = sandbox.read_state()
    if state is not None and state.cgroup:
        cgroup.join(state.cgroup, pid)
    return pid


REDIS_MONITOR = "opscheck_monitor"


def start_redis(sandbox: Sandbox, port: int) -> int:
    password = sandbox.secrets()["OPSCHECK_SANDBOX_REDIS_PASSWORD"]
    folder = sandbox.root / "redis"
    folder.mkdir(exist_ok=True)
    conf = folder / "redis.conf"
    conf.write_text(
        f'port {port}\nbind 127.0.0.1\nrequirepass {password}\ndir {folder}\nsave ""\nappendonly no\n'
        "daemonize no\nset-proc-title no\nmaxmemory 64mb\nmaxmemory-policy volatile-lru\nloglevel warning\n"
        f"logfile {folder / 'redis.log'}\n"
        # The suite's own ACL user: what its checks read (INFO, SCAN, TTL, the tick stream), nothing it could break.
        f"user {REDIS_MONITOR} on >{password} ~* &* +@read +@connection +info\n"
    )
    conf.chmod(0o600)
    return contain(sandbox, spawn([shutil.which("redis-server") or "redis-server", str(conf)],
                                  sandbox.run_logs / "redis.out"))  # fmt: skip


def _create_database(
    pg_dir: Path, port: int, secret_values: dict[str, str], rows: int, now: datetime, shape: Shape
) -> None:
    with psycopg.connect(postgres.superuser_conninfo(pg_dir, port), autocommit=True) as conn:
        conn.execute(f"CREATE ROLE miraikakaku LOGIN PASSWORD '{secret_values['SANDBOX_PG_OWNER_PASSWORD']}'")
        conn.execute(
            f"CREATE ROLE opscheck_monitor LOGIN PASSWORD '{secret_values['OPSCHECK_SANDBOX_PG_PASSWORD']}'"
            " IN ROLE pg_monitor, pg_read_all_data"
        )
        conn.execute("CREATE DATABASE miraikakaku OWNER miraikakaku")
        # The drill's scratch databases live on this same server here (a real target names another);
        # they come from template1, which carries the extensions the dump needs and amcheck for pg_amcheck.
        conn.execute(
            f"CREATE ROLE opscheck_drill LOGIN CREATEDB PASSWORD '{secret_values['OPSCHECK_SANDBOX_DRILL_PASSWORD']}'"
        )
    with psycopg.connect(postgres.superuser_conninfo(pg_dir, port, "template1"), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION amcheck")
        conn.execute("CREATE EXTENSION pg_stat_statements")  # the dump asks for it; only a superuser may create it
        conn.execute("GRANT USAGE ON SCHEMA public TO opscheck_drill")
        for function in (
            "bt_index_check(regclass, boolean)",
            "bt_index_parent_check(regclass, boolean, boolean)",
            "verify_heapam(regclass, boolean, boolean, text, bigint, bigint)",
        ):
            conn.execute(f"GRANT EXECUTE ON FUNCTION {function} TO opscheck_drill")
    with psycopg.connect(postgres.superuser_conninfo(pg_dir, port, "miraikakaku")) as conn:
        conn.execute("SET ROLE miraikakaku")
        data.load(conn, rows, now, shape)
        conn.execute("INSERT INTO users (username, password_sha256, created_at) VALUES (%s, %s, %s)",
                     (LOAD_USER, data.password_hash(secret_values["OPSCHECK_SANDBOX_LOAD_PASSWORD"]), now))  # fmt: skip
        conn.execute("RESET ROLE")
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        conn.commit()
        conn.autocommit = True
        postgres.vacuum_analyze(conn)


def _write_config(sandbox: Sandbox, state: State) -> None:
    """The application's configuration (what config_<ts>.tar.gz archives), the backup schedule and logrotate.

    The default shape keeps its schedule in one crontab; the manual shape as a deployment that follows the
    manual might: the hourly and daily jobs in a cron.d file (a user field, other spellings), the weekly as a
    systemd timer."""
    (sandbox.config_dir / "app.toml").write_text(
        "[cache]\nprediction_cache_ttl = 300\nmarket_data_cache_ttl = 60\nuser_session_ttl = 3600\n\n"
        "[database_pool]\nmin_connections = 1\nmax_connections = 8\npool_timeout = 30\ninstances = 1\n"
    )
    if of(state.shape).backup_job == "script":
        scripts = sandbox.root / "scripts"
        cron_d, timers = sandbox.root / "etc" / "cron.d", sandbox.root / "etc" / "systemd"
        cron_d.mkdir(parents=True, exist_ok=True)
        timers.mkdir(parents=True, exist_ok=True)
        (cron_d / "miraikakaku-backup").write_text(
            f"# m h dom mon dow user command\nCRON_TZ={of(state.shape).timezone}\nMAILTO=ops@miraikakaku.invalid\n"
            f"0 */1 * * * root {scripts}/hourly_backup.sh\n00 03 * * 0-6 root {scripts}/daily_backup.sh\n"
        )
        (timers / "miraikakaku-weekly-backup.timer").write_text(
            f"[Timer]\nOnCalendar=Sun *-*-* 04:00:00 {of(state.shape).timezone}\nPersistent=true\n\n"
            "[Install]\nWantedBy=timers.target\n"
        )
        (timers / "miraikakaku-weekly-backup.service").write_text(
            f"[Service]\nType=oneshot\nExecStart={scripts}/weekly_backup.sh\n"
        )
    else:
        job = f"{sys.executable} -m sandbox backup --dir {sandbox.root} --kind"
        (sandbox.config_dir / "crontab").write_text(
            f"0 * * * * {job} hourly\n0 3 * * * {job} daily\n0 4 * * 0 {job} weekly\n"
        )
    (sandbox.config_dir / "logrotate.conf").write_text(
        f"{sandbox.public(sandbox.logs)}/*.log {{\n    daily\n    rotate 14\n    maxsize 100M\n    compress\n"
        "    delaycompress\n    missingok\n    copytruncate\n}\n"
    )


def _write_plans(sandbox: Sandbox, now: datetime, shape: Shape) -> None:
    """Maintenance plans for the next days (in the shape's zone): a window, then nothing needed; the deploys of
    next week and the week after, reviewed (a sandbox alive when the week turns in its zone, as a CI run late on
    a Sunday is in Tokyo, still has next week's). The manual shape keeps them in dated folders, under other names."""
    if shape.name == "manual":
        _write_dated_plans(sandbox, now.astimezone(shape.zone))
        return
    tomorrow = now.date() + timedelta(days=1)
    (sandbox.plans / f"maintenance-{tomorrow}.md").write_text(
        f"# Maintenance {tomorrow}\n\n02:00-03:00 VACUUM ANALYZE, logrotate, restart. Owner: on-duty.\n"
    )
    (sandbox.plans / f"maintenance-{tomorrow + timedelta(days=1)}.none").write_text("")
    for year, week in _weeks_ahead(now):
        (sandbox.plans / f"deploy-{year}-W{week:02d}.md").write_text(
            f"# Deploys, week {week} of {year}\n\nTuesday: API 2.4 (prediction cache keys). Rollback: previous "
            "image.\nReviewed-by: tech lead\n"
        )


def _weeks_ahead(now: datetime) -> list[tuple[int, int]]:
    """(ISO year, week) of next week and the week after."""
    return [(when.isocalendar()[0], when.isocalendar()[1]) for when in (now + timedelta(weeks=n) for n in (1, 2))]


def _write_dated_plans(sandbox: Sandbox, now: datetime) -> None:
    for offset, needed in ((1, True), (2, False)):
        day = now.date() + timedelta(days=offset)
        folder = sandbox.plans / f"{day.year:04d}" / f"{day.month:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        if needed:
            (folder / f"{day}-maintenance-db.md").write_text(f"# {day}: VACUUM ANALYZE 02:00-03:00 JST\n")
        else:
            (folder / f"{day}-no-maintenance").write_text("")
    for year, week in _weeks_ahead(now):
        deploys = sandbox.plans / "deploy" / f"{year}-W{week:02d}"
        deploys.mkdir(parents=True, exist_ok=True)
        (deploys / "api-2.4.md").write_text(
            "# API 2.4\n\nTuesday 10:00 JST; rollback: previous image.\nApproved-by: 山田\n"
        )
        (deploys / "frontend-3.1.md").write_text("# Front end 3.1\n\nThursday.\n")


REVIEWS = {  # item → (note, evidence file, its text)
    "M4": ("DR plan read through", "dr-plan-review.md",
           "# DR plan review\n\nContacts, RTO 1 h and RPO 26 h checked; restore runbook unchanged.\n"),
    "X7": ("certbot renew --dry-run passed on the proxy", "certbot-dry-run.txt",
           "Congratulations, all simulated renewals succeeded:\n"
           "  /etc/letsencrypt/live/miraikakaku.jp/fullchain.pem\n"),
}  # fmt: skip


def attest_reviews(sandbox: Sandbox, days_ago: dict[str, float]) -> None:
    """What the on-duty engineer vouched for with `opscheck attest`, `days_ago[item]` days ago: the DR plan
    read (M4), and the certificate renewal's dry run on the proxy, where the sandbox has no certbot (X7)."""
    for item, age in days_ago.items():
        note, name, text = REVIEWS[item]
        evidence = sandbox.plans / name
        evidence.write_text(text)
        audit.attest(sandbox.trail, item, by="on-duty engineer", note=note, evidence=[evidence],
                     at=datetime.now(UTC) - timedelta(days=age))  # fmt: skip


def _make_backup_history(sandbox: Sandbox, state: State, now: datetime) -> None:
    """The sets the schedule would have left by now: hourly for 6 h, daily at 03:00 for 3 days, weekly on Sunday."""
    shape = of(state.shape)
    local_now = now.astimezone(shape.zone) if shape.backup_job == "script" else now.astimezone()
    hour = local_now.replace(minute=0, second=0, microsecond=0)
    three_am = local_now.replace(hour=3, minute=0, second=0, microsecond=0)
    if three_am > local_now:
        three_am -= timedelta(days=1)
    sunday = (local_now - timedelta(days=(local_now.weekday() + 1) % 7)).replace(
        hour=4, minute=0, second=0, microsecond=0
    )
    if sunday > local_now:
        sunday -= timedelta(days=7)
    planned = [("weekly", sunday - timedelta(days=7)), ("weekly", sunday + timedelta(minutes=5))]
    planned += [("daily", three_am - timedelta(days=d)) for d in (2, 1, 0)]
    planned += [("hourly", hour - timedelta(hours=h)) for h in (5, 4, 3, 2, 1, 0)]
    if shape.backup_job == "script":
        backup.write_scripts(sandbox, state)
        fired = {when for kind, when in planned if kind != "hourly"}  # the hourly job's dump there is the same
        for kind, when in sorted(planned, key=lambda p: p[1]):
            if kind != "hourly" or when not in fired:
                backup.run_script(sandbox, state, kind, when, backdate=True)
        return
    dump = sandbox.run_logs / "seed.sql"
    figures = backup.take_dump(sandbox, state, dump)
    taken = set()
    for kind, when in sorted(planned, key=lambda p: p[1]):
        if when.strftime("%Y%m%d_%H%M%S") in taken:
            when += timedelta(seconds=1)
        taken.add(when.strftime("%Y%m%d_%H%M%S"))
        backup.write_set(sandbox, kind, when, dump, figures)
    dump.unlink()


def health_urls(state: State) -> dict[str, str]:
    p = state.ports
    return {
        "api": f"https://127.0.0.1:{p['api']}/api/health",
        "frontend": f"http://127.0.0.1:{p['frontend']}/api/health",
        "streaming": f"http://127.0.0.1:{p['streaming']}/health",
        "monitoring": f"http://127.0.0.1:{p['monitoring']}/health",
        "advisories": f"http://127.0.0.1:{p['advisories']}/health",
    }


def wait_until_ready(sandbox: Sandbox, state: State, timeout_s: float = READY_TIMEOUT_S) -> None:
    context = ssl.create_default_context(cafile=str(sandbox.tls / "ca.pem"))
    pending = dict(health_urls(state))
    deadline = time.monotonic() + timeout_s
    with httpx.Client(timeout=2.0, verify=context) as client:
        while pending and time.monotonic() < deadline:
            for name, url in list(pending.items()):
                if NEEDS.get(name) in pending:
                    continue
                pid = state.pids.get(name)
                if pid is not None and not is_ours(pid, str(sandbox.root)):
                    raise SandboxError(f"the {name} process exited at start: see {sandbox.run_logs / (name + '.out')}")
                try:
                    if client.get(url).status_code == 200:
                        del pending[name]
                except httpx.HTTPError:
                    pass
            if pending:
                time.sleep(0.1)
    if pending:
        raise SandboxError(f"not healthy after {timeout_s:g} s: {', '.join(pending)} (see {sandbox.run_logs})")


# Blocks of stock_prices read from a warm cache at start: the W4 hit ratio of a system past its initial load, with
# room for what a fault's or a drill's reads from disk add (a few hundred blocks).
WARM_BLOCKS = 100_000


def warm_up(sandbox: Sandbox, state: State) -> None:
    """A little real traffic, so caches hold keys and the access log has lines, as on a live system; the database's
    statistics then count mostly a warm cache's reads (W4)."""
    context = ssl.create_default_context(cafile=str(sandbox.tls / "ca.pem"))
    base = f"https://127.0.0.1:{state.ports['api']}"
    with httpx.Client(base_url=base, timeout=5.0, verify=context) as client:
        for symbol in data.BASE_SYMBOLS[:5]:
            client.get(f"/api/predictions/{symbol}")
            client.get(f"/api/stock_prices/{symbol}")
        client.post("/api/auth/login", json={"username": data.DEMO_USER[0], "password": data.DEMO_USER[1]})
    with psycopg.connect(postgres.superuser_conninfo(Path(state.pg_dir), state.ports["postgres"], "miraikakaku"),
                         autocommit=True) as conn:  # fmt: skip
        postgres.read_prices(conn, WARM_BLOCKS, counted_afresh=False)


def down(sandbox: Sandbox) -> bool:
    """Stop everything this sandbox started; returns whether anything was running."""
    with sandbox.lock():
        return _down_unlocked(sandbox)


def _down_unlocked(sandbox: Sandbox) -> bool:
    state = sandbox.read_state()
    if state is None:
        return False
    marker = str(sandbox.root)
    stop_fault_processes(sandbox)
    for name, pid in state.pids.items():
        if name != "redis":
            stop_process(pid, marker)
    if "redis" in state.pids:
        stop_process(state.pids["redis"], marker)
    if state.pg_dir:
        pg_dir = Path(state.pg_dir)
        postgres.stop(pg_dir)
        postgres.remove(pg_dir)
    if state.data_mount:
        subprocess.run(["umount", state.data_mount], capture_output=True, timeout=30)
    (sandbox.root / "data.img").unlink(missing_ok=True)
    if state.cgroup:
        cgroup.remove(state.cgroup)
    if state.hosts:
        hosts.stop(sandbox, state)
    sandbox.state_file.unlink(missing_ok=True)
    return True


def status(sandbox: Sandbox) -> dict[str, bool]:
    """Which of the sandbox's parts are running, by name."""
    state = sandbox.read_state()
    if state is None:
        return {}
    marker = str(sandbox.root)
    running = {name: is_ours(pid, marker) for name, pid in state.pids.items()}
    running["postgres"] = bool(state.pg_dir) and postgres.is_running(Path(state.pg_dir))
    return running
