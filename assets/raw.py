"""``raw_reports``: the landing folder's files of one report year, recorded in the ledger.

A thin wrapper over ``govreports.ingest.ingest_year``: unchanged files are skipped, changed files become new
versions, duplicates are recorded; the metadata says which.  Report files and the collectors' manifests beside
them are counted apart, as ``govreports.ingest.ledger_counts`` (and ``govreports ledger``) count them.
"""

from collections import Counter

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from assets.metadata import markdown_counts, preview, raw_table_schema
from assets.partitions import report_year_partitions
from govreports import warehouse
from govreports.ingest import MANIFEST, ingest_year, ledger_counts
from orchestration.resources import ParsingResource, PathsResource


@asset(
    partitions_def=report_year_partitions,
    group_name="raw",
    kinds={"duckdb", "python"},
    metadata={"dagster/column_schema": raw_table_schema(), "ledger_table": "ledger.files"},
    description="Raw report files of one year (landing/<year>/…, else the year of the collector's manifest beside "
    "the file, else the year printed in the report), with sha256, size and format, recorded in the ledger with the "
    "manifests beside them: re-runs skip known files, changes become new versions, duplicates are flagged.",
)
def raw_reports(context: AssetExecutionContext, paths: PathsResource, parsing: ParsingResource) -> MaterializeResult:
    year = int(context.partition_key)
    summary = ingest_year(paths.warehouse, paths.landing, year, max_bytes=parsing.max_bytes,
                          max_seconds=parsing.max_seconds_per_file or None)
    with warehouse.session(paths.warehouse) as con:
        counts = ledger_counts(con, year)
    rows = summary.manifest  # the year's current ledger rows: report files and the manifests in its year folder
    files = rows[rows["status"] != MANIFEST] if len(rows) else rows
    context.log.info(f"{year}: {counts.current} files, {counts.manifests} manifests — {dict(summary.counts)}")
    formats = Counter(files["format"].fillna("unread").astype(str)) if len(files) else Counter()
    statuses = Counter(files["status"].astype(str)) if len(files) else Counter()
    return MaterializeResult(metadata={
        "dagster/row_count": counts.current,
        "landing_digest": summary.digest,
        "files_new": summary.counts["new"],
        "files_changed": summary.counts["changed"],
        "files_unchanged": summary.counts["unchanged"],
        "files_removed": summary.counts["removed"],
        "duplicates": int((files["reason"] == "duplicate").sum()) if len(files) else 0,
        "bytes": int(files["size"].fillna(0).sum()) if len(files) else 0,
        "manifests": counts.manifests,
        "manifests_invalid": counts.manifests_invalid,
        "formats": MetadataValue.md(markdown_counts(formats, "format", "files")),
        "ledger_status": MetadataValue.md(markdown_counts(statuses, "status", "files")),
        "preview": preview(rows.drop(columns=["sha256"]).assign(sha256=rows["sha256"].str[:12])
                           if len(rows) else rows, rows=10),
        "landing_folder": MetadataValue.path(str(paths.landing)),
    })
