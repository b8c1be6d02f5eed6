"""``workspace.yaml`` loads the way ``dagster dev`` loads it (a code server process per location), with the
asset graph, its partitions, checks, job, sensors and schedule — so a broken import never reaches the UI."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest
from dagster import AssetKey, Definitions, instance_for_test
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import WorkspaceFileTarget

from expectations import list_checks
from govreports.columns import TABLE_NAMES

ROOT = Path(__file__).resolve().parents[1]
ASSETS = {"raw_reports", *(f"core_{t}" for t in TABLE_NAMES), "out_active_disclosure_wide", "out_applications_wide",
          "out_appeals_wide", "out_release"}


@pytest.mark.slow
def test_workspace_loads_like_the_webserver(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVREPORTS_DATA_DIR", str(tmp_path / "data"))
    home = tmp_path / "dagster_home"
    home.mkdir()
    with instance_for_test(temp_dir=str(home)) as instance, \
            WorkspaceProcessContext(instance, WorkspaceFileTarget(paths=[str(ROOT / "workspace.yaml")])) as workspace:
        context = workspace.create_request_context()
        assert context.get_code_location_error("govreports") is None
        repo = context.get_code_location("govreports").get_repository("__repository__")
        nodes = {n.asset_key.to_user_string(): n for n in repo.get_asset_node_snaps()}
        assert set(nodes) == ASSETS
        for node in nodes.values():
            assert node.partitions is not None and node.partitions.name == "report_year"
        checks = {(k.asset_key.to_user_string(), k.name) for k in (c.key for c in repo.get_asset_check_node_snaps())}
        expected = {(f"core_{t}", "schema") for t in TABLE_NAMES}
        expected |= {(f"core_{c.table}", c.check_name) for c in list_checks()}  # the expectation suites
        assert checks == expected
        assert ("core_reports", "not_empty") in checks and ("core_applications", "allowed_codes") in checks
        blocking = {(c.key.asset_key.to_user_string(), c.key.name): c.blocking for c in repo.get_asset_check_node_snaps()}
        assert all(blocking[(f"core_{t}", "schema")] for t in TABLE_NAMES)
        assert all(blocking[(f"core_{c.table}", c.check_name)] == c.blocking for c in list_checks())
        assert repo.has_job("govreports_yearly")
        assert {s.name for s in repo.get_sensors()} == {"landing_sensor", "notify_on_run_failure"}
        assert {s.name for s in repo.get_schedules()} == {"release_season_schedule"}
        reports = nodes["core_reports"]
        assert "dagster/column_schema" in reports.metadata
        assert "dagster/code_references" in nodes["raw_reports"].metadata
        assert nodes["out_release"].group_name == "out" and reports.group_name == "core"
        assert {d.parent_asset_key for d in nodes["core_applications"].parent_edges} == {AssetKey("raw_reports")}


def test_definitions_are_loadable_and_use_the_data_dir(tmp_path: Path) -> None:
    from orchestration.definitions import build_definitions, defs

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        Definitions.validate_loadable(defs)
        local = build_definitions(tmp_path)
    assert local.resources["paths"].data_dir == str(tmp_path.resolve())
    assert local.resources["notifier"].alerts_path == str(tmp_path.resolve() / "alerts.jsonl")
    assert os.path.isabs(defs.resources["paths"].data_dir)


def test_ui_command_binds_to_loopback_with_this_data_dir(tmp_path: Path) -> None:
    from govreports.cli import build_parser
    from govreports.paths import DataPaths
    from govreports.pipeline_cli import WORKSPACE, ui_command_line

    args = build_parser().parse_args(["ui", "--data-dir", str(tmp_path)])
    argv, env = ui_command_line(DataPaths.resolve(args.data_dir), args.host, args.port)
    assert argv[argv.index("-h") + 1] == "127.0.0.1"
    assert argv[argv.index("-w") + 1] == str(WORKSPACE) and WORKSPACE == ROOT / "workspace.yaml"
    assert env["DAGSTER_HOME"] == str(tmp_path.resolve() / "dagster_home")
    assert env["GOVREPORTS_DATA_DIR"] == str(tmp_path.resolve())
