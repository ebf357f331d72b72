"""The sandbox's shapes: the same platform laid out two ways, so no check can pass only on the shape it was written on.

`default` is the sandbox opscheck grew up with: its tables, a backup job that records a manifest and
figures, flat plans, a tick stream, nginx's combined log. `manual` is built literally from the
operations manual and what a deployment that follows it leaves: the manual's own daily_backup.sh (no
manifest, no record), tables and columns named otherwise, plans in dated folders, no tick stream,
another access-log format (nginx's `main` with the forwarded address) and application log (ISO times,
Tokyo), failed logins written `user=… ip=…`. Every service reads its shape from the sandbox's state.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

SHAPES = ("default", "manual")
PROXY = "10.0.0.2"  # the manual shape's nginx sees its load balancer; the client is in X-Forwarded-For
MANUAL_ACCESS_FORMAT = (
    '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" '
    '"$http_user_agent" "$http_x_forwarded_for" rt=$request_time'
)
MANUAL_APP_FORMAT = r"\[(?P<time>[^\]]+)\] (?P<level>[A-Z]+) (?P<logger>[\w.]+): (?P<message>.*)"


@dataclass(frozen=True)
class Shape:
    name: str
    timezone: str
    batch_table: str  # the nightly jobs' runs
    batch: dict[str, str]  # the sandbox's own column name → this shape's
    statuses: dict[str, str]  # succeeded/failed/running → this shape's value
    predictions_table: str
    predictions: dict[str, str]
    stream: bool  # the streaming engine writes a Redis stream (else it publishes on a channel)
    backup_job: str  # "recorded": a manifest and backup.json; "script": the manual's daily_backup.sh
    price_constraints: bool  # stock_prices unique on (symbol, date) and CHECKed (sandbox.data); the manual's: neither

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def col(self, table: str, name: str) -> str:
        """A column of the batch or predictions table, as this shape names it."""
        return (self.batch if table == "batch" else self.predictions).get(name, name)

    # --- logs -------------------------------------------------------------------------------------------

    def access_line(self, client: str, moment: datetime, method: str, path: str, status: int, size: int,
                    seconds: float, agent: str) -> str:  # fmt: skip
        """One access-log line as this shape's nginx writes it."""
        if self.name == "default":
            stamp = moment.astimezone(UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")
            return f'{client} - - [{stamp}] "{method} {path} HTTP/1.1" {status} {size} "-" "{agent}" {seconds:.3f}\n'
        stamp = moment.astimezone(self.zone).strftime("%d/%b/%Y:%H:%M:%S %z")
        forwarded = client if client != PROXY else "-"
        return (f'{PROXY} - - [{stamp}] "{method} {path} HTTP/1.1" {status} {size} "-" "{agent}" "{forwarded}" '
                f"rt={seconds:.3f}\n")  # fmt: skip

    def app_line(self, moment: datetime, level: str, logger: str, message: str) -> str:
        """One application-log line as this shape's logging writes it."""
        if self.name == "default":
            stamp = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S,") + f"{moment.microsecond // 1000:03d}"
            return f"{stamp} {level} {logger} {message}\n"
        stamp = moment.astimezone(self.zone).isoformat(timespec="milliseconds")
        return f"[{stamp}] {APP_LEVELS.get(level, level)} {logger}: {message}\n"

    def formatter(self) -> logging.Formatter:
        """The application logs' formatter, for the services' logging."""
        shape = self

        class Formatter(logging.Formatter):
            def format(self, record: logging.LogRecord) -> str:
                moment = datetime.fromtimestamp(record.created, UTC)
                return shape.app_line(moment, record.levelname, record.name, record.getMessage()).rstrip("\n")

        return Formatter()

    def failed_login(self, user: str, client: str) -> str:
        if self.name == "default":
            return f"authentication failed for user={user} from {client}"
        return f"login failed: user={user} ip={client}"


APP_LEVELS = {"WARNING": "WARN"}  # the manual shape's logging writes nginx-style short level names

DEFAULT = Shape(
    name="default", timezone="UTC",
    batch_table="batch_runs", batch={}, statuses={"succeeded": "succeeded", "failed": "failed", "running": "running"},
    predictions_table="predictions", predictions={}, stream=True, backup_job="recorded",
    price_constraints=True,
)  # fmt: skip
MANUAL = Shape(
    name="manual", timezone="Asia/Tokyo",
    batch_table="job_history",
    batch={"job": "job_name", "started_at": "start_time", "finished_at": "end_time", "status": "state",
           "rows_processed": "records", "message": "detail"},
    statuses={"succeeded": "SUCCESS", "failed": "FAILED", "running": "RUNNING"},
    predictions_table="forecasts",
    predictions={"symbol": "ticker", "made_at": "created", "target_date": "horizon_date", "correct": "hit",
                 "model_version": "model"},
    stream=False, backup_job="script", price_constraints=False,
)  # fmt: skip


def of(name: str) -> Shape:
    return {"default": DEFAULT, "manual": MANUAL}[name]
