"""Metadata shown in the Dagster UI, generated from ``govreports.columns`` (never restating a column).

Belongs here: ``dagster/column_schema`` table schemas, ``dagster/column_lineage``, Markdown previews of the first
rows and of counts.  Not here: computing the counts (``govreports.build``/``ingest``).
"""

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd
from dagster import (
    AssetKey,
    MetadataValue,
    TableColumn,
    TableColumnConstraints,
    TableColumnDep,
    TableColumnLineage,
    TableSchema,
)

from govreports.columns import Column, Table, build_tables
from govreports.warehouse import PARTITION_COLUMN

RAW_REPORTS = AssetKey("raw_reports")

# raw_reports is the ledger's view of the landing folder: these are its columns.  ``content`` stands for the
# file's bytes (kept in the landing folder, not in the warehouse) — where every parsed cell comes from — and
# ``manifest`` for the collector's manifest beside the file (a ledger row of its own, status ``manifest``).
RAW_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("path", "string", "path relative to the landing folder"),
    ("sha256", "string", "sha256 of the raw bytes"),
    ("version", "integer", "1, 2, … per path: a changed file is a new version, the old one stays in the ledger"),
    ("size", "integer", "bytes"),
    ("format", "string", "sniffed format: text | html | docx | pdf | zip | binary"),
    ("folder_year", "integer", "year folder the file is in (null outside a year folder)"),
    ("report_year", "integer", "partition: the year folder, else the manifest's year, else the year printed in "
     "the report (null for a manifest outside year folders, and for a file whose year was not found)"),
    ("status", "string", "ledger status: pending | parsed | partial | quarantined for report files; manifest for "
     "a collector's manifest (it describes the files beside it and is never parsed or counted among them)"),
    ("reason", "string", "why partial or quarantined (duplicate, not_a_report, …); for a manifest why it is not "
     "applied (manifest_invalid, outside_landing, …)"),
    ("duplicate_of", "string", "for duplicates: path of the first copy"),
    ("first_seen", "date", "when the ledger first saw these bytes at this path"),
    ("content", "string", "the file's bytes (in the landing folder): the source cells of every core table"),
    ("manifest", "string", "the collector's manifest beside the file (manifest.csv / manifest.jsonl): url, "
     "fetched_at, region, and the agency, year and title it gives"),
)

# core columns that copy raw_reports columns; every other core column is read from the file's content
_FROM_RAW: dict[str, tuple[str, ...]] = {
    "source_path": ("path",), "source_sha256": ("sha256",), "source_bytes": ("size",), "source_format": ("format",),
    PARTITION_COLUMN: ("report_year",),
}
# reports columns that the manifest beside the file gives (agency and title: in place of, or in want of, the text's)
_REPORTS_FROM_MANIFEST: dict[str, tuple[str, ...]] = {
    "source_url": ("manifest",), "source_fetched_at": ("manifest",), "region": ("manifest",),
    "region_code": ("manifest",), "agency": ("content", "manifest"), "title": ("content", "manifest"),
}


def core_key(table: str) -> AssetKey:
    return AssetKey(f"core_{table}")


def _constraints(column: Column, table: Table) -> TableColumnConstraints:
    other = []
    if column.minimum is not None:
        other.append(f">= {column.minimum:g}")
    if column.enum is not None:
        shown = ", ".join(column.enum[:12]) + (", …" if len(column.enum) > 12 else "")
        other.append(f"one of: {shown}")
    if column.name in table.primary_key:
        other.append("primary key" if len(table.primary_key) == 1 else f"part of key ({', '.join(table.primary_key)})")
    for columns, target, target_columns in table.foreign_keys:
        if column.name in columns:
            other.append(f"references {target}.{', '.join(target_columns)}")
    unique = table.primary_key == (column.name,)
    return TableColumnConstraints(nullable=not column.required, unique=unique, other=other)


def _partition_column() -> TableColumn:
    return TableColumn(PARTITION_COLUMN, "integer", "partition key: the report year this row was built for",
                       TableColumnConstraints(nullable=False))


