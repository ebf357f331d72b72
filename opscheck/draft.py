"""`opscheck targets draft` (Goss's autoadd, for this manual): look at a running deployment and write a target file
for the operator to review — the host's ports and processes, the database's tables (the sources of D2 and D9),
the logs and their formats, the backup root's layout and kinds, the backup schedule, logrotate, the plans.

Every value read off the deployment is written; every guess is marked `# guess:` with what it rests on, and what
could not be found is listed at the top as an edit to make.
"""

from __future__ import annotations

import json
import os
import shlex
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import testinfra

from opscheck.identity import SUITE_AGENTS
from opscheck.judge import drafting
from opscheck.judge.backup_kinds import Taken, kinds_by_schedule
from opscheck.judge.logformats import AccessFormat
from opscheck.target.backups import Backups

SAMPLE_LINES = 400


@dataclass
class Draft:
    """The drafted file, section by section, with the edits it could not make itself."""

    sections: dict[str, list[str]] = field(default_factory=dict)
    edits: list[str] = field(default_factory=list)

    def set(self, section: str, key: str, value: object, guess: str = "") -> None:
        line = f"{key} = {_toml(value)}"
        self.sections.setdefault(section, []).append(line + (f"  # guess: {guess}" if guess else ""))

    def render(self, name: str) -> str:
        head = [f"# Drafted by `opscheck targets draft` on {datetime.now().isoformat(timespec='seconds')}.",
                "# Review every `# guess:`, then `opscheck targets check FILE --connect`."]  # fmt: skip
        head += [f"# EDIT: {edit}" for edit in self.edits] or ["# Nothing left to fill in."]
        body = [f'name = "{name}"']
        for section, lines in self.sections.items():
            body += ["", f"[{section}]", *lines] if section else lines
        return "\n".join([*head, "", *body]) + "\n"


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and ("\\" in value or '"' in value) and "'" not in value:
        return f"'{value}'"  # a literal string: regular expressions and log formats stay readable
    return json.dumps(value, ensure_ascii=False)


def draft(options: dict) -> str:
    """The target file for what `options` points at (host URL, database, paths): see `opscheck targets draft -h`."""
    result = Draft()
    zone = options["timezone"]
    result.sections[""] = [f'timezone = "{zone}"']
    if options.get("ca_bundle"):
        result.set("http", "ca_bundle", str(options["ca_bundle"]))
    host = testinfra.get_host(options["host"])
    for name in ("api", "frontend"):
        if options.get(name):
            result.set(f"components.{name}", "base_url", options[name])
            result.set(f"components.{name}", "health", ["/health", "/api/health"] if name == "api" else ["/api/health"],
                       "the manual's health paths")  # fmt: skip
    _host(result, host, options)
    if options.get("postgres_host"):
        _postgres(result, options)
    else:
        result.edits.append("[postgres]: name the database (--postgres-host, --postgres-user) to draft D2 and D9")
    if options.get("redis"):
        result.set("redis", "url", options["redis"])
        if options.get("redis_password_env"):
            result.set("redis", "password_env", options["redis_password_env"])
        secret = os.environ.get(options.get("redis_password_env") or "", "")
        auth = f"REDISCLI_AUTH={shlex.quote(secret)} " if secret else ""
        stream = host.run(f"{auth}redis-cli -u {shlex.quote(options['redis'])} TYPE ticks 2>/dev/null")
        if stream.rc == 0 and stream.stdout.strip() == "none":
            result.set("redis", "stream", False, "no key named ticks in Redis")
        elif stream.rc != 0 or stream.stdout.strip() != "stream":
            result.edits.append("[redis] stream: could not tell whether the tick stream is there (redis-cli)")
    _logs(result, host, options)
    if options.get("backups"):
        _backups(result, host, options, ZoneInfo(zone))
    if options.get("plans"):
        _plans(result, host, Path(options["plans"]))
    result.edits.append(
        "[attestations] trail: where `opscheck attest` keeps the team's word (M4 DR review, X7 "
        "renewal where the host has no certbot); until one is recorded, those checks fail"
    )
    return result.render(options["name"])


