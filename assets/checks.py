"""Blocking schema checks on the core tables, generated from the column model by one factory (as in PUDL).

``schema_check_spec`` makes one blocking ``schema`` check per core table; ``build_schema_checks`` gathers them in a
single check step (one DuckDB session, one step per run instead of seven; any subset can be run from the UI).
Each check reads its table's partition back from DuckDB and validates it with the pandera schema generated from
``govreports.columns`` (``govreports.schemas.validate_frame``) plus the foreign keys to ``reports``; failures
become structured metadata (counts by column and check, sample failure cases), never a stack trace.  A failing
check blocks the ``out_*`` assets of that year.  Not here: the rules themselves (``govreports.schemas``/``rules``)
or data-value expectations.
"""

import warnings
from collections.abc import Iterable, Iterator

import pandas as pd
from dagster import (
    AssetCheckExecutionContext,
    AssetCheckKey,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetCheckSpec,
    MetadataValue,
    multi_asset_check,
)
from dagster._utils.warnings import PreviewWarning

from assets.metadata import core_key, markdown_table
from assets.partitions import report_year_partitions
from govreports import warehouse
from govreports.columns import TABLE_NAMES, build_tables
from govreports.schemas import foreign_key_failures, validate_frame
from orchestration.resources import PathsResource

CHECK_NAME = "schema"


def summarise_failures(cases: pd.DataFrame) -> dict[str, object]:
    if cases.empty:
        return {"failure_cases": 0}
    by = cases.assign(column=cases["column"].fillna("(table)").astype(str), check=cases["check"].astype(str))
    counts = by.groupby(["column", "check"]).size().rename("cases").reset_index().sort_values("cases", ascending=False)
    return {
        "failure_cases": len(cases),
        "failures_by_check": MetadataValue.md(markdown_table(counts, rows=30, width=60)),
        "failure_sample": MetadataValue.md(markdown_table(cases, rows=10, width=40)),
    }


def schema_check_spec(name: str) -> AssetCheckSpec:
    """The blocking ``schema`` check of ``core_<name>``, described from the column model."""
    table = build_tables()[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PreviewWarning)  # partitioned checks are a Dagster "preview" feature
        return AssetCheckSpec(
            CHECK_NAME, asset=core_key(name), blocking=True, partitions_def=report_year_partitions,
            description=f"core.{name} matches its pandera schema generated from the column model: types, codes, "
            f"nullability, key ({', '.join(table.primary_key)})"
            f"{', foreign key to reports' if table.foreign_keys else ''}.",
        )


def evaluate_schema(name: str, frames: dict[str, pd.DataFrame], moved: pd.DataFrame) -> AssetCheckResult:
    """Check result of one table: ``frames`` holds the table (and ``reports`` for the foreign key) as stored;
    ``moved`` the failure cases that validation already quarantined when the table was built."""
    table = build_tables()[name]
    frame = frames[name]
    cases = validate_frame(name, frame).failure_cases
    if table.foreign_keys:
        cases = pd.concat([cases, foreign_key_failures({name: frame, "reports": frames["reports"]})],
                          ignore_index=True)
    quarantined = int((moved["table"] == name).sum()) if len(moved) else 0
    return AssetCheckResult(
        asset_key=core_key(name), check_name=CHECK_NAME, passed=cases.empty, severity=AssetCheckSeverity.ERROR,
        metadata={"rows": len(frame), "failure_cases_quarantined_at_build": quarantined, **summarise_failures(cases)},
    )


def build_schema_checks(names: Iterable[str] = TABLE_NAMES) -> AssetChecksDefinition:
    names = tuple(names)

    @multi_asset_check(specs=[schema_check_spec(n) for n in names], name="core_schema_checks", can_subset=True,
                       description="pandera schema of every core table, read back from DuckDB.")
    def core_schema_checks(context: AssetCheckExecutionContext, paths: PathsResource) -> Iterator[AssetCheckResult]:
        year = int(context.partition_key)
        selected = [n for n in names if AssetCheckKey(core_key(n), CHECK_NAME) in context.selected_asset_check_keys]
        with warehouse.session(paths.warehouse) as con:
            frames = {n: warehouse.read_model_table(con, n, year) for n in {*selected, "reports"}}
            moved = warehouse.read_partition(con, "core", "validation_failures", year)
        for name in selected:
            yield evaluate_schema(name, frames, moved)

    return core_schema_checks


CORE_CHECKS = [build_schema_checks()]
