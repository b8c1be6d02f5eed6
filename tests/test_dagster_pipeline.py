"""The whole asset graph through real Dagster machinery: a CLI backfill over three report years into a temporary
data dir (its own DAGSTER_HOME), then the DuckDB tables, the asset metadata, the releases, and an in-process
re-run that must change nothing."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from dagster import (
    AssetKey,
    AssetRecordsFilter,
    AssetSelection,
    DagsterEventType,
    DagsterInstance,
    DagsterRunStatus,
    materialize,
)

from assets.checks import CORE_CHECKS
from assets.core import core_reports_parsed
from assets.out import out_release, out_wide_tables
from assets.raw import raw_reports
from expectations import list_checks
from govreports import warehouse
from govreports.columns import build_tables
from govreports.ingest import ledger_counts
from orchestration.resources import resources_from_env
from tests.pipeline_data import expected_counts, lay_landing

pytestmark = pytest.mark.slow
YEARS = (2019, 2020, 2021)
HAS_PUBLISH = importlib.util.find_spec("datapackage.publish") is not None


@pytest.fixture(scope="module")
def backfill(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    root = tmp_path_factory.mktemp("data")
    lay_landing(root / "landing")
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "GOVREPORTS_DATA_DIR")}
    env.update(GOVREPORTS_WORKERS="2", GOVREPORTS_PARALLEL_MIN_FILES="4")  # 2020 is parsed by worker processes
    proc = subprocess.run([sys.executable, "-m", "govreports", "run", "--data-dir", str(root), "--years", "2019-2021"],
                          capture_output=True, text=True, timeout=600, env=env)
    return root, proc


@pytest.fixture(scope="module")
def instance(backfill: tuple[Path, subprocess.CompletedProcess[str]]) -> DagsterInstance:
    root, _ = backfill
    with DagsterInstance.from_config(str(root / "dagster_home")) as inst:
        yield inst


def latest_metadata(instance: DagsterInstance, key: str, year: int) -> dict:
    result = instance.fetch_materializations(
        AssetRecordsFilter(asset_key=AssetKey(key), asset_partitions=[str(year)]), limit=1)
    assert result.records, f"{key} {year} was never materialised"
    return {k: v.value for k, v in result.records[0].asset_materialization.metadata.items()}


def test_cli_backfill_runs_every_year(backfill, instance: DagsterInstance) -> None:
    root, proc = backfill
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for year in YEARS:
        assert f"{year}: success" in proc.stdout
    runs = instance.get_runs()
    assert sorted(r.tags["dagster/partition"] for r in runs) == [str(y) for y in YEARS]
    assert all(r.status == DagsterRunStatus.SUCCESS and r.job_name == "govreports_yearly" for r in runs)
    assert sorted(instance.get_dynamic_partitions("report_year")) == [str(y) for y in YEARS]
    assert (root / "dagster_home" / "dagster.yaml").exists()


@pytest.mark.parametrize("year", [2020, 2021])
def test_tables_hold_exactly_the_fixtures(backfill, year: int) -> None:
    root, _ = backfill
    expected = expected_counts(root / "landing", year)
    with warehouse.session(root / "warehouse.duckdb") as con:
        for name, table in build_tables().items():
            keys = ", ".join(table.primary_key)
            total, distinct = con.execute(f"SELECT count(*), count(DISTINCT ({keys})) FROM core.{name} "
                                          "WHERE report_year = ?", [year]).fetchone()
            assert total == distinct == expected["tables"].get(name, 0), name
        wide = con.execute("SELECT count(*) FROM out.applications_wide WHERE report_year = ?", [year]).fetchone()[0]
        lineage = con.execute("SELECT count(*) FROM core.applications a JOIN core.reports r USING (report_id) "
                              "WHERE a.report_year = ? AND r.source_sha256 IS NOT NULL", [year]).fetchone()[0]
        counts = ledger_counts(con, year)
    assert wide == expected["tables"]["reports"]
    assert lineage == expected["tables"]["applications"]  # every row leads back to its source file
    assert counts.balanced and counts.current == expected["files"]
    assert counts.quarantined_by_reason == expected["reasons"]


def test_asset_metadata_in_the_instance(backfill, instance: DagsterInstance) -> None:
    root, _ = backfill
    expected = expected_counts(root / "landing", 2020)
    reports = latest_metadata(instance, "core_reports", 2020)
    assert reports["dagster/row_count"] == expected["tables"]["reports"]
    assert [c.name for c in reports["dagster/column_schema"].columns] == build_tables()["reports"].column_names
    assert "parsed" in reports["parse_status"]
    assert reports["preview"].startswith("| report_id |")
    lineage = reports["dagster/column_lineage"].deps_by_column
    assert lineage["source_sha256"][0].asset_key == AssetKey("raw_reports")
    assert lineage["source_sha256"][0].column_name == "sha256"
    applications = latest_metadata(instance, "core_applications", 2020)
    schema = [c.name for c in applications["dagster/column_schema"].columns]
    assert schema == ["report_year", *build_tables()["applications"].column_names]
    assert applications["dagster/row_count"] == expected["tables"]["applications"]
    findings = latest_metadata(instance, "core_findings", 2020)
    assert "| rule | findings |" in findings["findings_by_rule"]
    quarantine = latest_metadata(instance, "core_quarantine", 2020)
    assert "not_a_report" in quarantine["quarantined_by_reason"] and "duplicate" in quarantine["quarantined_by_reason"]
    raw = latest_metadata(instance, "raw_reports", 2020)
    assert raw["dagster/row_count"] == expected["files"] and len(raw["landing_digest"]) == 64
    wide = latest_metadata(instance, "out_applications_wide", 2020)
    assert wide["dagster/row_count"] == expected["tables"]["reports"]
    cell = wide["dagster/column_lineage"].deps_by_column["new_received__total"]
    assert {(d.asset_key.to_user_string(), d.column_name) for d in cell} >= {("core_applications", "value")}


def test_blocking_checks_ran_and_passed(backfill, instance: DagsterInstance) -> None:
    for run in instance.get_runs():
        every = [e.get_dagster_event().event_specific_data
                 for e in instance.all_logs(run.run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION)]
        evaluations = [e for e in every if e.check_name == "schema"]
        assert len(evaluations) == len(build_tables())
        assert all(e.passed for e in evaluations), [e.asset_key for e in evaluations if not e.passed]
        assert all(e.metadata["failure_cases"].value == 0 for e in evaluations)
        expectations = [e for e in every if e.check_name != "schema"]
        assert len(expectations) == len(list_checks())  # every suite check ran too
        blocking = {c.check_name for c in list_checks() if c.blocking}
        assert all(e.passed for e in expectations if e.check_name in blocking)


@pytest.mark.skipif(not HAS_PUBLISH, reason="datapackage.publish (the release writer, issue 5) is not in this tree")
def test_release_published_per_year(backfill, instance: DagsterInstance) -> None:
    root, _ = backfill
    for year in YEARS:
        meta = latest_metadata(instance, "out_release", year)
        version = meta["release_version"]
        package = root / "releases" / str(year) / version / "datapackage.json"
        assert package.exists()
        assert json.loads(package.read_text(encoding="utf-8"))["version"] == version
    with warehouse.session(root / "warehouse.duckdb") as con:
        released = con.execute("SELECT count(DISTINCT report_id) FROM ledger.release_reports "
                               "WHERE report_year = 2020").fetchone()[0]
    assert released == expected_counts(root / "landing", 2020)["tables"]["reports"]


def test_in_process_rerun_changes_nothing(backfill, instance: DagsterInstance) -> None:
    root, _ = backfill
    db = root / "warehouse.duckdb"

    def snapshot() -> dict[str, list]:
        with warehouse.session(db) as con:
            return {name: sorted(map(tuple, con.execute(f"SELECT * FROM core.{name} WHERE report_year = 2020")
                                     .df().astype(str).values.tolist())) for name in build_tables()}

    before = snapshot()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = materialize([raw_reports, core_reports_parsed, out_wide_tables, out_release, *CORE_CHECKS],
                             partition_key="2020", instance=instance, resources=resources_from_env(root))
    assert result.success
    assert snapshot() == before
    raw = latest_metadata(instance, "raw_reports", 2020)
    assert raw["files_new"] == 0 and raw["files_changed"] == 0 and raw["files_unchanged"] == raw["dagster/row_count"]
    if HAS_PUBLISH:
        release = latest_metadata(instance, "out_release", 2020)
        assert release["release_created"] is False  # same content: no new version


def test_ledger_command_accounts_for_every_file(backfill, capsys: pytest.CaptureFixture[str]) -> None:
    from govreports.cli import main

    root, _ = backfill
    expected = expected_counts(root / "landing", 2020)
    assert main(["ledger", "--data-dir", str(root), "--year", "2020"]) == 0
    out = capsys.readouterr().out
    parsed = expected["tables"]["reports"]
    quarantined = sum(expected["reasons"].values())
    assert f"files in = parsed + partial + quarantined: {expected['files']} = {parsed} + 0 + {quarantined}  [ok]" in out
    assert "duplicate" in out and "not_a_report" in out


def test_a_failing_check_blocks_the_out_assets(backfill, tmp_path: Path) -> None:
    root, _ = backfill
    copy = tmp_path / "data"
    shutil.copytree(root, copy)  # warehouse and instance: the shared backfill stays as it was
    with warehouse.session(copy / "warehouse.duckdb") as con:
        con.execute("UPDATE core.applications SET applicant = 'nobody' WHERE report_year = 2021 AND row = 'granted'")
        broken = con.execute("SELECT count(*) FROM core.applications WHERE applicant = 'nobody'").fetchone()[0]
    core = [AssetKey(f"core_{name}") for name in build_tables()]
    selection = AssetSelection.checks_for_assets(*core) | AssetSelection.assets(*out_wide_tables.keys, out_release.key)
    with DagsterInstance.from_config(str(copy / "dagster_home")) as inst, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = materialize([raw_reports, core_reports_parsed, out_wide_tables, out_release, *CORE_CHECKS],
                             selection=selection, partition_key="2021", instance=inst,
                             resources=resources_from_env(copy), raise_on_error=False)
    assert not result.success
    evaluations = {e.asset_key.to_user_string(): e for e in result.get_asset_check_evaluations()}
    assert broken and not evaluations["core_applications"].passed
    assert evaluations["core_applications"].metadata["failure_cases"].value >= broken
    assert "applicant" in evaluations["core_applications"].metadata["failures_by_check"].value
    assert evaluations["core_reports"].passed
    assert not result.get_asset_materialization_events()  # out_* did not run


def test_raw_reports_counts_report_files_and_manifests_apart(tmp_path: Path) -> None:
    from dagster import instance_for_test

    landing = lay_landing(tmp_path / "landing", {"2020/tjj.txt": "dev/putian_tjj_2020.txt",
                                                 "2020/sjj.txt": "dev/putian_sjj_2020.txt"})
    (landing / "2020" / "manifest.csv").write_text("file,year\ntjj.txt,20x0\n", encoding="utf-8")  # not applied
    (tmp_path / "home").mkdir()
    with instance_for_test(temp_dir=str(tmp_path / "home")) as inst, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        inst.add_dynamic_partitions("report_year", ["2020"])
        result = materialize([raw_reports], partition_key="2020", instance=inst, resources=resources_from_env(tmp_path))
        assert result.success
        raw = latest_metadata(inst, "raw_reports", 2020)
    with warehouse.session(tmp_path / "warehouse.duckdb") as con:
        counts = ledger_counts(con, 2020)
    assert (raw["dagster/row_count"], raw["manifests"], raw["manifests_invalid"]) == (2, 1, 1)
    assert raw["dagster/row_count"] == counts.current and raw["manifests"] == counts.manifests
    assert raw["ledger_status"] == "| status | files |\n|---|---|\n| pending | 2 |"  # the manifest is not a file
    assert raw["bytes"] == sum(p.stat().st_size for p in landing.glob("2020/*.txt"))


def test_provenance_columns_lead_back_to_the_manifest() -> None:
    from assets.metadata import RAW_COLUMNS, core_column_lineage

    def origins(table: str, column: str) -> list[str]:
        return [d.column_name for d in core_column_lineage(table).deps_by_column[column]]

    assert origins("reports", "source_url") == origins("reports", "region_code") == ["manifest"]
    assert origins("reports", "agency") == ["content", "manifest"]
    assert origins("sections", "title") == ["content"]  # a section's title is printed, never the manifest's
    assert origins("quarantine", "source_sha256") == ["sha256"]
    status = dict((name, description) for name, _type, description in RAW_COLUMNS)["status"]
    assert "manifest for a collector's manifest" in status
