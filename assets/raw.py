"""``raw_reports``: the landing folder's files of one report year, recorded in the ledger.

A thin wrapper over ``govreports.ingest.ingest_year``: unchanged files are skipped, changed files become new
versions, duplicates are recorded; the metadata says which.
"""

from collections import Counter

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from assets.metadata import markdown_counts, preview, raw_table_schema
from assets.partitions import report_year_partitions
from govreports.ingest import ingest_year
from orchestration.resources import ParsingResource, PathsResource


@asset(
    partitions_def=report_year_partitions,
    group_name="raw",
    kinds={"duckdb", "python"},
    metadata={"dagster/column_schema": raw_table_schema(), "ledger_table": "ledger.files"},
    description="Raw report files of one year (landing/<year>/…, or the year printed in the report), with sha256, "
    "size and format, recorded in the ledger: re-runs skip known files, changes become new versions, duplicates "
    "are flagged.",
)
def raw_reports(context: AssetExecutionContext, paths: PathsResource, parsing: ParsingResource) -> MaterializeResult:
    year = int(context.partition_key)
    summary = ingest_year(paths.warehouse, paths.landing, year, max_bytes=parsing.max_bytes,
                          max_seconds=parsing.max_seconds_per_file or None)
    manifest = summary.manifest
    context.log.info(f"{year}: {len(manifest)} files — {dict(summary.counts)}")
    formats = Counter(manifest["format"].fillna("unread").astype(str)) if len(manifest) else Counter()
    statuses = Counter(manifest["status"].astype(str)) if len(manifest) else Counter()
    return MaterializeResult(metadata={
        "dagster/row_count": len(manifest),
        "landing_digest": summary.digest,
        "files_new": summary.counts["new"],
        "files_changed": summary.counts["changed"],
        "files_unchanged": summary.counts["unchanged"],
        "files_removed": summary.counts["removed"],
        "duplicates": int((manifest["reason"] == "duplicate").sum()) if len(manifest) else 0,
        "bytes": int(manifest["size"].fillna(0).sum()) if len(manifest) else 0,
        "formats": MetadataValue.md(markdown_counts(formats, "format", "files")),
        "ledger_status": MetadataValue.md(markdown_counts(statuses, "status", "files")),
        "preview": preview(manifest.drop(columns=["sha256"]).assign(sha256=manifest["sha256"].str[:12])
                           if len(manifest) else manifest, rows=10),
        "landing_folder": MetadataValue.path(str(paths.landing)),
    })
