"""PostgreSQL probe: a read-only session with connect and statement timeouts from the target."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row

from opscheck.errors import ProbeError
from opscheck.identity import DB_SESSION
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
                    application_name=DB_SESSION,
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
        return self._run(sql, params)[0]

    def _run(
        self, sql: str, params: tuple[Any, ...] | dict[str, Any] = (), what: str | None = None
    ) -> tuple[list[dict[str, Any]], list[str]]:
        """The rows and the column names; any failure a ProbeError naming `what` was asked (a declared source)."""
        conn = self._connect()
        part = f"{self.part} ({what})" if what else self.part
        try:
            with conn.cursor() as cur:
                cur.execute(sql, params or None)  # type: ignore[arg-type]  # no params: % is no placeholder
                return cur.fetchall(), [c.name for c in cur.description or ()]
        except psycopg.errors.QueryCanceled:
            raise ProbeError(
                part, self.address, f"query exceeded statement_timeout ({self.spec.statement_timeout_ms} ms)"
            ) from None
        except psycopg.OperationalError as exc:
            self._conn = None
            raise ProbeError(part, self.address, describe_error(exc, self._password)) from None
        except psycopg.Error as exc:  # a table or column the query names is not there: say which, not a traceback
            first = describe_error(exc, self._password).split(" LINE ")[0]
            raise ProbeError(part, self.address, first) from None

    def source(
        self,
        what: str,
        sql: str,
        columns: tuple[str, ...],
        tail: str = "",
        params: tuple[Any, ...] = (),
        select: str = "*",
    ) -> list[dict[str, Any]]:
        """Rows of a declared source (a read-only query returning named columns), filtered by `tail` (WHERE …
        ORDER BY … LIMIT …, over the source's own column names) or summed up by `select`; a missing column is
        named, with the source."""
        body = sql.replace("%", "%%") if params else sql  # with parameters, a % of the source's own is a literal
        found, names = self._run(f"SELECT {select} FROM ({body}) AS source {tail}", params, what)
        missing = [c for c in columns if c not in names] if select == "*" else []
        if missing:
            raise ProbeError(
                f"{self.part} ({what})", self.address,
                f"the query returns no column {', '.join(missing)} (it returns {', '.join(names) or 'nothing'}); "
                "name them in its SELECT (… AS " + missing[0] + ")",
            )  # fmt: skip
        return found

    def columns_of(self, what: str, sql: str) -> list[str]:
        """The column names a declared query returns, asked with LIMIT 0 (nothing is read)."""
        return self._run(f"SELECT * FROM ({sql}) AS source LIMIT 0", (), what)[1]

    def value(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> Any:
        rows = self.rows(sql, params)
        return next(iter(rows[0].values())) if rows else None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()


def describe_error(exc: Exception, password: str | None) -> str:
    text = " ".join(str(exc).split())
    return text.replace(password, "***") if password else text
