"""The one partitioning of the asset graph: report years, added at run time (no code change for a new year).

The landing sensor and ``govreports run`` add a partition for every year folder (or report year) they find.
Assets read ``context.partition_key`` and so handle one year per run: Dagster's default backfill policy (no
``backfill_policy`` set) launches one run per partition, which is what a backfill over several years needs.
"""

from dagster import DynamicPartitionsDefinition

REPORT_YEAR = "report_year"

report_year_partitions = DynamicPartitionsDefinition(name=REPORT_YEAR)
