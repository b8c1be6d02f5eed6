"""The one ``Definitions`` object (``defs``) that ``workspace.yaml`` loads: assets, checks, job, sensors,
schedule and resources.  ``build_definitions(data_dir)`` makes the same graph for another data directory
(``govreports run --data-dir``, tests)."""

import os
import warnings

from dagster import Definitions, with_source_code_references
from dagster._utils.warnings import BetaWarning

from assets.checks import CORE_CHECKS
from assets.core import core_reports_parsed
from assets.expectation_checks import core_expectation_checks
from assets.out import out_release, out_wide_tables
from assets.raw import raw_reports
from orchestration.jobs import yearly_job
from orchestration.resources import resources_from_env
from orchestration.schedules import release_season_schedule
from orchestration.sensors import landing_sensor, notify_on_run_failure


def build_definitions(data_dir: str | os.PathLike[str] | None = None) -> Definitions:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BetaWarning)  # code references are a Dagster "beta" feature
        assets = with_source_code_references([raw_reports, core_reports_parsed, out_wide_tables, out_release])
    return Definitions(
        assets=assets,
        asset_checks=[*CORE_CHECKS, core_expectation_checks],
        jobs=[yearly_job],
        sensors=[landing_sensor, notify_on_run_failure],
        schedules=[release_season_schedule],
        resources=resources_from_env(data_dir),
    )


defs = build_definitions()
