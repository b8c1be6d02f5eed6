"""``out_*``: what users read — wide tables in DuckDB schema ``out`` and the year's published release.

``out_<table>_wide`` pivots each cell table to one row per report (``govreports.build.wide_tables``);
``out_release`` hands the validated core tables to ``datapackage.publish.publish_release``, loads the release
into the warehouse (``datapackage.warehouse.load_release``: one schema per release) and records in the ledger
which reports each release version holds.
"""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext, AssetSpec, MaterializeResult, MetadataValue, asset, multi_asset

from assets.expectation_checks import expectation_results_path
from assets.metadata import core_key, frame_schema, preview, wide_column_lineage
from assets.partitions import report_year_partitions
from govreports import warehouse
from govreports.build import REPORT_COLUMNS, WIDE_TABLES, build_out_year, release_frames
from govreports.columns import TABLE_NAMES
from govreports.ingest import record_release
from orchestration.resources import PathsResource

WIDE_SPECS = [
    AssetSpec(
        f"out_{name}_wide",
        deps=[core_key("reports"), core_key(name)],
        group_name="out",
        kinds={"duckdb", "pandas"},
        description=f"core.{name} pivoted: one row per report, one column per cell (<row>__<column>), with the "
        "report's agency, template and status.",
        metadata={"dagster/table_name": f"out.{name}_wide"},
    )
    for name in WIDE_TABLES
]


@multi_asset(specs=WIDE_SPECS, name="out_wide_tables", partitions_def=report_year_partitions,
             can_subset=False)
def out_wide_tables(context: AssetExecutionContext, paths: PathsResource) -> Iterator[MaterializeResult]:
    year = int(context.partition_key)
    tables = build_out_year(paths.warehouse, year)
    for name in WIDE_TABLES:
        frame = tables[f"{name}_wide"]
        yield MaterializeResult(asset_key=f"out_{name}_wide", metadata={
            "dagster/row_count": len(frame),
            "dagster/column_schema": frame_schema(frame),
            "dagster/column_lineage": wide_column_lineage(name, ["report_year", *frame.columns], REPORT_COLUMNS),
            "cell_columns": max(0, frame.shape[1] - len(REPORT_COLUMNS)),
            "preview": preview(frame),
        })


def _release_metadata(release: Any) -> dict[str, Any]:
    """Metadata of a ``datapackage.publish.Release``: version, folder, whether it is new, and the diff counts."""
    out: dict[str, Any] = {
        "release_version": str(release.version),
        "release_path": MetadataValue.path(str(release.path)),
        "release_created": bool(release.created),
        "release_previous_version": str(release.previous_version or "-"),
    }
    if getattr(release, "fingerprint", ""):
        out["release_fingerprint"] = release.fingerprint
    reports = (release.diff or {}).get("reports") if isinstance(release.diff, dict) else None
    if reports:
        out["release_reports_changed"] = MetadataValue.json({k: len(v) for k, v in reports.items()})
    return out


@asset(
    partitions_def=report_year_partitions,
    group_name="out",
    kinds={"frictionless", "parquet", "csv"},
    deps=[core_key(name) for name in TABLE_NAMES],
    description="The year's versioned Frictionless data package under <data dir>/releases/<year>/ "
    "(datapackage.publish.publish_release): a new version only when the content changed.",
)
def out_release(context: AssetExecutionContext, paths: PathsResource) -> MaterializeResult:
    # the release package is imported when the asset runs: the graph loads (and the UI starts) without it
    from datapackage.publish import publish_release
    from datapackage.warehouse import load_release

    year = int(context.partition_key)
    frames = release_frames(paths.warehouse, year)
    results = expectation_results_path(paths.paths.root, year)
    expectations = json.loads(results.read_text(encoding="utf-8")) if results.exists() else None
    release = publish_release(frames, year, paths.releases, expectations=expectations)
    metadata = _release_metadata(release)
    with warehouse.locked(paths.warehouse):  # load_release connects by itself; DuckDB takes one writer
        metadata["warehouse_schema"] = load_release(Path(release.path), paths.warehouse)
    with warehouse.session(paths.warehouse) as con, warehouse.transaction(con):
        record_release(con, year, str(release.version), frames["reports"]["report_id"].astype(str))
    context.log.info(f"{year}: release {release.version} ({'new' if release.created else 'unchanged'})")
    return MaterializeResult(metadata={
        "reports": len(frames["reports"]),
        "rows": MetadataValue.json({name: len(frame) for name, frame in frames.items()}),
        "releases_folder": MetadataValue.path(str(paths.releases / str(year))),
        **metadata,
    })