def core_table_schema(name: str) -> TableSchema:
    """``dagster/column_schema`` of a core table, from the column model, with the partition column."""
    table = build_tables()[name]
    columns = [TableColumn(c.name, c.type, f"{c.description} ({c.title_zh})" if c.title_zh else c.description,
                           _constraints(c, table)) for c in table.columns]
    if PARTITION_COLUMN not in table.column_names:
        columns.insert(0, _partition_column())
    return TableSchema(columns=columns)


def raw_table_schema() -> TableSchema:
    return TableSchema(columns=[TableColumn(n, t, d) for n, t, d in RAW_COLUMNS])


def frame_schema(frame: pd.DataFrame, descriptions: Mapping[str, str] | None = None) -> TableSchema:
    """Schema of a derived frame (the wide tables, whose cell columns depend on the year's templates)."""
    descriptions = descriptions or {}
    kinds = {"b": "boolean", "i": "integer", "u": "integer", "f": "number", "M": "date"}
    columns = [_partition_column()] if PARTITION_COLUMN not in frame.columns else []
    for name in frame.columns:
        kind = kinds.get(getattr(frame[name].dtype, "kind", "O"), "string")
        columns.append(TableColumn(str(name), kind, descriptions.get(str(name))))
    return TableSchema(columns=columns)


def core_column_lineage(name: str) -> TableColumnLineage:
    """Each core column back to the raw_reports columns it comes from: the ledger's, the file's content (the
    printed cells) or the manifest beside the file (where it was downloaded from)."""
    table = build_tables()[name]
    names = table.column_names if PARTITION_COLUMN in table.column_names else [PARTITION_COLUMN, *table.column_names]
    origins = {**_FROM_RAW, **_REPORTS_FROM_MANIFEST} if name == "reports" else _FROM_RAW
    return TableColumnLineage(deps_by_column={
        column: [TableColumnDep(RAW_REPORTS, raw) for raw in origins.get(column, ("content",))] for column in names
    })


def wide_column_lineage(table: str, columns: Iterable[str], report_columns: Iterable[str]) -> TableColumnLineage:
    """``out_<table>_wide``: each cell column back to ``core_<table>.value`` and its two key columns."""
    report_columns = set(report_columns)
    keys = {"active_disclosure": ("item", "metric"), "applications": ("row", "applicant"),
            "appeals": ("proceeding", "outcome")}[table]
    deps: dict[str, list[TableColumnDep]] = {}
    for column in columns:
        if column == "report_id":
            deps[column] = [TableColumnDep(core_key(table), "report_id"),
                            TableColumnDep(core_key("reports"), "report_id")]
        elif column == PARTITION_COLUMN:
            deps[column] = [TableColumnDep(core_key("reports"), PARTITION_COLUMN)]
        elif column in report_columns:
            deps[column] = [TableColumnDep(core_key("reports"), column)]
        else:
            deps[column] = [TableColumnDep(core_key(table), c) for c in ("value", *keys)]
    return TableColumnLineage(deps_by_column=deps)


def _cell(value: Any, width: int) -> str:
    if value is None or (not isinstance(value, (list, dict)) and pd.isna(value)):
        return ""
    text = str(value).replace("\n", " ").replace("|", "\\|")
    return text if len(text) <= width else text[: width - 1] + "…"


def markdown_table(frame: pd.DataFrame, rows: int = 5, width: int = 40, max_columns: int = 12) -> str:
    """The first ``rows`` rows as a Markdown table (long cells cut, at most ``max_columns`` columns)."""
    if frame.empty:
        return "_no rows_"
    shown = frame.iloc[:rows, :max_columns]
    lines = ["| " + " | ".join(str(c) for c in shown.columns) + " |", "|" + "---|" * len(shown.columns)]
    for values in shown.itertuples(index=False):
        lines.append("| " + " | ".join(_cell(v, width) for v in values) + " |")
    if frame.shape[1] > max_columns:
        lines.append(f"\n_{frame.shape[1] - max_columns} more columns_")
    return "\n".join(lines)


def markdown_counts(counts: Mapping[str, int], key: str = "key", value: str = "count") -> str:
    if not counts:
        return "_none_"
    lines = [f"| {key} | {value} |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    return "\n".join(lines)


def preview(frame: pd.DataFrame, rows: int = 5) -> MetadataValue:
    return MetadataValue.md(markdown_table(frame, rows))
