"""Target files: one TOML file describes one deployment; a bad file is refused before any check runs.

Secrets never live in the file: it names the environment variables that hold them.
"""

from __future__ import annotations

import os
import tomllib
import zoneinfo
from datetime import date
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from opscheck.errors import TargetError

Seconds = Annotated[float, Field(gt=0, le=300)]
Percent = Annotated[float, Field(gt=0, le=100)]

COMPONENT_TITLES = {
    "api": "API server (FastAPI)",
    "frontend": "front end (Next.js)",
    "ml_engine": "ML engine",
    "streaming_engine": "streaming engine",
    "monitoring": "monitoring / alerting",
}


def http_url(value: str) -> str:
    """An http(s) URL without a password in it, and without a trailing slash."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"must be an http:// or https:// URL, got {without_userinfo(value)!r}")
    if parts.password:
        raise ValueError("must not hold a password; name an environment variable instead")
    return value.rstrip("/")


class Section(BaseModel):
    """Every section refuses keys it does not know: a typo must not become a silent default."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Http(Section):
    timeout_s: Seconds = 5.0
    ca_bundle: Path | None = None


class Component(Section):
    base_url: str
    health: list[str] = ["/health"]
    # What a user or client loads first; nothing answering it is how "the system is down" looks from outside.
    entry: str = "/"

    _base_url = field_validator("base_url")(lambda cls, value: http_url(value))

    def health_urls(self) -> list[str]:
        return [self.base_url + path for path in self.health]


class Components(Section):
    api: Component | None = None
    frontend: Component | None = None
    ml_engine: Component | None = None
    streaming_engine: Component | None = None
    monitoring: Component | None = None


class Postgres(Section):
    host: str
    port: int = Field(5432, ge=1, le=65535)
    dbname: str = "miraikakaku"
    user: str
    password_env: str | None = None
    sslmode: Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] = "prefer"
    # libpq will not wait less than 2 s for a connection.
    connect_timeout_s: int = Field(3, ge=2, le=60)
    statement_timeout_ms: int = Field(5000, ge=100, le=600_000)


class Redis(Section):
    url: str
    password_env: str | None = None
    timeout_s: Seconds = 3.0
    # Key pattern → the longest TTL (seconds) its keys may have; a key with no TTL is a leak (P5).
    ttl_policy: dict[str, Annotated[int, Field(gt=0)]] = {"prediction:*": 300, "market:*": 60, "session:*": 3600}
    ttl_sample: Annotated[int, Field(ge=1, le=10_000)] = 200
    # The streaming engine's tick stream, and how old its newest entry may be.
    stream: str | None = "ticks"
    stream_max_age_s: Seconds = 10.0

    @field_validator("url")
    @classmethod
    def _redis_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("redis", "rediss") or not parts.hostname:
            raise ValueError(f"must be a redis:// or rediss:// URL, got {without_userinfo(value)!r}")
        if parts.password:
            raise ValueError("must not hold a password; set password_env to a variable's name")
        return value


class Host(Section):
    name: str
    url: str = "local://"
    roles: list[str] = []
    # What must be listening (tcp://ADDRESS:PORT) and running (a command-line substring) there (T1).
    listens: list[str] = []
    processes: list[str] = []
    # Where the platform keeps data, logs and backups on this host: T3 watches their file systems.
    disk_paths: list[Path] = []
    # D6: CPU and memory are judged inside this cgroup (a container's view: its quota, its limit), given
    # relative to /sys/fs/cgroup (v1 or v2); without one, the whole machine. `watch_resources = false` skips.
    cgroup: str | None = None
    watch_resources: bool = True
    # D11: the value of `{instance}` in the [metrics] queries for this host; the host's name when unset.
    metrics_instance: str | None = None
    # MM1: where apt keeps its state on this host (apt's Dir); unset: the host's own (/). Debian/Ubuntu hosts.
    apt_root: Path | None = None
    apt_lists_max_age_days: Annotated[float, Field(gt=0)] = 7.0  # older package lists cannot tell what is pending

    def instance(self) -> str:
        return self.metrics_instance or self.name


