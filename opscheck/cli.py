"""The `opscheck` command: validate target files; other sub-commands (`sandbox`, …) plug in by entry point."""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, date, datetime
from importlib.metadata import entry_points
from pathlib import Path

from opscheck import __version__, draft, explain, serve
from opscheck.catalogue import catalogue
from opscheck.errors import OpscheckError, ProbeError
from opscheck.probes.postgres import Database
from opscheck.record import audit, unfinished
from opscheck.target.components import COMPONENT_TITLES
from opscheck.target.data import BATCH_COLUMNS, PREDICTION_COLUMNS
from opscheck.target.loader import LoadedTarget, load_target
from opscheck.target.selection import available_targets, choose_target

COMMAND_GROUP = "opscheck.commands"
REPO = Path(__file__).resolve().parent.parent
TARGETS_DIR = REPO / "targets"  # as pytest's --target
CHECKS_DIR = REPO / "checks"


def _reports_dir(parser: argparse.ArgumentParser, default: Path = Path("reports")) -> None:
    """Where the run folders and the audit chain are: $OPSCHECK_REPORTS_DIR, else `default`."""
    parser.add_argument("--reports-dir", type=Path, default=Path(os.environ.get(audit.REPORTS_ENV, default)))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    plugged = {ep.name: ep for ep in entry_points(group=COMMAND_GROUP)}
    if argv and argv[0] in plugged:
        return plugged[argv[0]].load()(argv[1:])
    parser = argparse.ArgumentParser(prog="opscheck", description="The Miraikakaku operations manual as checks.")
    parser.add_argument("--version", action="version", version=f"opscheck {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    targets = commands.add_parser("targets", help="target files").add_subparsers(dest="action", required=True)
    targets.add_parser("list", help="the names --target accepts: files under targets/ and providers such as sandbox")
    check = targets.add_parser("check", help="validate a target without running any check")
    check.add_argument("file", metavar="NAME|PATH", help="what --target accepts: a name under targets/, a provider "
                       "such as sandbox, or a path")  # fmt: skip
    check.add_argument(
        "--connect",
        action="store_true",
        help="also run every declared database source with LIMIT 0, read-only, and name what is missing",
    )
    sketch = targets.add_parser("draft", help="look at a running deployment and draft a target file to review")
    sketch.add_argument("--name", default="production")
    sketch.add_argument("--timezone", default="Asia/Tokyo", help="where the platform runs (default Asia/Tokyo)")
    sketch.add_argument("--host", default="local://", help="the testinfra URL of the host to look at")
    sketch.add_argument("--host-name", default="app1")
    sketch.add_argument("--api", help="the API's base URL"), sketch.add_argument("--frontend", help="the front end's")
    sketch.add_argument("--ca-bundle", type=Path, help="a private CA the HTTPS endpoints are signed by")
    for key in ("host", "port", "dbname", "user", "password-env", "sslmode"):
        sketch.add_argument(f"--postgres-{key}", type=int if key == "port" else str)
    sketch.add_argument("--redis", help="redis://host:port/db"), sketch.add_argument("--redis-password-env")
    sketch.add_argument("--logs-dir", help="default /var/log/miraikakaku")
    sketch.add_argument("--access-log", help="default /var/log/nginx/access.log")
    sketch.add_argument("--logrotate", help="default /etc/logrotate.d/miraikakaku")
    sketch.add_argument("--backups", help="the backup root (the manual's /backup/miraikakaku)")
    sketch.add_argument("--offsite", help="a local mount of the off-site copy")
    sketch.add_argument("--plans", help="the plans folder")
    sketch.add_argument(
        "--cron-dir", dest="cron_dirs", action="append", help="cron.d-style folder (default /etc/cron.d)"
    )
    sketch.add_argument(
        "--timer-dir", dest="timer_dirs", action="append", help="systemd units (default /etc/systemd/system)"
    )
    sketch.add_argument("--port", dest="ports", action="append", help="a port the platform listens on (repeatable)")
    sketch.add_argument("--process", dest="processes", action="append", help="a process's name (repeatable)")
    sketch.add_argument("--cgroup", help="the platform's cgroup on the host (a container's): D6 judges its CPU and "
                        "memory rather than the whole machine's")  # fmt: skip
    sketch.add_argument("-o", "--output", type=Path, help="where to write it (default: stdout)")
    trail = commands.add_parser("audit", help="the audit trail of runs").add_subparsers(dest="action", required=True)
    for action, text in (("verify", "check that every run is intact and the chain unbroken"), ("list", "the runs"),
                         ("prune", "remove old run folders, recording it in the chain")):  # fmt: skip
        sub = trail.add_parser(action, help=text)
        _reports_dir(sub)
        if action == "prune":
            sub.add_argument("--keep-days", type=float, required=True, help="keep runs finished this recently")
    commands.add_parser("items", help="every manual item: ID, both wordings, when, how many checks")
    explaining = commands.add_parser("explain", help="one item in the manual's words: its checks, levels, "
                                     "settings, the faults that prove it, the remedy")  # fmt: skip
    explaining.add_argument("item", help="the checklist ID, e.g. D5")
    vouch = commands.add_parser("attest", help="record that you vouch for a manual item (M4: DR plan reviewed, …)")
    vouch.add_argument("item", help="the checklist ID, e.g. M4")
    vouch.add_argument("--by", required=True, help="who attests (a name the auditor can ask)")
    vouch.add_argument("--note", default="", help="what was done, and where to read more")
    vouch.add_argument("--evidence", type=Path, action="append", default=[], help="a file kept with it (repeatable)")
    _reports_dir(vouch)
    accept = commands.add_parser("waive", help="accept a known failure of an item until a date (InSpec's waiver): "
                                 "it shows as WAIVED and does not fail runs; kept in the audit chain")  # fmt: skip
    accept.add_argument("item", help="the checklist ID, e.g. D8")
    accept.add_argument("--until", required=True, type=date.fromisoformat, help="the last day it applies (YYYY-MM-DD)")
    accept.add_argument("--why", required=True, help="the reason, and what is being done about it")
    accept.add_argument("--by", required=True, help="who accepts the risk (a name the auditor can ask)")
    _reports_dir(accept)
    timer = commands.add_parser("serve", help="run a schedule on a timer; answer /healthz, /metrics and the "
                                "reports folder over HTTP (loopback by default)")  # fmt: skip
    timer.add_argument("--target", required=True, help="what pytest's --target accepts")
    timer.add_argument("--schedule", required=True, help="the -m selection, e.g. daily or intraday")
    timer.add_argument("--every", default="10m", help="how often: 30s, 10m, 2h (default 10m); never two runs at once")
    timer.add_argument("--item", help="only these manual items, as pytest --item")
    timer.add_argument("--fail-on", help="as pytest --fail-on: /healthz is 503 when the run fails at it")
    timer.add_argument("--host", default="127.0.0.1", help="the address to listen on (default loopback only)")
    timer.add_argument("--port", type=int, default=9469, help="default 9469")
    timer.add_argument("--run-timeout", type=float, default=1800, help="stop a run after this many seconds")
    _reports_dir(timer, REPO / "reports")
    for name in plugged:
        commands.add_parser(name, help=f"(plugin) see `opscheck {name} --help`")
    args = parser.parse_args(argv)
    try:
        if args.command == "audit":
            if args.action == "prune":
                return _audit_prune(args.reports_dir, args.keep_days)
            return _audit_verify(args.reports_dir) if args.action == "verify" else _audit_list(args.reports_dir)
        if args.command == "attest":
            return _attest(args)
        if args.command == "waive":
            return _waive(args)
        if args.command == "serve":
            extra = [f"--item={args.item}"] * bool(args.item) + [f"--fail-on={args.fail_on}"] * bool(args.fail_on)
            return serve.serve(args.target, args.schedule, args.every, args.host, args.port, args.reports_dir, extra,
                               args.run_timeout, REPO)  # fmt: skip
        if args.command == "items":
            print(explain.items_text(CHECKS_DIR))
            return 0
        if args.command == "explain":
            print(explain.explain_text(args.item.upper(), CHECKS_DIR))
            return 0
        if args.action == "draft":
            return _targets_draft(args)
        if args.action == "list":
            return _targets_list()
        return _targets_check(args.file, args.connect)
    except OpscheckError as exc:
        print(f"opscheck: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `opscheck items | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _attest(args: argparse.Namespace) -> int:
    if args.item not in catalogue():
        raise OpscheckError(f"{args.item} is not a checklist item; `opscheck items` lists them")
    missing = [str(p) for p in args.evidence if not p.is_file()]
    if missing:
        raise OpscheckError(f"no such evidence file: {', '.join(missing)}")
    record = audit.attest(args.reports_dir, args.item, args.by, args.note, args.evidence)
    print(f"{args.item} attested by {args.by} at {record['at'][:19]}; kept in {args.reports_dir / audit.CHAIN}")
    return 0


def _waive(args: argparse.Namespace) -> int:
    item = args.item.upper()
    if item not in catalogue():
        raise OpscheckError(f"{args.item} is not a checklist item; `opscheck items` lists them")
    if args.until < datetime.now(UTC).date():
        raise OpscheckError(f"--until {args.until} is in the past: a waiver must end on a day still to come")
    audit.waive(args.reports_dir, item, args.until, args.why, args.by)
    print(f"{item} waived until {args.until} by {args.by}: {args.why}; kept in {args.reports_dir / audit.CHAIN}")
    return 0


def _audit_prune(reports: Path, keep_days: float) -> int:
    removed = audit.prune(reports, keep_days)
    print(f"pruned {len(removed)} run(s) older than {keep_days:g} days from {reports}; recorded in {audit.CHAIN}")
    return 0


def _audit_verify(reports: Path) -> int:
    checked, findings = audit.verify(reports)
    for finding in findings:
        print(f"TAMPERED {finding}")
    for facts in unfinished.pending(reports):
        print(f"UNFINISHED {unfinished.describe(facts)}: killed or crashed; the next run seals it as incomplete")
    print(
        f"{reports / audit.CHAIN}: {checked} record(s); "
        + ("intact" if not findings else f"{len(findings)} problem(s)")
    )
    return 1 if findings else 0


def _audit_list(reports: Path) -> int:
    chain = reports / audit.CHAIN
    if not chain.exists():
        print(f"no audit chain at {chain}")
        return 1
    for line in chain.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        kind = record.get("kind")
        if kind == "attestation":
            print(f"{record['at'][:19]}  attestation  {record['item']} by {record['by']}: {record.get('note', '')}")
        elif kind == "waiver":
            print(f"{record['at'][:19]}  waiver       {record['item']} until {record['until']} by {record['by']}: "
                  f"{record['why']}")  # fmt: skip
        elif kind == "prune":
            runs, days = len(record["runs"]), record["keep_days"]
            print(f"{record['at'][:19]}  pruned       {runs} run(s) older than {days:g} days")
        else:
            failed = ", ".join(f"{n} {lv}" for lv, n in (record.get("failed_by_level") or {}).items()) or "no failure"
            print(f"{record.get('finished', '')[:19]}  {record.get('target')!s:12} "
                  f"{record.get('selection') or 'all'!s:18} exit {record.get('exit_status')}  {failed}  "
                  f"{record.get('run_id')}")  # fmt: skip
    return 0


def _targets_list() -> int:
    for name in available_targets(TARGETS_DIR):
        file = TARGETS_DIR / f"{name}.toml"
        print(f"{name:16} {file if file.is_file() else '(provider)'}")
    return 0


def _targets_check(choice: str, connect: bool = False) -> int:
    """The same resolution as `--target`: a provider is started for the check if need be, and stopped after."""
    provided = choose_target(choice, TARGETS_DIR)
    os.environ.update(provided.environ)
    try:
        target = load_target(provided.path)
        spec = target.spec
        present = [title for name, title in COMPONENT_TITLES.items() if spec.component(name)]
        absent = [title for name, title in COMPONENT_TITLES.items() if not spec.component(name)]
        print(f"{provided.path}: valid target {spec.name!r}")
        print(f"  components: {', '.join(present) or 'none'}" + (f" (absent: {', '.join(absent)})" if absent else ""))
        print(f"  PostgreSQL: {'yes' if spec.postgres else 'no'}; Redis: {'yes' if spec.redis else 'no'};"
              f" hosts: {', '.join(h.name for h in spec.hosts) or 'none'}")  # fmt: skip
        return _check_sources(target) if connect else 0
    finally:
        if provided.stop is not None:
            provided.stop()


def _targets_draft(args: argparse.Namespace) -> int:
    options = {k: v for k, v in vars(args).items() if k not in ("command", "action", "output")}
    text = draft.draft({k: str(v) if isinstance(v, Path) else v for k, v in options.items()})
    if args.output is None:
        print(text, end="")
    else:
        args.output.write_text(text, encoding="utf-8")
        edits = [line for line in text.splitlines() if line.startswith("# EDIT:")]
        print(f"drafted {args.output}: review every '# guess:'" + (f"; {len(edits)} edit(s) to make:" if edits else ""))
        for line in edits:
            print("  " + line.removeprefix("# EDIT: "))
    return 0


def _check_sources(target: LoadedTarget) -> int:
    """Every query the target declares, asked for its columns only: a missing table or column, one line each."""
    spec = target.spec
    if spec.postgres is None:
        print("  sources: none to check (no [postgres])")
        return 0
    sources = [("[batch] source", spec.batch.source, BATCH_COLUMNS)]
    if not spec.predictions.accuracy_url:
        sources.append(("[predictions] source", spec.predictions.source, PREDICTION_COLUMNS))
    sources += [(f"[[integrity.rules]] {r.name}", r.sql, ()) for r in spec.integrity.rules]
    db = Database(spec.postgres, target.secret(spec.postgres.password_env))
    failed = 0
    try:
        for what, sql, wanted in sources:
            try:
                names = db.columns_of(what, sql)
            except ProbeError as exc:
                print(f"  FAIL {what}: {exc.cause}")
                failed += 1
                if exc.part == Database.part:  # the server itself cannot be reached: nothing more to ask
                    break
                continue
            missing = [c for c in wanted if c not in names]
            if missing:
                print(f"  FAIL {what}: returns no column {', '.join(missing)} (it returns {', '.join(names)})")
                failed += 1
            else:
                print(f"  ok   {what}: {', '.join(names)}")
    finally:
        db.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
