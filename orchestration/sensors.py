"""Sensors: new or changed files in the landing folder start runs for their years; failed runs send alerts.

The landing sensor never opens the warehouse (a run may hold it): its cursor keeps each file's mtime, size,
sha256 and year, and each year's digest of (path, sha256).  A year runs when its digest differs from the cursor —
or, on a first tick, from the ``landing_digest`` recorded by that year's last ``raw_reports`` materialization, so
that years already run by ``govreports run`` are not run again.  New years become dynamic partitions.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from dagster import (
    AssetKey,
    AssetRecordsFilter,
    DagsterInstance,
    DefaultSensorStatus,
    RunFailureSensorContext,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    run_failure_sensor,
    sensor,
)

from assets.partitions import REPORT_YEAR, report_year_partitions
from govreports.ingest import assign_years, digests_by_year, reusable_years, scan_landing, year_digest
from govreports.readers.manifest import is_manifest
from orchestration.jobs import yearly_job
from orchestration.resources import NotifierResource, ParsingResource, PathsResource

EMPTY_DIGEST = year_digest([])


@dataclass
class LandingState:
    """The landing sensor's cursor."""

    files: dict[str, list] = field(default_factory=dict)  # path -> [mtime_ns, size, sha256, format, year]
    years: dict[str, str] = field(default_factory=dict)  # year -> digest

    @classmethod
    def from_cursor(cls, cursor: str | None) -> "LandingState":
        if not cursor:
            return cls()
        data = json.loads(cursor)
        return cls(files=data.get("files", {}), years=data.get("years", {}))

    def to_cursor(self) -> str:
        return json.dumps({"files": self.files, "years": self.years}, sort_keys=True, separators=(",", ":"))


@dataclass
class LandingPlan:
    years: list[int]  # years to run
    changed: dict[int, list[str]]  # year -> paths added, changed or removed
    state: LandingState
    all_years: list[int]


def _changed(before: dict[str, list], now: dict[str, list]) -> dict[int, list[str]]:
    """Year -> paths added, changed, removed or moved in or out of it (a manifest edit can move a file outside
    year folders); a manifest added, changed or removed is listed under the years of the files beside it."""
    folder_years: dict[PurePosixPath, set[int]] = {}
    for files in (before, now):
        for path, value in files.items():
            if value[4] is not None:
                folder_years.setdefault(PurePosixPath(path).parent, set()).add(value[4])
    changed: dict[int, list[str]] = {}
    for path in sorted(before.keys() | now.keys()):
        then, value = before.get(path), now.get(path)
        same_bytes = then is not None and value is not None and then[2] == value[2]
        if same_bytes and then[4] == value[4]:
            continue
        years = {entry[4] for entry in (then, value) if entry is not None and entry[4] is not None}
        if is_manifest(path) and not same_bytes:
            years |= folder_years.get(PurePosixPath(path).parent, set())
        for year in years:
            changed.setdefault(year, []).append(path)
    return changed


def plan_landing(landing: Path, state: LandingState, *, baseline: Callable[[int], str | None] = lambda _: None,
                 max_bytes: int | None = None) -> LandingPlan:
    """Which years need a run, given the previous state (pure: reads the landing folder only).  Years are
    assigned as ``raw_reports`` assigns them: the cursor's years are reused only where the ledger's would be
    (``reusable_years``), so the sensor and the ingest never file a file under different years."""
    known = {p: (v[0], v[1], v[2], v[3]) for p, v in state.files.items() if v[2]}
    known_years = reusable_years((p, v[2], v[4]) for p, v in state.files.items())
    assigned = assign_years(scan_landing(landing, known=known), known_years=known_years, max_bytes=max_bytes,
                            root=Path(landing).resolve())
    digests = digests_by_year(assigned)
    files = {f.path: [f.mtime_ns, f.size, f.sha256, f.format, year] for f, year in assigned}
    changed = _changed(state.files, files)
    candidates = set(digests) | {int(y) for y in state.years}
    run = []
    for year in sorted(candidates):
        now = digests.get(year, EMPTY_DIGEST)
        then = state.years.get(str(year)) or baseline(year)
        if now != then and not (then is None and now == EMPTY_DIGEST):
            run.append(year)
    new_state = LandingState(files=files, years={str(y): d for y, d in sorted(digests.items())})
    return LandingPlan(run, changed, new_state, sorted(digests))


def last_landing_digest(instance: DagsterInstance, year: int) -> str | None:
    """``landing_digest`` of the latest ``raw_reports`` materialization of ``year``, if any."""
    result = instance.fetch_materializations(
        AssetRecordsFilter(asset_key=AssetKey("raw_reports"), asset_partitions=[str(year)]), limit=1)
    for record in result.records:
        materialization = record.asset_materialization
        value = materialization.metadata.get("landing_digest") if materialization else None
        if value is not None:
            return str(value.value)
    return None


def _describe(paths: list[str], limit: int = 200) -> str:
    text = f"{len(paths)}: " + ", ".join(paths)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@sensor(job=yearly_job, minimum_interval_seconds=30, default_status=DefaultSensorStatus.RUNNING,
        description="Runs the yearly job for each report year whose landing files were added, changed or removed.")
def landing_sensor(context: SensorEvaluationContext, paths: PathsResource,
                   parsing: ParsingResource) -> SensorResult | SkipReason:
    state = LandingState.from_cursor(context.cursor)
    plan = plan_landing(paths.landing, state, baseline=lambda year: last_landing_digest(context.instance, year),
                        max_bytes=parsing.max_bytes)
    existing = set(context.instance.get_dynamic_partitions(REPORT_YEAR))
    new_partitions = [str(y) for y in plan.all_years if str(y) not in existing]
    requests = [
        RunRequest(
            run_key=f"{REPORT_YEAR}={year}:{plan.state.years.get(str(year), EMPTY_DIGEST)[:16]}",
            partition_key=str(year),
            tags={"govreports/trigger": "landing_sensor",
                  "govreports/changed_files": _describe(plan.changed.get(year, []))},
        )
        for year in plan.years
        if str(year) in existing or str(year) in new_partitions
    ]
    if not requests and not new_partitions and plan.state.to_cursor() == (context.cursor or LandingState().to_cursor()):
        return SkipReason("no new, changed or removed files in the landing folder")
    return SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=(
            [report_year_partitions.build_add_request(new_partitions)] if new_partitions else []),
        cursor=plan.state.to_cursor(),
    )


@run_failure_sensor(name="notify_on_run_failure", default_status=DefaultSensorStatus.RUNNING,
                    description="Sends every failed run of this code location through the notifier resource.")
def notify_on_run_failure(context: RunFailureSensorContext, notifier: NotifierResource) -> None:
    run = context.dagster_run
    notifier.send({
        "kind": "run_failure",
        "job": run.job_name,
        "run_id": run.run_id,
        "partition": run.tags.get("dagster/partition"),
        "message": context.failure_event.message,
    })
