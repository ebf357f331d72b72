"""Least privilege for the suite's own roles: what a monitoring role or the drill's role holds beyond its
job, each excess named with the statement that removes it.

The README asks for a monitoring role that reads (pg_monitor, pg_read_all_data) and a drill role with
CREATEDB on the scratch server only; a role that can write is a risk the suite itself brings to production.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

# Built-in roles that read or write the server's files or run its programs: as good as a superuser.
SERVER_ROLES = frozenset({"pg_write_all_data", "pg_read_server_files", "pg_write_server_files",
                          "pg_execute_server_program"})  # fmt: skip
ATTRIBUTES = ("SUPERUSER", "CREATEROLE", "CREATEDB", "REPLICATION", "BYPASSRLS")
SHOWN = 4  # objects named in one finding; the rest counted


@dataclass(frozen=True)
class Grant:
    """One row of privileges.sql."""

    kind: str  # attribute | member | table | schema | database
    role: str  # who holds it: the connected role, a role it is a member of, or PUBLIC (names quoted as SQL)
    via: str | None  # the role granted directly to the connected role that `role` is reached through
    object: str | None
    schema: str | None
    privilege: str | None

    @classmethod
    def of(cls, row: dict[str, Any]) -> Grant:
        return cls(**{name: row[name] for name in ("kind", "role", "via", "object", "schema", "privilege")})


@dataclass(frozen=True)
class Excess:
    what: str
    remedy: str

    def __str__(self) -> str:
        return f"{self.what}: {self.remedy}"


def _names(objects: list[str]) -> str:
    shown = ", ".join(objects[:SHOWN])
    return shown + (f" and {len(objects) - SHOWN} more" if len(objects) > SHOWN else "")


def monitoring_excesses(me: str, grants: list[Grant]) -> list[Excess]:
    """What the monitoring role `me` holds beyond reading: role attributes, memberships that write or reach
    the server's files, grants that write a table, create in a schema or the database, and ownership."""
    found = _attributes(me, grants, ATTRIBUTES) + _memberships(me, grants)
    through: dict[str, list[Grant]] = defaultdict(list)  # a role granted to `me`, and what it holds
    for grant in grants:
        if grant.kind in ("table", "schema", "database"):
            if grant.via is not None:
                through[grant.via].append(grant)
            elif grant.privilege == "OWNER":
                found.append(_owned(grant))
    found += _table_grants([g for g in grants if g.kind == "table" and g.via is None and g.privilege != "OWNER"])
    for grant in grants:
        if grant.kind in ("schema", "database") and grant.via is None and grant.privilege == "CREATE":
            on = f"{grant.kind.upper()} {grant.object}"
            found.append(Excess(f"{_who(grant.role)} may CREATE in {grant.kind} {grant.object}",
                                f"REVOKE CREATE ON {on} FROM {grant.role};"))  # fmt: skip
    for via, held in sorted(through.items()):
        owned = sorted({f"{g.kind} {g.object}" for g in held if g.privilege == "OWNER"})
        granted = sorted({f"{g.kind} {g.object}" for g in held if g.privilege != "OWNER"})
        may = ", ".join(sorted({g.privilege for g in held if g.privilege not in (None, "OWNER")}))
        holds = ([f"owns {_names(owned)}"] if owned else []) + ([f"may {may} on {_names(granted)}"] if granted else [])
        found.append(Excess(f"member of {via}, which {'; '.join(holds)}", f"REVOKE {via} FROM {me};"))
    return found


def drill_excesses(me: str, grants: list[Grant]) -> list[Excess]:
    """The drill's role needs CREATEDB, held by itself (role attributes are not inherited), and nothing more
    of the server: no other attribute, no membership of a superuser or of the server's file roles."""
    found = _attributes(me, grants, tuple(a for a in ATTRIBUTES if a != "CREATEDB")) + _memberships(me, grants)
    if not any(g.kind == "attribute" and g.role == me and g.privilege == "CREATEDB" for g in grants):
        found.append(Excess("lacks CREATEDB, which the drill needs for its scratch databases",
                            f"ALTER ROLE {me} CREATEDB;"))  # fmt: skip
    return found


def _attributes(me: str, grants: list[Grant], excessive: tuple[str, ...]) -> list[Excess]:
    return [Excess(f"is {g.privilege}", f"ALTER ROLE {me} NO{g.privilege};")
            for g in grants if g.kind == "attribute" and g.role == me and g.privilege in excessive]  # fmt: skip


def _memberships(me: str, grants: list[Grant]) -> list[Excess]:
    """Memberships that amount to more than reading: a server file role, or a role with attributes that a
    member may take with SET ROLE."""
    powerful = {g.role: g.privilege for g in grants if g.kind == "attribute" and g.role != me}
    found = []
    for grant in grants:
        if grant.kind != "member" or grant.via is None:
            continue
        if grant.role in SERVER_ROLES:
            found.append(Excess(f"member of {grant.role}{_through(grant)}", f"REVOKE {grant.via} FROM {me};"))
        elif grant.role in powerful:
            found.append(Excess(f"member of {grant.role}{_through(grant)}, which is {powerful[grant.role]} (SET ROLE)",
                                f"REVOKE {grant.via} FROM {me};"))  # fmt: skip
    return found


def _through(grant: Grant) -> str:
    return "" if grant.via == grant.role else f" (through {grant.via})"


def _owned(grant: Grant) -> Excess:
    kind = grant.kind.upper()
    return Excess(f"owns {grant.kind} {grant.object}, and so may do anything to it",
                  f"ALTER {kind} {grant.object} OWNER TO <the application's role>;")  # fmt: skip


def _table_grants(grants: list[Grant]) -> list[Excess]:
    """Write grants on tables to the role itself or to PUBLIC, one finding per holder and schema."""
    by_holder: dict[tuple[str, str], list[Grant]] = defaultdict(list)
    for grant in grants:
        by_holder[(grant.role, grant.schema or "")].append(grant)
    found = []
    for (holder, schema), held in sorted(by_holder.items()):
        tables = sorted({g.object for g in held if g.object})
        privileges = [p for p in ("INSERT", "UPDATE", "DELETE", "TRUNCATE") if any(g.privilege == p for g in held)]
        on = f"ALL TABLES IN SCHEMA {schema}" if len(tables) > 1 else f"TABLE {tables[0]}"
        may = ", ".join(privileges)
        found.append(Excess(f"{_who(holder)} may {may} on {len(tables)} table(s) in {schema}: {_names(tables)}",
                            f"REVOKE {may} ON {on} FROM {holder};"))  # fmt: skip
    return found


def _who(role: str) -> str:
    return "PUBLIC (every role)" if role == "PUBLIC" else role