class Logs(Section):
    app: Path | None = None  # the API's application log (api.log)
    frontend: Path | None = None
    access: Path | None = None  # nginx combined format with $request_time appended
    alerts: Path | None = None  # what the monitoring system raised
    daily_window_hours: Annotated[float, Field(gt=0)] = 24.0  # the morning's "since the last check"
    intraday_window_hours: Annotated[float, Field(gt=0)] = 2.0  # the every-2-hours block
    max_silence_minutes: Annotated[float, Field(gt=0)] = 15.0  # the access log must have a line this recent
    # W7: the logrotate configuration on the hosts with role "api" (run with `logrotate --debug`), and the
    # size no live log may pass (the manual's `maxsize 100M`).
    logrotate_config: Path | None = None
    max_size_mb: Annotated[float, Field(gt=0)] = 100.0

    def declared(self) -> dict[str, Path]:
        named = {"app": self.app, "frontend": self.frontend, "access": self.access, "alerts": self.alerts}
        return {name: path for name, path in named.items() if path is not None}


class Backups(Section):
    root: Path
    offsite: Path | None = None
    # D5: a daily dump smaller than this share of the one before is a failure (lost data on the way).
    min_size_ratio: Annotated[float, Field(gt=0, le=1)] = 0.8
    # R2: the folder the config archive's paths are relative to, on the hosts with role "api".
    config_root: Path | None = None
    # B1: where the backup host's cron entries are (default: `crontab -l` there), each kind's command (a
    # substring of it) and its schedule (the manual's: hourly, daily 03:00, weekly Sunday 04:00).
    crontab: Path | None = None
    jobs: dict[Literal["hourly", "daily", "weekly"], str] = {
        "hourly": "hourly_backup.sh",
        "daily": "daily_backup.sh",
        "weekly": "weekly_backup.sh",
    }
    schedules: dict[Literal["hourly", "daily", "weekly"], str] = {
        "hourly": "0 * * * *",
        "daily": "0 3 * * *",
        "weekly": "0 4 * * 0",
    }


NODE_EXPORTER_QUERIES = {
    "cpu": '100 * (1 - avg(rate(node_cpu_seconds_total{mode="idle",instance="{instance}"}[5m])))',
    "memory": '100 * (1 - node_memory_MemAvailable_bytes{instance="{instance}"}'
    ' / node_memory_MemTotal_bytes{instance="{instance}"})',
    "disk": '100 * max(1 - node_filesystem_avail_bytes{instance="{instance}",fstype!~"tmpfs|overlay"}'
    ' / node_filesystem_size_bytes{instance="{instance}",fstype!~"tmpfs|overlay"})',
    "network": '8 / 1e6 * sum(rate(node_network_receive_bytes_total{instance="{instance}",device!="lo"}[5m])'
    ' + rate(node_network_transmit_bytes_total{instance="{instance}",device!="lo"}[5m]))',
}


class Metrics(Section):
    """The platform's resource history (D11): a Prometheus-compatible query API and one query per resource.

    Each query returns one series for one host: `{instance}` is replaced by the host's metrics_instance.
    Units: cpu, memory and disk in percent used, network in Mbit/s. The defaults read node_exporter.
    """

    url: str
    step_s: Annotated[int, Field(ge=5, le=3600)] = 60
    # Below this share of the day's expected samples the history cannot tell, and D11 says so.
    min_coverage_percent: Percent = 90.0
    queries: dict[Literal["cpu", "memory", "disk", "network"], str] = NODE_EXPORTER_QUERIES

    _url = field_validator("url")(lambda cls, value: http_url(value))


class Drill(Section):
    """The scratch PostgreSQL server restore drills may write to (W5, MM3). Never the production database:
    each drill creates a database of its own there, restores into it, checks it and drops it."""

    host: str
    port: int = Field(5432, ge=1, le=65535)
    user: str  # needs CREATEDB there, and EXECUTE on amcheck's functions (see README)
    password_env: str | None = None
    maintenance_db: str = "postgres"
    sslmode: Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] = "prefer"
    # psql, pg_restore and pg_amcheck come from here; default: `pg_config --bindir`, then PATH.
    bin_dir: Path | None = None
    timeout_minutes: Annotated[float, Field(gt=0, le=24 * 60)] = 60.0
    # Recovery objectives: a restore slower than max_rto_minutes, or data older than max_rpo_hours, is an ERROR.
    max_rto_minutes: Annotated[float, Field(gt=0)] = 60.0
    max_rpo_hours: Annotated[float, Field(gt=0)] = 26.0


class Maintenance(Section):
    """The weekly maintenance window (MW1-MW3): by default the manual's Sunday 02:00, two hours."""

    window: str = Field("Sun 02:00", pattern=r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) ([01][0-9]|2[0-3]):[0-5][0-9]$")
    duration_hours: Annotated[float, Field(gt=0, le=48)] = 2.0
    # MW1: a full (daily or weekly) backup must have finished at most this long before the window, or in it.
    backup_lead_hours: Annotated[float, Field(gt=0, le=48)] = 3.0


