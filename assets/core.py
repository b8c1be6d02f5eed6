"""``core_<table>``: one report year's parsed and validated tables in DuckDB schema ``core``.

One multi-asset (op ``core_reports_parsed``) parses the year's files in parallel (``govreports.build``), validates
them, and replaces the year's rows of every core table in one transaction; each table is its own asset with its
own metadata (row count, column schema and lineage, preview, status and findings counts).
"""

from collections.abc import Iterator
from typing import Any

import pandas as pd
from dagster import AssetExecutionContext, AssetSpec, MaterializeResult, MetadataValue, multi_asset

from assets.metadata import (
    RAW_REPORTS,
    core_column_lineage,
    core_key,
    core_table_schema,
    markdown_counts,
    markdown_table,
    preview,
)
from assets.partitions import report_year_partitions
from govreports.build import CoreBuild, build_core_year
from govreports.columns import TABLE_NAMES, build_tables
from orchestration.resources import ParsingResource, PathsResource


def core_spec(name: str) -> AssetSpec:
    table = build_tables()[name]
    return AssetSpec(
        core_key(name),
        deps=[RAW_REPORTS],
        group_name="core",
        kinds={"duckdb", "pandas"},
        description=f"{table.title} ({table.title_zh}): {table.description}",
        metadata={"dagster/column_schema": core_table_schema(name), "dagster/table_name": f"core.{name}",
                  "primary_key": ", ".join(table.primary_key)},
    )


CORE_SPECS = [core_spec(name) for name in TABLE_NAMES]


def _rule_summary(value: Any) -> MetadataValue | None:
    if value is None:
        return None
    if isinstance(value, pd.DataFrame):
        return MetadataValue.md(markdown_table(value, rows=50, width=60))
    if isinstance(value, dict):
        return MetadataValue.json(value)
    return MetadataValue.text(str(value))


def table_metadata(name: str, build: CoreBuild) -> dict[str, Any]:
    frame = build.frames[name]
    metadata: dict[str, Any] = {
        "dagster/row_count": len(frame),
        "dagster/column_schema": core_table_schema(name),
        "dagster/column_lineage": core_column_lineage(name),
        "preview": preview(frame),
    }
    if name == "reports":
        metadata["parse_status"] = MetadataValue.md(markdown_counts(build.parse_status, "status", "files"))
        metadata["files"] = build.files
        metadata["reports_quarantined_by_validation"] = len(build.quarantined_report_ids)
        metadata["schema_failure_cases"] = len(build.failure_cases)
        if build.duplicate_reports is not None:
            metadata["same_agency_and_year_reported_twice"] = len(build.duplicate_reports)
        if len(frame):
            metadata["templates"] = MetadataValue.md(markdown_counts(
                frame["template"].fillna("none").astype(str).value_counts().to_dict(), "template", "reports"))
    if name == "findings":
        metadata["findings_by_rule"] = MetadataValue.md(markdown_counts(build.findings_by_rule, "rule", "findings"))
        summary = _rule_summary(build.rule_summary)  # reports checked / violating per rule
        if summary is not None:
            metadata["rule_summary"] = summary
    if name == "quarantine":
        metadata["quarantined_by_reason"] = MetadataValue.md(markdown_counts(build.quarantine_reasons, "reason",
                                                                             "files"))
    return metadata


@multi_asset(specs=CORE_SPECS, name="core_reports_parsed", partitions_def=report_year_partitions,
             can_subset=False,
             description="Parse the year's files (parallel, streamed), build the tidy tables, validate them, and "
             "replace the year's rows in DuckDB schema core.")
def core_reports_parsed(context: AssetExecutionContext, paths: PathsResource,
                        parsing: ParsingResource) -> Iterator[MaterializeResult]:
    year = int(context.partition_key)
    build = build_core_year(paths.warehouse, paths.landing, year, workers=parsing.workers,
                            max_bytes=parsing.max_bytes, max_seconds=parsing.max_seconds_per_file or None)
    context.log.info(f"{year}: {build.files} files → {build.rows} (parse status {build.parse_status})")
    for name in TABLE_NAMES:
        yield MaterializeResult(asset_key=core_key(name), metadata=table_metadata(name, build))
