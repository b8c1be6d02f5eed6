"""Pandera schemas generated from ``govreports.columns`` (never written by hand), and lazy validation that
collects every failure case into a table instead of raising at the first one."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import pandas as pd
import pandera.pandas as pa

from govreports.columns import Table, build_tables

_DTYPES = {"string": "string", "integer": "Int64", "number": "Float64", "boolean": "boolean",
           "date": "datetime64[us]"}


def _column_schema(table: Table, name: str) -> pa.Column:
    column = table.column(name)
    checks = []
    if column.minimum is not None:
        checks.append(pa.Check.ge(column.minimum, error=f"{name} >= {column.minimum}"))
    if column.enum is not None:
        checks.append(pa.Check.isin(list(column.enum), error=f"{name} is a known code"))
    return pa.Column(_DTYPES[column.type], checks=checks, nullable=not column.required, coerce=False,
                     description=column.description, title=column.title_zh or None)


@cache
def schema_for(name: str) -> pa.DataFrameSchema:
    table = build_tables()[name]
    return pa.DataFrameSchema(
        {c.name: _column_schema(table, c.name) for c in table.columns},
        unique=list(table.primary_key),
        strict=True,
        ordered=True,
        name=name,
        description=table.description,
    )


@dataclass
class SchemaResult:
    table: str
    valid: bool
    failure_cases: pd.DataFrame  # pandera's failure cases: schema_context, column, check, index, failure_case


def validate_frame(name: str, frame: pd.DataFrame) -> SchemaResult:
    try:
        schema_for(name).validate(frame, lazy=True)
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases.copy()
        cases.insert(0, "table", name)
        return SchemaResult(name, False, cases)
    return SchemaResult(name, True, pd.DataFrame(columns=["table", "schema_context", "column", "check",
                                                           "check_number", "failure_case", "index"]))


def foreign_key_failures(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Rows whose report_id is not in ``reports`` (the foreign keys declared in the column model)."""
    known = set(frames["reports"]["report_id"].dropna())
    rows = []
    for name, table in build_tables().items():
        for (columns, target, _target_columns) in table.foreign_keys:
            if target != "reports" or name not in frames:
                continue
            frame = frames[name]
            missing = frame[~frame[columns[0]].isin(known)]
            for index, value in missing[columns[0]].items():
                rows.append({"table": name, "schema_context": "ForeignKey", "column": columns[0],
                             "check": f"references reports.{columns[0]}", "check_number": None,
                             "failure_case": value, "index": index})
    return pd.DataFrame(rows, columns=["table", "schema_context", "column", "check", "check_number",
                                       "failure_case", "index"])