class DatabaseHealth(Section):
    """The weekly database review (W4, P1-P4): what the manual's pg_stat_* queries are judged against."""

    # P1: the manual's hot query and the index it must be served by.
    hot_query: str = "SELECT * FROM stock_prices WHERE symbol = 'AAPL' ORDER BY date DESC LIMIT 30"
    hot_index: str = "idx_stock_prices_symbol_date"
    hot_index_columns: str = "(symbol, date DESC)"
    analyze_max_age_days: Annotated[float, Field(gt=0)] = 7.0  # P2
    changed_since_analyze_percent: Percent = 20.0  # P2: more of a table changed since ANALYZE is stale
    retention_days: Annotated[int, Field(ge=1)] = 730  # P3: two years
    retention_margin_days: Annotated[int, Field(ge=0)] = 30  # P3: the oldest row is at least this near the limit
    dead_tuple_percent: Percent = 20.0  # P4
    dead_tuple_min_rows: Annotated[int, Field(ge=0)] = 1000  # P4: smaller tables are not judged
    slow_statement_ms: Annotated[float, Field(gt=0)] = 500.0  # W4: mean time of a statement in pg_stat_statements
    slow_statement_min_calls: Annotated[int, Field(ge=1)] = 5
    idle_in_transaction_s: Annotated[float, Field(gt=0)] = 300.0  # W4: a session idle inside a transaction
    long_query_s: Annotated[float, Field(gt=0)] = 300.0  # W4: a statement running longer than this
    # W4: how far each database's oldest unfrozen transaction ID is toward the 2^31 wraparound shutdown
    wraparound_warning_percent: Percent = 50.0
    wraparound_critical_percent: Percent = 75.0
    cache_hit_percent: Percent = 99.0  # W4: share of block reads served from shared_buffers
    cache_min_block_reads: Annotated[int, Field(ge=0)] = 10_000  # fewer since the stats reset are not judged


class Attestations(Section):
    """Items that are a person's judgement (`opscheck attest ID`), and how old the latest may be, in days."""

    trail: Path | None = None  # the reports folder holding the audit chain; default: this run's reports folder
    max_age_days: dict[str, Annotated[float, Field(gt=0)]] = {"M4": 31.0}


class History(Section):
    """The suite's own past runs (their summary.json files), which the monthly checks read back (M1-M3)."""

    reports: Path | None = None  # default: this run's reports folder; point every scheduled run at one place
    period_days: Annotated[int, Field(ge=7, le=92)] = 30  # "the month"
    min_days: Annotated[int, Field(ge=1)] = 27  # daily runs needed in the period before M1/M2 judge it


class Sla(Section):
    """M2: what the platform promises its users over the month."""

    availability_percent: Percent = 99.9  # requests answered without a 5xx
    critical_miss_points: Annotated[float, Field(gt=0)] = 1.5  # this far below the SLA is CRITICAL, not ERROR
    health_checks_percent: Percent = 99.0  # the daily runs' component health checks (D1) that passed
    latency_p95_ms: Annotated[float, Field(gt=0)] = 500.0  # the month's typical day (median of daily p95)


class Capacity(Section):
    """M3: limits of what grows, and how far ahead running into one must be seen."""

    horizon_days: Annotated[int, Field(ge=1)] = 90
    min_history_days: Annotated[int, Field(ge=2)] = 14  # days of daily runs needed to fit a trend
    fit_days: Annotated[int, Field(ge=7)] = 90  # how much of the history the trend is fitted over
    # measured figure (as recorded by the daily run) → its limit
    limits: dict[str, float] = {"disk_used_percent": 90.0}


class LoadThresholds(Section):
    """k6-style thresholds for a load run: each one a check of its own. Unset means not judged."""

    p95_ms: Annotated[float, Field(gt=0)] | None = None
    p99_ms: Annotated[float, Field(gt=0)] | None = None
    error_percent: Annotated[float, Field(ge=0, le=100)] | None = None
    min_rps: Annotated[float, Field(gt=0)] | None = None


