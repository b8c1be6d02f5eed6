"""The expectation suites (``expectations/``) on a consistent synthetic release (``tests.report_factory``) and on
corrupted copies of it: what fails, what is skipped, what the results and Data Docs look like.

Belongs here: behaviour of the suite files, the GX runner and the check dicts handed to Dagster.  Not here: the
notifiers (``tests/test_alerts.py``) or the rules themselves (``tests/test_checks.py``).  GX runs are slow
(~1–4 s each), so the runs are module-scoped and restricted to the tables a test is about.
"""

from __future__ import annotations

import copy
import json
import math
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from datapackage.publish import publish_release
from expectations import list_checks, load_suites
from expectations.runner import SuiteResults, asset_check_results, run_suites
from expectations.suite_files import SuiteFileError, template_codes
from govreports.columns import build_tables
from govreports.validation import Validated, validate
from tests.report_factory import frames_of, series

AGENCIES = [f"合成测试机关{i:02d}" for i in range(12)]
PREVIOUS, YEAR = 2021, 2022
KEPT_AFTER_DROP = 3  # reports left when "most reports" are dropped
R1_BROKEN = 8  # reports whose carried_forward breaks R1 (and R3)


@pytest.fixture(scope="module")
def truths() -> dict[str, dict[int, dict[str, Any]]]:
    return {agency: series(agency, (PREVIOUS, YEAR)) for agency in AGENCIES}


def release(truths: dict[str, dict[int, dict[str, Any]]], year: int, agencies: list[str] = AGENCIES,
            mutate: Any = None) -> Validated:
    chosen = []
    for i, agency in enumerate(agencies):
        truth = copy.deepcopy(truths[agency][year])
        chosen.append(mutate(i, truth) if mutate else truth)
    return validate(frames_of(chosen))


def corrupt(i: int, truth: dict[str, Any]) -> dict[str, Any]:
    """Applications ×3 in every report (drift; the rules still hold), then R1 broken in the first reports and a
    2019-only row in the first (2021-template) report."""
    truth["applications"] = {key: value * 3 for key, value in truth["applications"].items()}
    if i < R1_BROKEN:
        truth["applications"][("carried_forward", "natural_person")] += 5
    if i == 0:
        truth["applications"][("other_processing", "natural_person")] = 0
    return truth


@pytest.fixture(scope="module")
def previous(truths: dict[str, dict[int, dict[str, Any]]]) -> dict[str, pd.DataFrame]:
    return release(truths, PREVIOUS).frames


@pytest.fixture(scope="module")
def clean(truths: dict[str, dict[int, dict[str, Any]]]) -> dict[str, pd.DataFrame]:
    return release(truths, YEAR).frames


@pytest.fixture(scope="module")
def clean_run(clean: dict[str, pd.DataFrame], previous: dict[str, pd.DataFrame],
              tmp_path_factory: pytest.TempPathFactory) -> SuiteResults:
    return run_suites(clean, YEAR, previous, tmp_path_factory.mktemp("docs") / "data_docs", run_name="run-clean")


@pytest.fixture(scope="module")
def shrunk(truths: dict[str, dict[int, dict[str, Any]]]) -> dict[str, pd.DataFrame]:
    return release(truths, YEAR, AGENCIES[:KEPT_AFTER_DROP]).frames


@pytest.fixture(scope="module")
def corrupted(truths: dict[str, dict[int, dict[str, Any]]]) -> Validated:
    return release(truths, YEAR, mutate=corrupt)


def by_check(results: SuiteResults, table: str, check: str) -> list[Any]:
    found = [r for r in results.results if r.table == table and r.check_name == check]
    assert found, f"no results for {table}.{check}"
    return found


def failing(results: SuiteResults) -> set[tuple[str, str]]:
    return {(r.table, r.check_name) for r in results.failed}


