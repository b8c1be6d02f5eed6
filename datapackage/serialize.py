"""Deterministic data files: the same table always gives the same CSV and Parquet bytes.

What belongs here: turning a typed DataFrame (or code-list rows) into canonical Python values in a stable row
order (the table's ``sort_by``, then the whole row), and writing those as UTF-8 CSV with fixed number, date and
boolean formatting, and as Parquet with a fixed Arrow schema, fixed writer options and no pandas metadata or
timestamps.  What does not: file placement, hashing of the release or the descriptor (``publish``,
``descriptor``), and any change of a value: nothing here rounds, corrects or drops data.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from govreports.columns import Table

Row = tuple[Any, ...]

ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(), "integer": pa.int64(), "number": pa.float64(), "boolean": pa.bool_(),
    "date": pa.date32(),
}

# Writer options are part of the release format: changing them changes the Parquet bytes (not the fingerprint,
# which is taken over the CSV files and the schemas; see publish.py).
PARQUET_OPTIONS: dict[str, Any] = {
    "compression": "zstd", "compression_level": 3, "use_dictionary": True, "write_statistics": True,
    "version": "2.6", "data_page_version": "1.0", "row_group_size": 1_000_000,
}


class SerializationError(ValueError):
    """A frame does not match its table's column model."""


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _canonical(value: Any, kind: str, where: str) -> Any:
    if _is_missing(value):
        return None
    try:
        if kind == "string":
            return str(value)
        if kind == "integer":
            if isinstance(value, float) and not value.is_integer():
                raise ValueError(f"{value!r} is not an integer")
            return int(value)
        if kind == "number":
            number = float(value)
            if math.isinf(number):
                raise ValueError("infinite number")
            return number
        if kind == "boolean":
            if isinstance(value, str):
                raise ValueError(f"{value!r} is text, not a boolean")
            return bool(value)
        if kind == "date":
            if isinstance(value, pd.Timestamp | dt.datetime):
                return value.date()
            if isinstance(value, dt.date):
                return value
            return dt.date.fromisoformat(str(value))
    except (TypeError, ValueError) as exc:
        raise SerializationError(f"{where}: {exc}") from exc
    raise SerializationError(f"{where}: unknown column type {kind!r}")


def _sort_key(row: Row, positions: Sequence[int]) -> tuple[Any, ...]:
    # None sorts last; ties are broken by the whole row rendered as text, so input order never matters.
    key: list[Any] = []
    for position in positions:
        value = row[position]
        key.append((value is None, "" if value is None else value))
    key.append(tuple(format_cell(v) for v in row))
    return tuple(key)


def canonical_rows(table: Table, frame: pd.DataFrame | Iterable[dict[str, Any]]) -> list[Row]:
    """The table's rows as tuples of plain Python values in column-model order, sorted by ``sort_by``."""
    names = table.column_names
    if isinstance(frame, pd.DataFrame):
        if set(frame.columns) != set(names):
            missing = sorted(set(names) - set(frame.columns))
            extra = sorted(set(frame.columns) - set(names))
            raise SerializationError(f"{table.name}: columns differ from the column model "
                                     f"(missing {missing}, unexpected {extra})")
        columns = [frame[name].astype(object).tolist() for name in names]
        raw_rows = list(zip(*columns, strict=True)) if columns else []
    else:
        raw_rows = [tuple(record.get(name) for name in names) for record in frame]
    kinds = [c.type for c in table.columns]
    rows = [
        tuple(_canonical(value, kind, f"{table.name}.{name}") for value, kind, name in zip(row, kinds, names, strict=True))
        for row in raw_rows
    ]
    order = table.sort_by or table.primary_key
    positions = [names.index(name) for name in order]
    rows.sort(key=lambda row: _sort_key(row, positions))
    return rows


def format_number(value: float) -> str:
    """Shortest text that reads back as the same float; whole numbers without a decimal point."""
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def format_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_number(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


_NEEDS_QUOTES = re.compile(r'[,"\r\n]')


def _csv_field(text: str) -> str:
    # RFC 4180 quoting, done here because the csv module leaves a lone "\r" unquoted when lines end in "\n"
    if _NEEDS_QUOTES.search(text):
        return '"' + text.replace('"', '""') + '"'
    return text


def csv_bytes(table: Table, rows: Sequence[Row]) -> bytes:
    """UTF-8 CSV (no BOM), header row of column names, ``\\n`` line ends, minimal quoting; null is empty."""
    lines = [",".join(_csv_field(name) for name in table.column_names)]
    lines.extend(",".join(_csv_field(format_cell(value)) for value in row) for row in rows)
    return ("\n".join(lines) + "\n").encode("utf-8")


def arrow_schema(table: Table) -> pa.Schema:
    return pa.schema([
        pa.field(c.name, ARROW_TYPES[c.type], nullable=not (c.required or c.name in table.primary_key))
        for c in table.columns
    ])


def arrow_table(table: Table, rows: Sequence[Row]) -> pa.Table:
    schema = arrow_schema(table)
    arrays = [pa.array([row[i] for row in rows], type=field.type) for i, field in enumerate(schema)]
    return pa.Table.from_arrays(arrays, schema=schema)


def parquet_bytes(table: Table, rows: Sequence[Row]) -> bytes:
    """Parquet with the Arrow schema from the column model, no pandas metadata, fixed writer options."""
    sink = io.BytesIO()
    pq.write_table(arrow_table(table, rows), sink, **PARQUET_OPTIONS)
    return sink.getvalue()


def parse_csv(data: bytes) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a release CSV, every cell as the published text."""
    reader = csv.reader(io.StringIO(data.decode("utf-8"), newline=""))
    rows = list(reader)
    if not rows:
        return [], []
    return rows[0], rows[1:]


def read_cell(text: str, kind: str) -> Any:
    """A published CSV cell back as a JSON-able value per the Table Schema type (empty text is null)."""
    if text == "":
        return None
    if kind == "integer":
        return int(text)
    if kind == "number":
        number = float(text)
        return int(number) if number.is_integer() and "." not in text and "e" not in text.lower() else number
    if kind == "boolean":
        return text == "true"
    return text
