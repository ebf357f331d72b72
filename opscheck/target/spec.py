"""The whole target file: one deployment, every section with the manual's defaults."""

from __future__ import annotations

import zoneinfo
from urllib.parse import urlsplit

from pydantic import field_validator, model_validator

from opscheck.target.backups import Backups
from opscheck.target.base import Section
from opscheck.target.components import Component, Components, Http
from opscheck.target.data import Batch, Integrity, Predictions
from opscheck.target.hosts import Host
from opscheck.target.logs import Logs
from opscheck.target.metrics import Metrics
from opscheck.target.operations import Maintenance, Permissions, Plans
from opscheck.target.performance import App, Load, Outside, Performance
from opscheck.target.postgres import DatabaseHealth, Drill, Postgres
from opscheck.target.record import Attestations, Capacity, History, Notify, Sla
from opscheck.target.redis import Redis
from opscheck.target.security import Dependencies, Security, Tls
from opscheck.target.thresholds import Thresholds
from opscheck.target.topology import Topology

# The manual's systemd units of the components (サービス再起動), named in a silent port's remedy.
SERVICES = {"api": "miraikakaku-api", "frontend": "miraikakaku-frontend"}


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
    topology: Topology = Topology()

    @model_validator(mode="before")
    @classmethod
    def _sections_declared_absent(cls, raw: object) -> object:
        """`enabled = false` in an optional section (or a component) declares that part absent: its checks skip,
        saying so; `enabled = true` is the same as leaving the key out."""
        if not isinstance(raw, dict):
            return raw
        return {**_absent(raw, cls, "")}

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

    def port_owner(self, host: Host, address: str) -> str | None:
        """The unit to restart when `address` is silent: the host's word, else whose URL names its port."""
        if address in host.port_owners:
            return host.port_owners[address]
        port = address.rsplit(":", 1)[-1]
        owners = {str(urlsplit(c.base_url).port or ""): SERVICES[n] for n in SERVICES if (c := self.component(n))}
        if self.postgres:
            owners[str(self.postgres.port)] = "postgresql"
        if self.redis:
            owners[str(urlsplit(self.redis.url).port or 6379)] = "redis-server"
        return owners.get(port)

    def component(self, name: str) -> Component | None:
        return getattr(self.components, name)

    def secret_envs(self) -> list[tuple[str, str]]:
        """(key, environment variable) for every secret the target names."""
        named = [
            ("postgres.password_env", self.postgres and self.postgres.password_env),
            ("redis.password_env", self.redis and self.redis.password_env),
            ("drill.password_env", self.drill and self.drill.password_env),
            ("load.login_password_env", self.load.login_password_env),
            ("backups.offsite_access_key_env", self.backups and self.backups.offsite_access_key_env),
            ("backups.offsite_secret_key_env", self.backups and self.backups.offsite_secret_key_env),
            *self.notify.webhook_envs(),
        ]
        return [(key, env) for key, env in named if env]


def _absent(raw: dict, model: type[Section], prefix: str) -> dict:
    """`raw` with every optional section that says `enabled = false` made None (components included)."""
    out = dict(raw)
    for key, value in raw.items():
        field = model.model_fields.get(key)
        if not isinstance(value, dict) or field is None:
            continue
        if "enabled" in value:
            enabled = value["enabled"]
            if not isinstance(enabled, bool):
                raise ValueError(f"{prefix}{key}.enabled: must be true or false")
            optional = type(None) in getattr(field.annotation, "__args__", ()) or field.default is None
            if not enabled and not optional:
                raise ValueError(f"{prefix}{key}.enabled: [{prefix}{key}] cannot be declared absent")
            out[key] = None if not enabled else {k: v for k, v in value.items() if k != "enabled"}
        elif key == "components":
            out[key] = _absent(value, Components, "components.")
    return out