# ------------------------------------------------------------------------------------------------ clean release
def test_every_expectation_holds_on_a_consistent_release(clean_run: SuiteResults,
                                                         previous: dict[str, pd.DataFrame]) -> None:
    assert clean_run.failed == []
    assert clean_run.skipped == []  # 12 reports in both years: every comparison is evaluated
    assert clean_run.releasable and clean_run.previous_year == PREVIOUS
    assert {s.table for s in clean_run.suites.values()} == set(build_tables())
    shrink = by_check(clean_run, "reports", "row_count_vs_previous")[0]
    assert shrink.observed == len(AGENCIES)
    assert shrink.expected["previous"]["previous_value"] == len(previous["reports"])


def test_suites_are_gx_suites_with_check_names_in_meta(clean_run: SuiteResults) -> None:
    assert set(clean_run.gx_results) == set(clean_run.suites)
    for name, result in clean_run.gx_results.items():
        assert result["suite_name"] == f"govreports.{name}"
        assert result["meta"]["run_id"]["run_name"] == "run-clean"
        for item in result["results"]:
            meta = item["expectation_config"]["meta"]
            assert meta["check_name"] and isinstance(meta["blocking"], bool)
            assert meta["severity"] == ("ERROR" if meta["blocking"] else "WARN")
    evaluated = sum(len(r["results"]) for r in clean_run.gx_results.values())
    assert evaluated == len(clean_run.results)


def test_data_docs_site_is_built(clean_run: SuiteResults) -> None:
    index = clean_run.data_docs_index
    assert index is not None and index.is_file() and index.name == "index.html"
    html = index.read_text(encoding="utf-8")
    for name in clean_run.suites:
        assert f"govreports.{name}" in html
    pages = list((index.parent / "validations").rglob("*.html"))
    assert len(pages) == len(clean_run.suites)
    checks = asset_check_results(clean_run)
    assert all(c["metadata"]["data_docs"] == str(index) for c in checks)


def test_data_docs_are_rebuilt_in_place_and_foreign_folders_are_refused(
        clean_run: SuiteResults, clean: dict[str, pd.DataFrame], previous: dict[str, pd.DataFrame],
        tmp_path: Path) -> None:
    assert clean_run.data_docs_index is not None
    site = tmp_path / "site"
    shutil.copytree(clean_run.data_docs_index.parent, site)
    again = run_suites(clean, YEAR, previous, site, tables=["sections"], run_name="run-again")
    assert again.data_docs_index == site / "index.html"
    pages = list((site / "validations").rglob("*.html"))
    assert len(pages) == 1 and "sections" in str(pages[0]) and "run-again" in str(pages[0])
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(FileExistsError):
        run_suites(clean, YEAR, previous, foreign, tables=["sections"])
    assert (foreign / "notes.txt").read_text(encoding="utf-8") == "keep me"


def test_check_names_are_listed_statically(clean_run: SuiteResults) -> None:
    specs = list_checks()
    checks = clean_run.check_results()
    assert [(s.table, s.check_name) for s in specs] == [(c["table"], c["check_name"]) for c in checks]
    assert len({(s.table, s.check_name) for s in specs}) == len(specs)
    for spec, check in zip(specs, checks, strict=True):
        assert check["severity"] == ("ERROR" if spec.blocking else "WARN")
        assert check["passed"] and check["metadata"]["status"] == "passed"
        assert check["metadata"]["expectations"] == spec.expectations
    json.dumps(checks)  # plain JSON: the Dagster side only wraps it


def test_results_are_stored_with_the_release(clean_run: SuiteResults, clean: dict[str, pd.DataFrame],
                                             tmp_path: Path) -> None:
    stored = clean_run.to_release_json()
    result = publish_release(clean, YEAR, tmp_path / "releases", expectations=stored, validate=False)
    written = json.loads((result.path / "expectations.json").read_text(encoding="utf-8"))
    assert written == json.loads(json.dumps(stored))
    assert written["counts"]["passed"] == len(clean_run.results) and written["releasable"] is True
    assert {s["sha256"] for s in written["suites"].values()} == {s.sha256 for s in clean_run.suites.values()}
    descriptor = json.loads((result.path / "datapackage.json").read_text(encoding="utf-8"))
    assert "expectations" in {r["name"] for r in descriptor["resources"]}


