"""The release season: reports are due by 31 January, so from 1 February to 31 March the previous year's
partition is rebuilt every morning (Beijing time) — late and corrected reports flow into a new release version,
an unchanged year publishes nothing new."""

from dagster import DefaultScheduleStatus, RunRequest, ScheduleEvaluationContext, SkipReason, schedule

from assets.partitions import REPORT_YEAR
from orchestration.jobs import yearly_job


def season_year(context: ScheduleEvaluationContext) -> int:
    return context.scheduled_execution_time.year - 1


@schedule(job=yearly_job, cron_schedule="0 6 * 2,3 *", execution_timezone="Asia/Shanghai",
          default_status=DefaultScheduleStatus.RUNNING,
          description="Daily at 06:00 (Asia/Shanghai) from 1 February to 31 March: rebuild the previous report year.")
def release_season_schedule(context: ScheduleEvaluationContext) -> RunRequest | SkipReason:
    year = season_year(context)
    if not context.instance.has_dynamic_partition(REPORT_YEAR, str(year)):
        return SkipReason(f"no partition {year} yet: no file for {year} has reached the landing folder")
    return RunRequest(partition_key=str(year), tags={"govreports/trigger": "release_season"})