class Load(Section):
    """Load runs (`pytest -m load`, locust): where, with what, how much at most, and what passes.

    Nothing is sent unless [permissions] allow_load = true; the caps hold whatever profile is asked for.
    """

    host: str | None = None  # default: the API's base_url
    symbols: list[str] = ["AAPL", "MSFT", "GOOGL", "AMZN", "NVDA"]
    login_user: str | None = None  # a load-test account; without one, no login traffic
    login_password_env: str | None = None
    think_s: tuple[float, float] = (0.5, 1.5)  # each user's pause between requests, uniformly drawn
    default_profile: str = "standard"
    profiles_file: Path | None = None  # default: load/profiles.toml in the opscheck repository
    max_users: Annotated[int, Field(ge=1)] = 50
    max_duration_s: Annotated[int, Field(ge=1)] = 600
    stop_error_percent: Annotated[float, Field(gt=0, le=100)] = 50.0  # locust stops a run failing this badly
    min_requests: Annotated[int, Field(ge=1)] = 20  # fewer requests to an endpoint cannot give its percentiles
    thresholds: LoadThresholds = LoadThresholds(p95_ms=500, error_percent=5)  # the manual's 500 ms and 5 %
    endpoints: dict[str, LoadThresholds] = {}  # locust's request name (e.g. "/api/predictions/{symbol}") → limits


SCANNER_SIGNATURES = ["/.env", "/.git/", "/wp-login.php", "/wp-admin", "/phpmyadmin", "/etc/passwd", "../",
                      "%2e%2e", "/cgi-bin/", "/.aws/", "/server-status", "/actuator"]  # fmt: skip


class Security(Section):
    """X1-X3 and scanner signatures: what the access and application logs show of attacks."""

    window_hours: Annotated[float, Field(gt=0)] = 24.0
    trusted_clients: list[str] = []  # the monitoring, load generators, health checkers: not judged
    client_error_answers: Annotated[int, Field(ge=1)] = 50  # X1: 403/404/5xx answers to one client in the window
    flood_per_minute: Annotated[int, Field(ge=1)] = 300  # X2: one client's requests in any one minute
    failed_logins_per_client: Annotated[int, Field(ge=1)] = 10  # X3: brute force from one client
    failed_login_clients_per_account: Annotated[int, Field(ge=1)] = 5  # X3: one account tried from many clients
    login_path: str = "/api/auth/login"
    scanner_signatures: list[str] = SCANNER_SIGNATURES  # paths only attackers ask for (replaces the defaults)
    extra_scanner_signatures: list[str] = []  # added to them: the site's own give-aways
    # X4 / W2: schemathesis against the API's OpenAPI document, bounded
    openapi: str = "/openapi.json"  # on the API's base_url
    scan_methods: list[Literal["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"]] = ["GET"]
    scan_examples: Annotated[int, Field(ge=1, le=1000)] = 25  # per operation
    scan_timeout_s: Annotated[float, Field(gt=0, le=1800)] = 120.0
    protected: list[str] = []  # API paths that must refuse anonymous calls (401/403)


class Dependencies(Section):
    """X5 / W3: the manifests to audit and the advisory services to ask (an air-gapped site names its mirrors)."""

    python: list[Path] = []  # pinned requirements files
    npm: list[Path] = []  # project folders holding package-lock.json
    osv_url: str = "https://api.osv.dev"  # OSV-compatible API: pip-audit asks {osv_url}/v1/query
    npm_registry: str = "https://registry.npmjs.org/"  # npm audit asks its advisories endpoint
    timeout_s: Annotated[float, Field(gt=0, le=300)] = 30.0


class Notify(Section):
    """Where a run's outcome goes besides its folder (the manual's SLACK_WEBHOOK_URL, node_exporter)."""

    webhook_url_env: str | None = None  # the variable holding a Slack-compatible webhook URL (it holds a token)
    level: Literal["warning", "error", "critical"] = "error"  # notify when the worst failure is at least this
    timeout_s: Annotated[float, Field(gt=0, le=30)] = 5.0
    textfile: Path | None = None  # e.g. /var/lib/node_exporter/textfile_collector/opscheck.prom


class Plans(Section):
    """Plans are files named maintenance-YYYY-MM-DD.md (or .none when the day needs none)."""

    dir: Path


