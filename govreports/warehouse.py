"""The DuckDB warehouse: one file, one writer at a time, tables replaced a partition at a time.

Belongs here: opening the database under an exclusive file lock (DuckDB allows a single writing process, and
Dagster may start several runs at once), DDL generated from ``govreports.columns``, replacing one report year's
rows of several tables in one transaction (so re-runs are idempotent and a killed run leaves the previous state),
and reading a partition back in the column model's dtypes.  Not here: what the tables contain (``build``) or the
ledger's rules (``ingest``).
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd

from govreports.columns import Table, build_tables
from govreports.frames import typed_frame

PARTITION_COLUMN = "report_year"
LOCK_TIMEOUT_ENV = "GOVREPORTS_LOCK_TIMEOUT"
_SQL_TYPES = {"string": "VARCHAR", "integer": "BIGINT", "number": "DOUBLE", "boolean": "BOOLEAN", "date": "DATE"}


class WarehouseBusy(RuntimeError):
    """Another process held the warehouse lock for longer than the timeout."""


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@contextmanager
def _file_lock(path: Path, timeout: float) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise WarehouseBusy(f"{path} held by another process for more than {timeout:.0f} s") from None
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


@contextmanager
def locked(path: str | os.PathLike[str], *, timeout: float | None = None) -> Iterator[None]:
    """Hold the warehouse lock without opening a connection (for code that connects by itself)."""
    path = Path(path)
    timeout = float(os.environ.get(LOCK_TIMEOUT_ENV, 600)) if timeout is None else timeout
    with _file_lock(path.with_name(path.name + ".lock"), timeout):
        yield


@contextmanager
def session(path: str | os.PathLike[str], *, timeout: float | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the warehouse held under an exclusive lock; closed (and the lock released) on exit.

    Keep sessions short: parse outside them, open one to read inputs and another to write results.
    """
    with locked(path, timeout=timeout):
        con = duckdb.connect(str(path))
        try:
            yield con
        finally:
            con.close()


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    con.begin()
    try:
        yield con
    except BaseException:
        con.rollback()
        raise
    con.commit()


def table_ddl(schema: str, table: Table) -> str:
    """``CREATE TABLE`` for a model table with the partition column first (unless the model already has it)."""
    columns = [] if PARTITION_COLUMN in table.column_names else [f"{PARTITION_COLUMN} INTEGER NOT NULL"]
    for column in table.columns:
        columns.append(f"{_quote(column.name)} {_SQL_TYPES[column.type]}")
    return f"CREATE TABLE IF NOT EXISTS {_quote(schema)}.{_quote(table.name)} ({', '.join(columns)})"


def _sql_type(series: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(series.dtype):
        return "BOOLEAN"
    if pd.api.types.is_integer_dtype(series.dtype):
        return "BIGINT"
    if pd.api.types.is_float_dtype(series.dtype):
        return "DOUBLE"
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return "TIMESTAMP"
    return "VARCHAR"


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    row = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
                      [schema, name]).fetchone()
    return bool(row and row[0])


def _columns(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> list[str]:
    rows = con.execute("SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ? "
                       "ORDER BY ordinal_position", [schema, name]).fetchall()
    return [r[0] for r in rows]


def replace_partition(con: duckdb.DuckDBPyConnection, schema: str, name: str, frame: pd.DataFrame, year: int) -> int:
    """Delete ``name``'s rows of ``year`` and insert ``frame`` (call inside ``transaction``).  Returns rows written.

    Model tables get their DDL from the column model; other tables (wide views) take their columns from the
    frame, and columns that a later year adds are added to the table.
    """
    model = build_tables().get(name) if schema == "core" else None
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {_quote(schema)}")
    frame = frame.copy()
    if model is None or PARTITION_COLUMN not in model.column_names:
        frame = frame.drop(columns=[PARTITION_COLUMN], errors="ignore")
        frame.insert(0, PARTITION_COLUMN, year)
    elif len(frame) and not (frame[PARTITION_COLUMN] == year).all():
        raise ValueError(f"{schema}.{name}: rows whose {PARTITION_COLUMN} is not {year}")
    target = f"{_quote(schema)}.{_quote(name)}"
    if model is not None:
        con.execute(table_ddl(schema, model))
    elif not table_exists(con, schema, name):
        columns = ", ".join(f"{_quote(c)} {_sql_type(frame[c])}" for c in frame.columns)
        con.execute(f"CREATE TABLE {target} ({columns})")
    existing = set(_columns(con, schema, name))
    for column in frame.columns:
        if column not in existing:
            con.execute(f"ALTER TABLE {target} ADD COLUMN {_quote(column)} {_sql_type(frame[column])}")
    con.execute(f"DELETE FROM {target} WHERE {_quote(PARTITION_COLUMN)} = ?", [year])
    if len(frame):
        con.register("_partition_frame", frame)
        try:
            con.execute(f"INSERT INTO {target} BY NAME SELECT * FROM _partition_frame")
        finally:
            con.unregister("_partition_frame")
    return len(frame)


def replace_partitions(con: duckdb.DuckDBPyConnection, schema: str, frames: Mapping[str, pd.DataFrame],
                       year: int) -> dict[str, int]:
    """Replace one year's rows of several tables atomically."""
    with transaction(con):
        return {name: replace_partition(con, schema, name, frame, year) for name, frame in frames.items()}


def read_partition(con: duckdb.DuckDBPyConnection, schema: str, name: str, year: int) -> pd.DataFrame:
    """One year's rows as stored (partition column included); empty frame if the table does not exist."""
    if not table_exists(con, schema, name):
        return pd.DataFrame()
    return con.execute(f"SELECT * FROM {_quote(schema)}.{_quote(name)} WHERE {_quote(PARTITION_COLUMN)} = ?",
                       [year]).df()


def read_model_table(con: duckdb.DuckDBPyConnection, name: str, year: int) -> pd.DataFrame:
    """A core table's rows of one year in the column model's columns and dtypes (the partition column dropped
    unless it is a model column), ready for ``govreports.schemas`` or a release.  A column the model gained after
    the table was created reads as null until the year is built again (a warehouse is never migrated by hand)."""
    table = build_tables()[name]
    stored = read_partition(con, "core", name, year)
    if stored.empty:
        return typed_frame(table, [])
    return typed_frame(table, stored.reindex(columns=table.column_names).to_dict("records"))


def read_core_frames(con: duckdb.DuckDBPyConnection, year: int) -> dict[str, pd.DataFrame]:
    return {name: read_model_table(con, name, year) for name in build_tables()}