# ------------------------------------------------------------------------------------------------ no previous
def test_expectations_needing_the_previous_release_are_skipped_without_one(clean: dict[str, pd.DataFrame]) -> None:
    results = run_suites(clean, YEAR, None, tables=["reports"])
    skipped = results.skipped
    assert skipped and results.failed == []
    planned = {i.key for s in results.suites.values() for i in s.expectations if i.needs_previous}
    assert {r.key for r in skipped} == planned
    assert all(r.success is None and r.details["reason"] == "no previous release to compare with" for r in skipped)
    gx_keys = {i["expectation_config"]["meta"]["key"] for r in results.gx_results.values() for i in r["results"]}
    assert not gx_keys & planned  # skipped expectations are not run (and not failed) in GX
    check = next(c for c in results.check_results()
                 if (c["table"], c["check_name"]) == ("reports", "row_count_vs_previous"))
    assert check["passed"] and check["metadata"]["status"] == "skipped"


# ------------------------------------------------------------------------------------------------ corruptions
def test_a_year_that_lost_most_reports_fails_the_row_count_check(shrunk: dict[str, pd.DataFrame],
                                                                 previous: dict[str, pd.DataFrame]) -> None:
    results = run_suites(shrunk, YEAR, previous, tables=["reports"])
    assert failing(results) == {("reports", "row_count_vs_previous")}
    shrink = load_suites(tables=["reports"])["reports"].parameters["max_shrink"]
    reports = by_check(results, "reports", "row_count_vs_previous")[0]
    assert reports.observed == KEPT_AFTER_DROP
    assert reports.expected["min_value"] == math.ceil(len(previous["reports"]) * (1 - shrink))
    # three reports are too few to judge rule shares or distributions: skipped, not failed
    assert {r.check_name for r in results.skipped} == {"rule_violation_shares"}
    check = next(c for c in results.check_results() if c["check_name"] == "row_count_vs_previous"
                 and c["table"] == "reports")
    assert not check["passed"] and check["metadata"]["failures"][0]["observed"] == KEPT_AFTER_DROP


def test_unknown_code_rule_violations_and_drift_fail_their_checks(corrupted: Validated,
                                                                  previous: dict[str, pd.DataFrame]) -> None:
    results = run_suites(corrupted.frames, YEAR, previous, tables=["reports", "applications"])
    assert failing(results) == {("applications", "codes_per_template"), ("reports", "rule_violation_shares"),
                                ("applications", "new_received_drift")}
    # the 2019-only row is a known code overall, but not in a 2021-template report: only the per-template set fails
    codes = [r for r in by_check(results, "applications", "codes_per_template") if r.failed]
    assert [r.where for r in codes] == [{"template": "2021"}]
    assert codes[0].observed["partial_unexpected_list"] == ["other_processing"]
    assert codes[0].blocking and not results.releasable
    # rule shares: the observed share is rule_summary's
    summary = corrupted.rule_summary.set_index("rule")["share"]
    shares = {r.column: r for r in by_check(results, "reports", "rule_violation_shares")}
    for rule in ("R1", "R2", "R3", "R4"):
        result = shares[f"violates_{rule}"]
        assert result.observed == pytest.approx(summary[rule])
        assert result.failed == (summary[rule] > result.expected["max_value"])
    assert shares["violates_R1"].failed and not shares["violates_R2"].failed
    # drift: mean of 本年新收 总计 against the previous year's
    apps = corrupted.frames["applications"]
    new = apps[(apps["row"] == "new_received") & (apps["applicant"] == "total")]["value"].astype(float)
    before = previous["applications"]
    old = before[(before["row"] == "new_received") & (before["applicant"] == "total")]["value"].astype(float)
    mean = next(r for r in by_check(results, "applications", "new_received_drift")
                if r.expectation_type == "expect_column_mean_to_be_between")
    assert mean.failed and mean.observed == pytest.approx(new.mean())
    assert mean.expected["previous"]["previous_value"] == pytest.approx(old.mean())
    checks = {(c["table"], c["check_name"]): c for c in results.check_results()}
    assert checks[("applications", "codes_per_template")]["severity"] == "ERROR"
    assert checks[("reports", "rule_violation_shares")]["severity"] == "WARN"
    assert not checks[("applications", "codes_per_template")]["passed"]
    assert checks[("applications", "allowed_codes")]["passed"]


