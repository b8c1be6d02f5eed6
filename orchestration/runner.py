"""Materialise whole report years through Dagster from Python (what ``govreports run`` does).

Each year is one run of the ``govreports_yearly`` job in the persistent instance under
``<data dir>/dagster_home`` — the same run records and asset history that the UI shows.  Each run is tagged with
the host, process id and process start time of the ``govreports run`` that executes it, so that a later
``govreports run`` can tell that a run left ``STARTED`` belongs to a process that was killed (``kill -9``, a
crash, a reboot) and mark it failed — otherwise it would count as in progress forever and block the queue of an
instance that runs one run at a time.
"""

import os
import re
import socket
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import psutil
from dagster import DagsterInstance, DagsterRunStatus, RunsFilter
from dagster._utils.warnings import BetaWarning, PreviewWarning

from assets.partitions import REPORT_YEAR
from govreports.ingest import landing_years
from govreports.paths import DataPaths
from orchestration.instance import open_instance
from orchestration.jobs import YEARLY_JOB

_RANGE = re.compile(r"^\s*(\d{4})\s*(?:-\s*(\d{4}))?\s*$")


def parse_years(text: str) -> list[int]:
    """``2019-2023``, ``2020``, ``2019,2021-2022`` → sorted years."""
    years: set[int] = set()
    for part in text.split(","):
        match = _RANGE.match(part)
        if not match:
            raise ValueError(f"not a year or year range: {part!r}")
        first, last = int(match[1]), int(match[2] or match[1])
        if last < first:
            raise ValueError(f"empty year range: {part!r}")
        years.update(range(first, last + 1))
    return sorted(years)


@dataclass
class YearRun:
    year: int
    status: str  # success | failure | skipped
    run_id: str | None = None
    seconds: float = 0.0
    metadata: dict[str, dict[str, Any]] = field(default_factory=dict)  # asset key -> metadata values
    failed_checks: list[str] = field(default_factory=list)

    def value(self, asset: str, key: str, default: Any = None) -> Any:
        return self.metadata.get(asset, {}).get(key, default)


def _metadata(result) -> tuple[dict[str, dict[str, Any]], list[str]]:
    values: dict[str, dict[str, Any]] = {}
    for event in result.get_asset_materialization_events():
        materialization = event.materialization
        values[materialization.asset_key.to_user_string()] = {k: v.value for k, v in materialization.metadata.items()}
    failed = [f"{e.asset_key.to_user_string()}:{e.check_name}" for e in result.get_asset_check_evaluations()
              if not e.passed]
    return values, failed


def summary_line(run: YearRun) -> str:
    if run.status == "skipped":
        return f"{run.year}: skipped — no files for this year in the landing folder"
    reports = run.value("core_reports", "dagster/row_count", 0)
    quarantined = run.value("core_quarantine", "dagster/row_count", 0)
    findings = run.value("core_findings", "dagster/row_count", 0)
    files = run.value("raw_reports", "dagster/row_count", 0)
    new = run.value("raw_reports", "files_new", 0)
    release = run.value("out_release", "release_version") or run.value("out_release", "release_path") or "-"
    text = (f"{run.year}: {run.status} in {run.seconds:.1f}s — {files} files ({new} new), {reports} reports, "
            f"{quarantined} quarantined, {findings} findings, release {release} (run {run.run_id})")
    if run.failed_checks:
        text += f"; failed checks: {', '.join(run.failed_checks)}"
    return text


HOST_TAG, PID_TAG, STARTED_TAG = "govreports/host", "govreports/pid", "govreports/process_started"
_UNFINISHED = [DagsterRunStatus.STARTED, DagsterRunStatus.STARTING, DagsterRunStatus.NOT_STARTED]


def process_tags() -> dict[str, str]:
    """Tags naming this process, so that its runs can be recognised as orphaned once it is gone."""
    return {HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid()),
            STARTED_TAG: f"{psutil.Process().create_time():.2f}"}


def _process_gone(tags: dict[str, str]) -> bool:
    """True when the tagged process is certainly not running any more (same host, pid gone or reused)."""
    if tags.get(HOST_TAG) != socket.gethostname() or not tags.get(PID_TAG, "").isdigit():
        return False
    try:
        started = psutil.Process(int(tags[PID_TAG])).create_time()
    except psutil.NoSuchProcess:
        return True
    except psutil.Error:
        return False
    return f"{started:.2f}" != tags.get(STARTED_TAG)


def fail_orphaned_runs(instance: DagsterInstance) -> list[str]:
    """Mark failed every unfinished run started by a ``govreports run`` process that no longer exists."""
    failed = []
    for run in instance.get_runs(RunsFilter(statuses=_UNFINISHED, tags={"govreports/trigger": "cli"})):
        if _process_gone(run.tags):
            instance.report_run_failed(run, f"the govreports run process {run.tags.get(PID_TAG)} died while this run "
                                            "was in progress (killed or crashed); marked failed by a later run")
            failed.append(run.run_id)
    return failed


def run_years(paths: DataPaths, years: Iterable[int] | None = None, *, instance: DagsterInstance | None = None,
              echo: Callable[[str], None] = print, log_level: str = "ERROR") -> list[YearRun]:
    """Run the yearly job for each year (default: every year found in the landing folder), one after another."""
    from orchestration.definitions import build_definitions  # after DAGSTER_HOME is set by open_instance

    paths.ensure()
    instance = instance or open_instance(paths)
    for run_id in fail_orphaned_runs(instance):
        echo(f"run {run_id} was left unfinished by a process that died: marked failed")
    found = set(landing_years(paths.landing))
    known = set(instance.get_dynamic_partitions(REPORT_YEAR))
    wanted = sorted(found) if years is None else sorted(set(years))
    runnable = [y for y in wanted if y in found or str(y) in known]
    missing = [str(y) for y in runnable if str(y) not in known]
    if missing:
        instance.add_dynamic_partitions(REPORT_YEAR, missing)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BetaWarning)
        warnings.simplefilter("ignore", PreviewWarning)
        job = build_definitions(paths.root).resolve_job_def(YEARLY_JOB)
    runs = []
    for year in wanted:
        if year not in runnable:
            runs.append(YearRun(year, "skipped"))
            echo(summary_line(runs[-1]))
            continue
        echo(f"{year}: running {YEARLY_JOB} …")
        started = time.monotonic()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PreviewWarning)
            result = job.execute_in_process(
                partition_key=str(year), instance=instance, raise_on_error=False,
                tags={"govreports/trigger": "cli", **process_tags()},
                run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
            )
        metadata, failed = _metadata(result)
        status = "success" if result.success else "failure"
        run = YearRun(year, status, result.run_id, time.monotonic() - started, metadata, failed)
        if not result.success:
            record = instance.get_run_by_id(result.run_id)
            if record is not None and record.status != DagsterRunStatus.FAILURE:
                run.status = record.status.value.lower()
        runs.append(run)
        echo(summary_line(run))
    return runs
