"""Sensors and the schedule, evaluated with Dagster's test contexts: the landing sensor requests runs only for
the years whose files changed (naming those files) and adds new years as partitions; the run-failure sensor
alerts through the notifier; the release-season schedule targets the previous year."""

from __future__ import annotations

import json
import shutil
import warnings
from datetime import datetime
from pathlib import Path

import pytest
from dagster import (
    AssetMaterialization,
    DagsterInstance,
    DagsterRunStatus,
    RunRequest,
    SensorResult,
    SkipReason,
    build_run_status_sensor_context,
    build_schedule_context,
    build_sensor_context,
    instance_for_test,
    job,
    op,
)

from govreports import warehouse
from govreports.ingest import assign_years, digests_by_year, ingest_year, scan_landing
from orchestration.resources import NotifierResource, ParsingResource, PathsResource
from orchestration.schedules import release_season_schedule
from orchestration.sensors import LandingState, landing_sensor, notify_on_run_failure, plan_landing
from tests.gold import CORPUS
from tests.pipeline_data import lay_landing


@pytest.fixture
def instance(tmp_path: Path) -> DagsterInstance:
    home = tmp_path / "dagster_home"
    home.mkdir()
    with instance_for_test(temp_dir=str(home)) as inst:
        yield inst


@pytest.fixture
def root(tmp_path: Path) -> Path:
    lay_landing(tmp_path / "landing")
    return tmp_path