class Batch(Section):
    """The nightly jobs (夜間バッチ) as recorded in the platform's batch_runs table."""

    jobs: list[str] = ["ingest", "predict", "train"]
    deadline: str = Field("06:00", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")  # in the target's timezone
    max_age_hours: Annotated[float, Field(gt=0)] = 26.0
    history_runs: Annotated[int, Field(ge=2, le=100)] = 7
    row_band_percent: Annotated[float, Field(gt=0)] = 50.0


class IntegrityRule(Section):
    """A read-only query returning the rows that break a rule; more than `limit` rows fail at `level`."""

    name: str = Field(pattern=r"^[a-z0-9_]+$")
    description: str
    sql: str
    level: Literal["warning", "error", "critical"] = "error"
    limit: Annotated[int, Field(ge=0)] = 0
    remedy: str = ""


class Integrity(Section):
    holidays: list[date] = []
    max_daily_move_percent: Annotated[float, Field(gt=0)] = 50.0
    # Prices land after the market closes: the newest complete day is this many trading days back.
    expected_lag_trading_days: Annotated[int, Field(ge=0, le=10)] = 1
    rules: list[IntegrityRule] = []


class Predictions(Section):
    accuracy_window_days: Annotated[int, Field(ge=1, le=365)] = 7
    accuracy_margin_percent: Annotated[float, Field(ge=0)] = 5.0
    min_outcomes: Annotated[int, Field(ge=1)] = 50
    model_max_age_hours: Annotated[float, Field(gt=0)] = 26.0


class Performance(Section):
    """Endpoints whose latency is measured (D6), and the manual's own P7 endpoint."""

    endpoints: list[str] = ["/api/predictions/AAPL", "/api/stock_prices/AAPL", "/api/health"]
    prediction_path: str = "/api/predictions/AAPL"
    samples: Annotated[int, Field(ge=3, le=1000)] = 10
    cpu_sample_s: Annotated[float, Field(gt=0, le=60)] = 2.0  # D6: CPU is averaged over this long


class App(Section):
    """The application's own settings that checks compare with the servers (P6)."""

    db_pool_max: Annotated[int, Field(ge=1)] | None = None
    instances: Annotated[int, Field(ge=1)] = 1


class Outside(Section):
    """The public names users reach the platform by (the manual's curl -I / nslookup, T6)."""

    urls: list[str] = []
    resolve_timeout_s: Seconds = 3.0


class Tls(Section):
    endpoints: list[str] = []
    ca_bundle: Path | None = None


class BackupAges(Section):
    """How old the newest set of each kind may be: its period plus the time a run may take."""

    hourly: Annotated[float, Field(gt=0)] = 2.0
    daily: Annotated[float, Field(gt=0)] = 26.0
    weekly: Annotated[float, Field(gt=0)] = 7 * 24 + 2.0


class Thresholds(Section):
    """The manual's figures are the defaults (監視・アラート対応)."""

    cpu_percent: Percent = 80.0
    memory_percent: Percent = 85.0
    response_ms: Annotated[float, Field(gt=0)] = 500.0
    error_rate_percent: Percent = 5.0
    accuracy_normal_percent: Percent = 80.0
    accuracy_alarm_percent: Percent = 60.0
    db_connections_percent: Percent = 80.0
    redis_memory_percent: Percent = 90.0
    disk_percent: Percent = 90.0  # a watched file system fuller than this: WARNING
    disk_critical_percent: Percent = 95.0  # fuller than this: ERROR (writes are about to fail)
    io_busy_percent: Percent = 80.0  # T3: a data device with I/O in flight more of the time is saturated
    network_mbps: Annotated[float, Field(gt=0)] = 800.0  # D11: 80 % of a 1 Gbit/s link
    sustained_minutes: Annotated[float, Field(ge=0)] = 10.0  # D11: above a limit longer than this over the day
    log_error_lines: Annotated[int, Field(ge=0)] = 20  # ERROR lines per log in the daily window: WARNING above
    log_critical_lines: Annotated[int, Field(ge=0)] = 0  # CRITICAL lines: ERROR above
    activity_drop_percent: Percent = 50.0  # traffic below (100 - this) % of a day / a week before: WARNING
    activity_rise_percent: Annotated[float, Field(gt=0)] = 200.0  # traffic above (100 + this) %: WARNING
    backup_max_age_hours: BackupAges = BackupAges()

    @model_validator(mode="after")
    def _alarm_below_normal(self) -> Thresholds:
        if self.accuracy_alarm_percent >= self.accuracy_normal_percent:
            raise ValueError("accuracy_alarm_percent must be below accuracy_normal_percent")
        return self


class Permissions(Section):
    """What the suite may do beyond reading. Off unless the target says so."""

    allow_load: bool = False
    allow_drills: bool = False
    allow_scan_writes: bool = False  # the API scan may send more than GET/HEAD/OPTIONS ([security] scan_methods)


class Target(Section):
    name: str
    description: str = ""
    timezone: str = "UTC"  # where "tomorrow" and the batch deadline are reckoned
    http: Http = Http()
    components: Components = Components()
    postgres: Postgres | None = None
    redis: Redis | None = None
    hosts: list[Host] = []
    logs: Logs = Logs()
    metrics: Metrics | None = None
    backups: Backups | None = None
    drill: Drill | None = None
    maintenance: Maintenance = Maintenance()
    database: DatabaseHealth = DatabaseHealth()
    attestations: Attestations = Attestations()
    history: History = History()
    load: Load = Load()
    security: Security = Security()
    dependencies: Dependencies = Dependencies()
    sla: Sla = Sla()
    capacity: Capacity = Capacity()
    notify: Notify = Notify()
    plans: Plans | None = None
    batch: Batch = Batch()
    integrity: Integrity = Integrity()
    predictions: Predictions = Predictions()
    performance: Performance = Performance()
    app: App = App()
    tls: Tls = Tls()
    outside: Outside = Outside()
    thresholds: Thresholds = Thresholds()
    permissions: Permissions = Permissions()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Asia/Tokyo)") from None
        return value

    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    def component(self, name: str) -> Component | None:
        return getattr(self.components, name)

    def secret_envs(self) -> list[tuple[str, str]]:
        """(key, environment variable) for every secret the target names."""
        named = [
            ("postgres.password_env", self.postgres and self.postgres.password_env),
            ("redis.password_env", self.redis and self.redis.password_env),
            ("drill.password_env", self.drill and self.drill.password_env),
            ("notify.webhook_url_env", self.notify.webhook_url_env),
            ("load.login_password_env", self.load.login_password_env),
        ]
        return [(key, env) for key, env in named if env]


