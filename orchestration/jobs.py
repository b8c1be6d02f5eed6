"""Jobs: the whole graph for one report year (the sensor, the schedule and ``govreports run`` launch it).

The instance written by ``orchestration.instance`` runs one run at a time (DuckDB has one writer); the
warehouse file lock (``govreports.warehouse``) covers in-process runs too.
"""

from dagster import AssetSelection, define_asset_job

YEARLY_JOB = "govreports_yearly"

yearly_job = define_asset_job(
    YEARLY_JOB,
    selection=AssetSelection.all(),
    description="Ingest, parse, validate and publish one report year: raw_reports → core_* (checked) → out_*.",
)
