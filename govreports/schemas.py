"""Pandera schemas generated from ``govreports.columns`` (never written by hand), and lazy validation that
collects every failure case into a table instead of raising at the first one.

What belongs here: schema generation (dtypes, allowed codes, minimums, nullability, key uniqueness) and the
foreign keys declared in the column model.  What does not: the template's arithmetic (``govreports.checks``)
or what happens to a report that fails (``govreports.validation``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import pandas as pd
import pandera.pandas as pa

from govreports.checks import is_in  # Arrow-backed membership (pandas' isin builds a scalar per value)
from govreports.columns import Table, build_tables

PANDAS_DTYPES = {"string": "string", "integer": "Int64", "number": "Float64", "boolean": "boolean",
                 "date": "datetime64[us]"}
FAILURE_COLUMNS = ("table", "schema_context", "column", "check", "check_number", "failure_case", "index")


def _column_schema(table: Table, name: str) -> pa.Column:
    column = table.column(name)
    checks = []
    if column.minimum is not None:
        checks.append(pa.Check.ge(column.minimum, error=f"{name} >= {column.minimum}"))
    if column.enum is not None:
        checks.append(pa.Check.isin(list(column.enum), error=f"{name} is a known code"))
    return pa.Column(PANDAS_DTYPES[column.type], checks=checks, nullable=not column.required, coerce=False,
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
    failure_cases: pd.DataFrame  # FAILURE_COLUMNS: pandera's failure cases with the table name in front


def _no_failures() -> pd.DataFrame:
    return pd.DataFrame(columns=list(FAILURE_COLUMNS))


def validate_frame(name: str, frame: pd.DataFrame) -> SchemaResult:
    """Lazy validation: every failure case of the table (element-wise ones carry the row ``index``)."""
    try:
        schema_for(name).validate(frame, lazy=True, inplace=True)
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases.copy()
        cases.insert(0, "table", name)
        return SchemaResult(name, False, cases.reindex(columns=list(FAILURE_COLUMNS)))
    return SchemaResult(name, True, _no_failures())


def foreign_key_failures(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Rows whose report_id is not in ``reports`` (the foreign keys declared in the column model)."""
    known = pd.Index(frames["reports"]["report_id"].dropna().unique())
    parts = []
    for name, table in build_tables().items():
        for (columns, target, target_columns) in table.foreign_keys:
            if target != "reports" or name not in frames:
                continue
            values = frames[name][columns[0]]
            missing = values[~is_in(values, known)]
            if not len(missing):
                continue
            parts.append(pd.DataFrame({
                "table": name, "schema_context": "ForeignKey", "column": columns[0],
                "check": f"references {target}.{target_columns[0]}", "check_number": None,
                "failure_case": missing.astype(object).to_numpy(), "index": missing.index.to_numpy(),
            }))
    return pd.concat(parts, ignore_index=True) if parts else _no_failures()