class LoadedTarget:
    """A validated target, where it came from, and its secrets (kept out of every repr)."""

    def __init__(self, spec: Target, path: Path, secrets: dict[str, str]) -> None:
        self.spec = spec
        self.path = path
        self._secrets = secrets

    def secret(self, env: str | None) -> str | None:
        return self._secrets.get(env) if env else None

    def secret_values(self) -> list[str]:
        return [value for value in self._secrets.values() if value]

    def __repr__(self) -> str:
        return f"<target {self.spec.name} from {self.path}>"


def load_target(path: Path, environ: dict[str, str] | None = None) -> LoadedTarget:
    """Read, validate and resolve a target file, or raise TargetError with one line naming the key."""
    environ = dict(os.environ) if environ is None else environ
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TargetError(f"{path}: no such target file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TargetError(f"{path}: cannot read the target file: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise TargetError(f"{path}: not valid TOML: {exc}") from None
    try:
        spec = Target.model_validate(raw)
    except ValidationError as exc:
        raise TargetError(f"{path}: {describe_validation_error(exc)}") from None
    spec = _resolve_paths(spec, path.parent)
    secrets: dict[str, str] = {}
    for key, env in spec.secret_envs():
        value = environ.get(env)
        if not value:
            raise TargetError(
                f"{path}: {key}: environment variable {env} is not set; export it with the secret's value"
            )
        secrets[env] = value
    return LoadedTarget(spec, path, secrets)


def describe_validation_error(exc: ValidationError) -> str:
    """The first problem as `key.path: message`, and how many more there are."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    key = ".".join(str(part) for part in first["loc"]) or "(top level)"
    if first["type"] == "extra_forbidden":
        message = "unknown key (see targets/production.example.toml for every key)"
    elif first["type"] == "missing":
        message = "required key is missing"
    else:
        message = first["msg"]
        given = first.get("input")
        # Echo what was given, except a string that may carry credentials (a URL's user:password@).
        if given is not None and not isinstance(given, dict | list) and "@" not in str(given):
            message += f" (got {given!r})"
    more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    return f"{key}: {message}{more}"


def without_userinfo(url: str) -> str:
    """A URL as it may be shown: any `user:password@` removed."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[1]).geturl()


def _resolve_paths(spec: Target, base: Path) -> Target:
    """Relative paths in a target file are relative to the file, not to wherever pytest was started."""

    def fix(section: Section) -> Section:
        updates: dict[str, object] = {}
        for name, value in section:
            if isinstance(value, Path) and not value.is_absolute():
                updates[name] = (base / value).resolve()
            elif isinstance(value, Section):
                updated = fix(value)
                if updated is not value:
                    updates[name] = updated
        return section.model_copy(update=updates) if updates else section

    return fix(spec)  # type: ignore[return-value]
