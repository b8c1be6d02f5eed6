"""Great Expectations suites (``expectations/suites/*.yaml``) as Dagster asset checks on the core tables.

One check per ``check`` name declared in the suite files (``expectations.list_checks``, read without GX), all
evaluated in one step per yearly partition: the year's core tables are read back from DuckDB, the previous
year's serve as the baseline, GX runs every suite, Data Docs are built under ``<data dir>/data_docs/<year>/``
and the full results are kept in ``<data dir>/expectations/<year>.json`` for the release.  Blocking checks stop
``out_release``.  Failed checks alert through the notifier *inside the run*, so that a run started from the
UI, a schedule, a sensor or the CLI alerts the same way with or without the Dagster daemon.
Not here: the suites themselves (``expectations/``), sending (``govreports.alerts``).
"""

import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckKey,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    MetadataValue,
    multi_asset_check,
)
from dagster._utils.warnings import PreviewWarning

from assets.metadata import core_key
from assets.partitions import report_year_partitions
from expectations import list_checks, run_suites
from govreports.alerts import alerts_for_failed_checks
from govreports.build import release_frames
from orchestration.resources import NotifierResource, PathsResource


def expectation_results_path(data_dir: Path, year: int) -> Path:
    return data_dir / "expectations" / f"{year}.json"


def _specs() -> list[AssetCheckSpec]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PreviewWarning)  # partitioned checks are a Dagster "preview" feature
        return [AssetCheckSpec(c.check_name, asset=core_key(c.table), blocking=c.blocking,
                               partitions_def=report_year_partitions, description=c.description)
                for c in list_checks()]


def _metadata(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        if value is None:
            continue
        if key == "summary":
            out[key] = MetadataValue.md(str(value))
        elif key == "data_docs":
            out[key] = MetadataValue.path(str(value))
        elif isinstance(value, (dict, list, tuple)):
            out[key] = MetadataValue.json(value)
        else:
            out[key] = value
    return out


@multi_asset_check(specs=_specs(), name="core_expectation_checks", can_subset=True,
                   description="Great Expectations suites of every core table (expectations/suites/*.yaml).")
def core_expectation_checks(context: AssetCheckExecutionContext, paths: PathsResource,
                            notifier: NotifierResource) -> Iterator[AssetCheckResult]:
    year = int(context.partition_key)
    frames = release_frames(paths.warehouse, year)
    previous = release_frames(paths.warehouse, year - 1)
    results = run_suites(frames, year, previous, paths.paths.root / "data_docs" / str(year),
                         run_name=context.run.run_id)
    target = expectation_results_path(paths.paths.root, year)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(results.to_release_json(), ensure_ascii=False, sort_keys=True), encoding="utf-8")
    checks = results.check_results()
    alerts = alerts_for_failed_checks(checks, {"year": year, "partition": context.partition_key},
                                      run_id=context.run.run_id)
    notifier.send_all(alerts)
    selected = context.selected_asset_check_keys
    for check in checks:
        key = AssetCheckKey(core_key(check["table"]), check["check_name"])
        if key not in selected:
            continue
        yield AssetCheckResult(asset_key=key.asset_key, check_name=check["check_name"], passed=check["passed"],
                               severity=AssetCheckSeverity(check["severity"]),
                               metadata=_metadata(check.get("metadata") or {}))