def _host(result: Draft, host, options: dict) -> None:
    result.sections["[hosts]"] = [f'name = "{options["host_name"]}"', f'url = "{options["host"]}"',
                                  'roles = ["api", "frontend", "postgres", "redis", "backup"]  # guess: one host '
                                  "holds every part; split them if not"]  # fmt: skip
    listening = host.run("ss -Htln 2>/dev/null || netstat -tln")
    ports = sorted({line.split()[3] for line in listening.stdout.splitlines() if len(line.split()) > 4})
    wanted = options.get("ports") or []
    listens = [f"tcp://{p}" for p in ports if not wanted or p.rsplit(":", 1)[-1] in wanted]
    result.sections["[hosts]"].append(f"listens = {_toml(listens)}  # guess: what listens now")
    processes = host.run("ps -eo args")
    keywords = options.get("processes") or ["uvicorn", "gunicorn", "next start", "nginx: master", "realtime_streaming",
                                            "monitoring_alert", "simple_api_server"]  # fmt: skip
    found = sorted({k for line in processes.stdout.splitlines() for k in keywords if k in line})
    result.sections["[hosts]"].append(f"processes = {_toml(found)}  # guess: what runs now, by name")
    if options.get("cgroup"):
        result.sections["[hosts]"].append(f"cgroup = {_toml(options['cgroup'])}")
    if not found:
        result.edits.append("[[hosts]] processes: none of the platform's processes recognised; name them (--process)")


def _postgres(result: Draft, options: dict) -> None:
    for key in ("host", "port", "dbname", "user", "password_env"):
        if options.get(f"postgres_{key}"):
            result.set("postgres", key, options[f"postgres_{key}"])
    result.set("postgres", "sslmode", options.get("postgres_sslmode") or "prefer")
    password = os.environ.get(options.get("postgres_password_env") or "")
    try:
        with psycopg.connect(host=options["postgres_host"], port=options.get("postgres_port") or 5432,
                             dbname=options.get("postgres_dbname") or "miraikakaku", user=options["postgres_user"],
                             password=password, connect_timeout=5, sslmode=options.get("postgres_sslmode") or "prefer",
                             options="-c default_transaction_read_only=on") as conn:  # fmt: skip
            rows = conn.execute("SELECT table_name, column_name FROM information_schema.columns"
                                " WHERE table_schema = 'public' ORDER BY ordinal_position").fetchall()  # fmt: skip
            tables: dict[str, list[str]] = {}
            for table, column in rows:
                tables.setdefault(table, []).append(column)
            for kind in ("batch", "predictions"):
                found = drafting.source(kind, tables)
                if found is None:
                    result.edits.append(f"[{kind}] source: no table looks like the {kind} table; write its query")
                    continue
                result.set(kind, "source", found.sql, found.why)
                if kind == "batch":
                    status, job = found.columns["status"], found.columns["job"]
                    values = [str(r[0]) for r in conn.execute(f"SELECT DISTINCT {status} FROM {found.table} LIMIT 50")]
                    ok = drafting.succeeded(values)
                    result.set("batch", "succeeded", ok or ["succeeded"], f"of {', '.join(values)}")
                    jobs = sorted(str(r[0]) for r in conn.execute(f"SELECT DISTINCT {job} FROM {found.table}"))
                    result.set("batch", "jobs", jobs, "the jobs recorded")
    except psycopg.Error as exc:
        result.edits.append(f"[postgres]: could not read the schema ({' '.join(str(exc).split())[:200]})")


def _sample(host, path: str) -> list[bytes]:
    tail = host.run(f"tail -n {SAMPLE_LINES} {shlex.quote(path)}")
    return [line.encode() for line in tail.stdout.splitlines() if line.strip()] if tail.rc == 0 else []


def _logs(result: Draft, host, options: dict) -> None:
    folder = options.get("logs_dir") or "/var/log/miraikakaku"
    for name, file in (("app", "api.log"), ("frontend", "frontend.log"), ("alerts", "alerts.log")):
        path = f"{folder}/{file}"
        if host.file(path).exists:
            result.set("logs", name, path)
    access = options.get("access_log") or "/var/log/nginx/access.log"
    if host.file(access).exists:
        result.set("logs", "access", access)
        guess = drafting.access_format(_sample(host, access))
        if guess is None:
            result.edits.append(f"[logs] access_format: no known format reads {access}; copy nginx's log_format")
        else:
            log_format, client = guess.value  # type: ignore[misc]
            result.set("logs", "access_format", log_format, guess.why)
            result.set("logs", "access_client", client, "where the clients' addresses are")
            _suite_clients(result, host, access, AccessFormat.of(log_format, client))
    else:
        result.edits.append(f"[logs] access: no access log at {access} (--access-log PATH)")
    app = f"{folder}/api.log"
    if host.file(app).exists:
        guess = drafting.app_format(_sample(host, app))
        if guess is None:
            result.edits.append(f"[logs] app_format: no known pattern reads {app}; write one with time, level, message")
        else:
            pattern, time_format = guess.value  # type: ignore[misc]
            result.set("logs", "app_format", pattern, guess.why)
            result.set("logs", "app_time_format", time_format)
    logrotate = options.get("logrotate") or "/etc/logrotate.d/miraikakaku"
    if host.file(logrotate).exists:
        result.set("logs", "logrotate_config", logrotate)


