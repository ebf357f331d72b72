"""PostgreSQL probe: a read-only session with connect and statement timeouts from the target."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row

from opscheck.errors import ProbeError
from opscheck.target.postgres import Postgres


class Database:
    """Connects on first use and remembers a failed connection, so a dead server costs one timeout per run."""

    part = "PostgreSQL"

    def __init__(self, spec: Postgres, password: str | None) -> None:
        self.spec = spec
        self._password = password
        self._conn: psycopg.Connection[dict[str, Any]] | None = None
        self._failure: ProbeError | None = None

    @property
    def address(self) -> str:
        return f"{self.spec.host}:{self.spec.port}/{self.spec.dbname}"

    def _connect(self) -> psycopg.Connection[dict[str, Any]]:
        if self._failure is not None:
            # A fresh error each time: re-raising one object would grow its traceback with every check.
            raise ProbeError(self.part, self.address, self._failure.cause)
        if self._conn is None or self._conn.closed:
            options = (
                f"-c default_transaction_read_only=on -c statement_timeout={self.spec.statement_timeout_ms}"
                f" -c lock_timeout={self.spec.statement_timeout_ms}"
            )
            try:
                self._conn = psycopg.connect(
                    host=self.spec.host,
                    port=self.spec.port,
                    dbname=self.spec.dbname,
                    user=self.spec.user,
                    password=self._password,
                    sslmode=self.spec.sslmode,
                    connect_timeout=self.spec.connect_timeout_s,
                    application_name="opscheck",
                    options=options,
                    autocommit=True,
                    row_factory=dict_row,
                )
            except psycopg.Error as exc:
                self._failure = ProbeError(self.part, self.address, describe_error(exc, self._password))
                raise self._failure from None
            self._conn.read_only = True
        return self._conn

    def rows(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> list[dict[str, Any]]:
        conn = self._connect()
        try:
            with conn.cursor() as cur:
                cur.execute(sql, params)  # type: ignore[arg-type]
                return cur.fetchall()
        except psycopg.errors.QueryCanceled:
            raise ProbeError(
                self.part, self.address, f"query exceeded statement_timeout ({self.spec.statement_timeout_ms} ms)"
            ) from None
        except psycopg.OperationalError as exc:
            self._conn = None
            raise ProbeError(self.part, self.address, describe_error(exc, self._password)) from None

    def value(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> Any:
        rows = self.rows(sql, params)
        return next(iter(rows[0].values())) if rows else None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()


def describe_error(exc: Exception, password: str | None) -> str:
    text = " ".join(str(exc).split())
    return text.replace(password, "***") if password else text