def tick(instance: DagsterInstance, root: Path, cursor: str | None) -> SensorResult | SkipReason:
    context = build_sensor_context(instance=instance, cursor=cursor, resources={
        "paths": PathsResource(data_dir=str(root)), "parsing": ParsingResource(workers=1)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = landing_sensor(context)
    if isinstance(result, SensorResult):  # what the daemon does with the result
        for request in result.dynamic_partitions_requests or []:
            instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    return result


def requested(result: SensorResult) -> dict[str, RunRequest]:
    return {r.partition_key: r for r in result.run_requests}


def test_first_tick_runs_every_year_and_adds_partitions(instance: DagsterInstance, root: Path) -> None:
    result = tick(instance, root, None)
    assert isinstance(result, SensorResult)
    assert sorted(requested(result)) == ["2019", "2020", "2021"]
    assert sorted(instance.get_dynamic_partitions("report_year")) == ["2019", "2020", "2021"]
    assert isinstance(tick(instance, root, result.cursor), SkipReason)  # nothing changed since


def test_new_file_requests_only_its_year_and_names_only_it(instance: DagsterInstance, root: Path) -> None:
    cursor = tick(instance, root, None).cursor
    shutil.copyfile(CORPUS / "dev" / "putian_yjglj_2021.txt", root / "landing" / "2021" / "new_report.txt")
    result = tick(instance, root, cursor)
    assert isinstance(result, SensorResult)
    assert list(requested(result)) == ["2021"]
    request = requested(result)["2021"]
    assert request.tags["govreports/changed_files"] == "1: 2021/new_report.txt"
    assert request.run_key and request.run_key.startswith("report_year=2021:")
    state = json.loads(result.cursor)
    assert "2021/new_report.txt" in state["files"]
    assert isinstance(tick(instance, root, result.cursor), SkipReason)


def test_changed_and_removed_files_and_a_new_year(instance: DagsterInstance, root: Path) -> None:
    cursor = tick(instance, root, None).cursor
    (root / "landing" / "2019" / "putian_cgj_2019.txt").write_bytes(b"changed")
    (root / "landing" / "2020" / "notes.txt").unlink()
    (root / "landing" / "2024").mkdir()
    shutil.copyfile(CORPUS / "dev" / "pingtan_gaj_2024.txt", root / "landing" / "2024" / "pingtan_gaj_2024.txt")
    result = tick(instance, root, cursor)
    runs = requested(result)
    assert sorted(runs) == ["2019", "2020", "2024"]
    assert runs["2020"].tags["govreports/changed_files"] == "1: 2020/notes.txt"
    assert "2024" in instance.get_dynamic_partitions("report_year")


def test_first_tick_trusts_years_already_materialised(instance: DagsterInstance, root: Path) -> None:
    assigned = assign_years(scan_landing(root / "landing"))
    digests = digests_by_year(assigned)
    for year in (2019, 2020):  # as `govreports run` leaves them
        instance.report_runless_asset_event(AssetMaterialization(
            "raw_reports", partition=str(year), metadata={"landing_digest": digests[year]}))
    assert sorted(requested(tick(instance, root, None))) == ["2021"]


@pytest.mark.parametrize("edited", ['{"file": "seed.txt", "url": "http://www.jindong.gov.cn/1.html"}\n',
                                    '{"file": "seed.txt", "year": "20x9"}\n'], ids=["loses_its_year", "breaks"])
def test_a_manifest_edit_refiles_a_file_as_the_ingest_does(tmp_path: Path, edited: str) -> None:
    db = tmp_path / "warehouse.duckdb"
    landing = lay_landing(tmp_path / "landing", {"inbox/seed.txt": "seeds/000_5c245e0f5975cf67.txt"})  # says 2020
    manifest = landing / "inbox" / "manifest.jsonl"
    manifest.write_text('{"file": "seed.txt", "year": 2019}\n', encoding="utf-8")
    first = plan_landing(landing, LandingState())
    assert first.years == [2019] and first.state.files["inbox/seed.txt"][4] == 2019
    assert ingest_year(db, landing, 2019).digest == first.state.years["2019"]
    manifest.write_text(edited, encoding="utf-8")  # the manifest's year no longer applies: the text's holds
    second = plan_landing(landing, first.state)
    assert second.state.files["inbox/seed.txt"][4] == 2020  # not the year the cursor remembers for the bytes
    assert second.years == [2019, 2020]
    assert second.changed == {year: ["inbox/manifest.jsonl", "inbox/seed.txt"] for year in (2019, 2020)}
    ingest_year(db, landing, 2019)
    assert ingest_year(db, landing, 2020).digest == second.state.years["2020"]  # the run the sensor asks for
    with warehouse.session(db) as con:
        filed = con.execute("SELECT report_year FROM ledger.files WHERE path = 'inbox/seed.txt' AND current").fetchall()
    assert filed == [(2020,)]
    assert plan_landing(landing, second.state).years == []  # and it stays filed there


def test_run_failure_sensor_sends_an_alert(instance: DagsterInstance, tmp_path: Path) -> None:
    @op
    def broken() -> None:
        raise RuntimeError("boom")

    @job
    def failing() -> None:
        broken()

    result = failing.execute_in_process(instance=instance, raise_on_error=False)
    run = instance.get_run_by_id(result.run_id)
    assert run.status == DagsterRunStatus.FAILURE
    failure = next(e for e in result.all_events if e.event_type_value == "PIPELINE_FAILURE" or e.is_run_failure)
    alerts = tmp_path / "alerts.jsonl"
    context = build_run_status_sensor_context(
        sensor_name="notify_on_run_failure", dagster_instance=instance, dagster_run=run, dagster_event=failure,
        resources={"notifier": NotifierResource(alerts_path=str(alerts))},
    ).for_run_failure()
    notify_on_run_failure(context)
    alert = json.loads(alerts.read_text(encoding="utf-8").splitlines()[-1])
    assert alert["kind"] == "run_failure" and alert["run_id"] == run.run_id and alert["job"] == "failing"


def test_release_season_schedule_targets_the_previous_year(instance: DagsterInstance) -> None:
    context = build_schedule_context(instance=instance, scheduled_execution_time=datetime(2025, 2, 3, 6))
    assert isinstance(release_season_schedule(context), SkipReason)  # no 2024 files yet
    instance.add_dynamic_partitions("report_year", ["2024"])
    request = release_season_schedule(context)
    assert isinstance(request, RunRequest) and request.partition_key == "2024"
    assert release_season_schedule.cron_schedule == "0 6 * 2,3 *"
