"""Least privilege of the suite's own roles (O1): what counts as more than reading, and the statement that undoes it."""

from __future__ import annotations

from opscheck.judge.privileges import Grant, drill_excesses, monitoring_excesses


def grant(kind: str, role: str, privilege: str | None = None, obj: str | None = None, via: str | None = None) -> Grant:
    schema = obj.split(".")[0] if obj and kind == "table" else obj if kind == "schema" else None
    return Grant(kind, role, via, obj, schema, privilege)


def test_a_reading_role_holds_nothing_in_excess():
    grants = [
        grant("member", "pg_monitor", via="pg_monitor"),
        grant("member", "pg_read_all_data", via="pg_read_all_data"),
    ]
    assert monitoring_excesses("mon", grants) == []


def test_write_grants_are_one_finding_per_schema_with_the_revoke_that_removes_them():
    grants = [grant("table", "mon", p, f"public.{t}") for p in ("INSERT", "DELETE") for t in ("a", "b")]
    [excess] = monitoring_excesses("mon", grants)
    assert "may INSERT, DELETE on 2 table(s) in public" in excess.what
    assert excess.remedy == "REVOKE INSERT, DELETE ON ALL TABLES IN SCHEMA public FROM mon;"


def test_public_may_create_is_named_as_every_role():
    [excess] = monitoring_excesses("mon", [grant("schema", "PUBLIC", "CREATE", "public")])
    assert excess.what.startswith("PUBLIC (every role) may CREATE") and "FROM PUBLIC" in excess.remedy


def test_a_membership_of_the_owner_is_revoked_as_a_whole():
    grants = [grant("member", "app", via="app"), grant("table", "app", "OWNER", "public.prices", via="app")]
    [excess] = monitoring_excesses("mon", grants)
    assert excess.what == "member of app, which owns table public.prices" and excess.remedy == "REVOKE app FROM mon;"


def test_superuser_and_server_file_roles_are_excesses():
    grants = [
        grant("attribute", "mon", "SUPERUSER"),
        grant("member", "pg_write_server_files", via="pg_write_server_files"),
    ]
    assert [e.remedy for e in monitoring_excesses("mon", grants)] == [
        "ALTER ROLE mon NOSUPERUSER;",
        "REVOKE pg_write_server_files FROM mon;",
    ]


def test_the_drill_needs_createdb_and_nothing_else_of_the_server():
    assert drill_excesses("drill", [grant("attribute", "drill", "CREATEDB")]) == []
    found = drill_excesses("drill", [grant("attribute", "drill", "CREATEROLE")])
    assert [e.remedy for e in found] == ["ALTER ROLE drill NOCREATEROLE;", "ALTER ROLE drill CREATEDB;"]