# ------------------------------------------------------------------------------------------------ suite files
@pytest.fixture
def suite_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "suites"
    shutil.copytree(load_suites(tables=["reports"])["reports"].path.parent, folder)
    return folder


def test_editing_a_threshold_in_the_suite_file_changes_the_result(suite_copy: Path, shrunk: dict[str, pd.DataFrame],
                                                                  previous: dict[str, pd.DataFrame]) -> None:
    path = suite_copy / "reports.yaml"
    text = path.read_text(encoding="utf-8")
    assert "  max_shrink: 0.5 " in text
    edited = text.replace("  max_shrink: 0.5 ", "  max_shrink: 0.8 ").replace("\nversion: 1\n", "\nversion: 2\n")
    # an expectation GX cannot evaluate (the mean of a text column) is an error, and an error fails its check
    edited += ("  - check: broken\n    blocking: false\n    type: expect_column_mean_to_be_between\n"
               "    kwargs: {column: agency, min_value: 0}\n")
    path.write_text(edited, encoding="utf-8")
    results = run_suites(shrunk, YEAR, previous, suites_dir=suite_copy, tables=["reports"])
    shrink = by_check(results, "reports", "row_count_vs_previous")[0]
    assert shrink.status == "passed"
    assert shrink.expected["min_value"] == math.ceil(len(previous["reports"]) * (1 - 0.8))
    assert results.suites["reports"].version == 2
    broken = by_check(results, "reports", "broken")[0]
    assert broken.status == "error" and broken.failed and broken.details.get("exception")
    assert failing(results) == {("reports", "broken")}
    assert [(s.table, s.check_name) for s in list_checks(suite_copy, ["reports"])][-1] == ("reports", "broken")


def test_a_malformed_suite_file_names_the_file_and_entry(suite_copy: Path) -> None:
    path = suite_copy / "appeals.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("blocking: false", "blocking: maybe", 1),
                    encoding="utf-8")
    with pytest.raises(SuiteFileError, match=r"appeals\.yaml: expectations\[\d+\]: `blocking`"):
        load_suites(suite_copy)
    path.write_text("suite: appeals\ntable: appeals\nversion: 1\nexpectations:\n"
                    "  - {check: x, blocking: true, type: expect_column_mean_to_be_between, kwargs: {column: nope}}\n",
                    encoding="utf-8")
    with pytest.raises(SuiteFileError, match=r"no column \['nope'\] in appeals"):
        load_suites(suite_copy)


def _lists(value: Any) -> list[list[Any]]:
    if isinstance(value, dict):
        return [found for v in value.values() for found in _lists(v)]
    if isinstance(value, list):
        return [value, *(found for v in value for found in _lists(v))]
    return []


def test_codes_types_and_keys_come_from_the_column_model() -> None:
    tables = build_tables()
    suites = load_suites()
    codes = {code for table in tables.values() for column in table.columns for code in column.enum or ()}
    for suite in suites.values():  # no list of codes is restated in a suite file
        assert not [value for value in _lists(yaml.safe_load(suite.path.read_text(encoding="utf-8")))
                    if len(set(map(str, value)) & codes) > 1], suite.path
    for suite in suites.values():
        table = tables[suite.table]
        for item in suite.expectations:
            if item.type == "expect_column_values_to_be_in_set" and item.where is None and suite.table != "sections":
                assert item.kwargs["value_set"] == list(table.column(item.column).enum)
                assert item.generated_from == "govreports.columns:allowed_codes"
            if item.type == "expect_column_values_to_be_in_set" and item.where is not None:
                template = item.where["template"]
                assert item.kwargs["value_set"] == list(template_codes(suite.table, item.column, template))
            if item.type == "expect_compound_columns_to_be_unique":
                assert tuple(item.kwargs["column_list"]) == table.primary_key
    applications = {(i.where or {}).get("template"): i.kwargs["value_set"] for i in suites["applications"].expectations
                    if i.check == "codes_per_template"}
    assert "other_processing" in applications["2019"] and "other_processing" not in applications["2021"]