def _suite_clients(result: Draft, host, access: str, form: AccessFormat) -> None:
    """The addresses the suite's own probes, scans and load come from: trusted by the security checks (X1-X3)."""
    ours = host.run(f"grep -a opscheck- {shlex.quote(access)} | tail -n {SAMPLE_LINES}")
    records = [r for line in ours.stdout.splitlines() if (r := form.parse(line.encode())) is not None]
    clients = sorted({r.client for r in records if r.agent.startswith(SUITE_AGENTS)})
    if clients:
        result.set("security", "trusted_clients", clients, "where the suite's own probes and scans come from")


def _backups(result: Draft, host, options: dict, zone: ZoneInfo) -> None:
    root = options["backups"]
    result.set("backups", "root", root)
    listed = host.run(f"find {shlex.quote(root)} -mindepth 2 -maxdepth 2 -printf '%P\\n'")
    files: dict[str, list[str]] = {}
    for line in listed.stdout.splitlines():
        folder, _, name = line.partition("/")
        files.setdefault(folder, []).append(name)
    spec = Backups(root=Path(root))
    taken, named = [], 0
    for folder, names in sorted(files.items()):
        try:
            stamp = datetime.strptime(folder, spec.set_name).replace(tzinfo=zone)
        except ValueError:
            continue
        named += 1
        parts = sum(any(Path(n).match(p) for n in names for p in getattr(spec.parts, part))
                    for part in ("database", "config", "logs"))  # fmt: skip
        taken.append(Taken(folder, stamp, parts))
    if not named:
        result.edits.append(f"[backups] set_name: no folder in {root} is named like {spec.set_name}")
        return
    kinds = kinds_by_schedule(taken, spec.schedules, timedelta(minutes=spec.kind_window_minutes))
    counts = {k: sum(1 for v in kinds.values() if v == k) for k in ("hourly", "daily", "weekly")}
    result.sections["backups"].append(
        f"# found {named} sets: {', '.join(f'{n} {k}' for k, n in counts.items())} by the manual's schedule"
    )
    every = [n for names in files.values() for n in names]
    if not any(n == spec.manifest for n in every):
        result.set("backups", "require_manifest", False, "no set holds a SHA256SUMS")
    if options.get("offsite"):
        result.set("backups", "offsite", options["offsite"])
    _schedules(result, host, options)


def _schedules(result: Draft, host, options: dict) -> None:
    """Where the backup jobs are scheduled: the crontab, cron.d files, systemd timers naming a backup script."""
    cron_dirs = " ".join(shlex.quote(d) for d in options.get("cron_dirs") or ["/etc/cron.d"])
    unit_dirs = " ".join(shlex.quote(d) for d in options.get("timer_dirs") or ["/etc/systemd/system"])
    crontab = host.run("crontab -l 2>/dev/null")
    files = host.run(f"grep -ls backup /etc/crontab $(find {cron_dirs} -maxdepth 1 -type f 2>/dev/null) 2>/dev/null")
    units = host.run(f"grep -ls backup $(find {unit_dirs} -maxdepth 1 -name '*.service' 2>/dev/null) 2>/dev/null")
    cron_files = sorted(set(files.stdout.split()))
    timers = [u.removesuffix(".service") + ".timer" for u in units.stdout.split()]
    timers = [u for u in timers if host.file(u).exists]
    if cron_files:
        result.set("backups", "cron_files", cron_files, "the cron files that name a backup")
    if timers:
        result.set("backups", "timers", timers, "the systemd timers whose service runs a backup")
    if "backup" not in crontab.stdout:
        result.set("backups", "crontab", "/dev/null", "the user's crontab names no backup")
        if not cron_files and not timers:
            result.edits.append("[backups] no crontab, cron.d file or timer names a backup job: say where (B1)")


def _plans(result: Draft, host, folder: Path) -> None:
    result.set("plans", "dir", str(folder))
    listed = host.run(f"find {shlex.quote(str(folder))} -type f -printf '%P\\n'")
    patterns = drafting.plan_patterns(sorted(listed.stdout.splitlines()))
    for kind in ("maintenance", "no_maintenance", "deploy", "no_deploy"):
        if kind in patterns:
            result.set("plans", kind, patterns[kind], "from the plan files' names")
        elif not kind.startswith("no_"):
            result.edits.append(f"[plans] {kind}: no {kind} plan found in {folder}")
    deploys = [line for line in listed.stdout.splitlines() if "deploy" in line.lower() and line.endswith(".md")]
    texts = [host.file(str(folder / d)).content_string for d in deploys[:20]]
    review = drafting.review_line(texts)
    if review is not None:
        result.set("plans", "reviewed", review.value, review.why)
