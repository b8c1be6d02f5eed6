"""Publishing releases: Frictionless validation with the real CLI, determinism, versions and diffs, and failures
(exception mid-write, read-only folder, full disk) that must leave the previous release and ``latest`` intact."""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from datapackage import diff as release_diff_module
from datapackage import publish as publish_module
from datapackage.codelists import CODE_LIST_NAMES
from datapackage.publish import (
    PublishError,
    ReleaseExistsError,
    ReleaseInvalidError,
    list_versions,
    publish_release,
    read_latest,
)
from govreports.columns import TABLE_NAMES, Column, build_tables
from tests.release_data import T0, T1, YEAR, fixture_frames, subprocess_env

FRICTIONLESS = Path(sys.executable).with_name("frictionless")


@pytest.fixture(scope="module")
def base_frames() -> dict[str, pd.DataFrame]:
    frames = fixture_frames()
    assert len(frames["reports"]) >= 3
    assert set(frames["reports"]["report_year"].dropna()) == {YEAR}
    return frames


@pytest.fixture
def frames(base_frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    return {name: frame.copy(deep=True) for name, frame in base_frames.items()}


def tree_state(root: Path) -> dict[str, Any]:
    """Every file's sha256 and mode, every symlink's target: to prove a folder was not touched."""
    state: dict[str, Any] = {}
    for path in sorted(root.rglob("*")):
        key = str(path.relative_to(root))
        if path.is_symlink():
            state[key] = ("link", os.readlink(path))
        elif path.is_file():
            state[key] = ("file", hashlib.sha256(path.read_bytes()).hexdigest(), stat.S_IMODE(path.stat().st_mode))
        else:
            state[key] = ("dir", stat.S_IMODE(path.stat().st_mode))
    return state


def run_validate(package: Path) -> tuple[int, dict[str, Any]]:
    """The real ``frictionless validate`` CLI, JSON report."""
    result = subprocess.run([str(FRICTIONLESS), "validate", "--json", str(package)], capture_output=True,
                            text=True, timeout=300)
    return result.returncode, json.loads(result.stdout)


def error_types(report: dict[str, Any]) -> set[str]:
    types = {e["type"] for e in report.get("errors", [])}
    for task in report.get("tasks", []):
        types |= {e["type"] for e in task.get("errors", [])}
    return types


def writable_copy(release: Path, dest: Path) -> Path:
    shutil.copytree(release, dest)
    for dirpath, _dirs, files in os.walk(dest):
        os.chmod(dirpath, 0o755)
        for name in files:
            os.chmod(os.path.join(dirpath, name), 0o644)
    return dest


def rehash(package_dir: Path, relative: str) -> None:
    """Make datapackage.json agree with an edited file, so only the data itself can fail validation."""
    descriptor_path = package_dir / "datapackage.json"
    descriptor = json.loads(descriptor_path.read_text(encoding="utf-8"))
    data = (package_dir / relative).read_bytes()
    for resource in descriptor["resources"]:
        if resource["path"] == relative:
            resource["hash"] = "sha256:" + hashlib.sha256(data).hexdigest()
            resource["bytes"] = len(data)
    descriptor_path.write_text(json.dumps(descriptor, ensure_ascii=False, indent=2), encoding="utf-8")


# ------------------------------------------------------------------------------------------ validation


@pytest.fixture(scope="module")
def published(base_frames: dict[str, pd.DataFrame], tmp_path_factory: pytest.TempPathFactory) -> Path:
    releases = tmp_path_factory.mktemp("published") / "releases"
    release = publish_release(base_frames, YEAR, releases, now=T0)
    assert release.created and release.version == "1.0.0"
    return release.path


def test_frictionless_cli_validates_the_release(published: Path) -> None:
    code, report = run_validate(published / "datapackage.json")
    assert code == 0, error_types(report)
    assert report["valid"] is True
    names = {task["name"] for task in report["tasks"]}
    assert {*TABLE_NAMES, *CODE_LIST_NAMES} <= names
    assert {f"{t}_parquet" for t in TABLE_NAMES} <= names
    assert all(task["valid"] for task in report["tasks"])


def test_descriptor_is_generated_from_the_column_model(published: Path) -> None:
    descriptor = json.loads((published / "datapackage.json").read_text(encoding="utf-8"))
    assert descriptor["$schema"] == "https://datapackage.org/profiles/2.0/datapackage.json"
    assert descriptor["version"] == "1.0.0"
    assert descriptor["created"] == "2024-05-01T12:00:00Z"
    assert descriptor["licenses"][0]["name"] == "CC-BY-4.0"
    assert descriptor["sources"] and descriptor["contributors"]
    resources = {r["name"]: r for r in descriptor["resources"]}
    tables = build_tables()
    for name, table in tables.items():
        schema = resources[name]["schema"]
        assert [f["name"] for f in schema["fields"]] == table.column_names
        assert [f["type"] for f in schema["fields"]] == [c.type for c in table.columns]
        assert schema["primaryKey"] == list(table.primary_key)
        assert schema["missingValues"] == [""]
        assert resources[f"{name}_parquet"]["type"] == "file"
        assert resources[f"{name}_parquet"]["sameTableAs"] == name
    value = next(f for f in resources["applications"]["schema"]["fields"] if f["name"] == "value")
    assert value["constraints"] == {"minimum": 0} and value["titleZh"] == "数值"
    applicant = next(f for f in resources["applications"]["schema"]["fields"] if f["name"] == "applicant")
    assert applicant["constraints"]["required"] is True
    assert applicant["enumTitles"]["natural_person"] == {"zh": "自然人", "en": "Natural persons"}
    assert applicant["codeList"] == "applicants"
    published_on = next(f for f in resources["reports"]["schema"]["fields"] if f["name"] == "published_on")
    assert published_on["type"] == "date"
    assert resources["appeals"]["schema"]["foreignKeys"] == [
        {"fields": ["report_id"], "reference": {"resource": "reports", "fields": ["report_id"]}}]
    for resource in descriptor["resources"]:  # hash and bytes computed by us, for every file
        data = (published / resource["path"]).read_bytes()
        assert resource["bytes"] == len(data)
        assert resource["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()
    codes = (published / "codes" / "applicants.csv").read_text(encoding="utf-8").splitlines()
    assert codes[0].startswith("code,title_zh,title_en")
    assert "natural_person,自然人,Natural persons,0" in codes[1]


CORRUPTIONS = {
    # a letter in an integer column
    "letter_in_integer": ("data/applications.csv", lambda lines: [lines[0], _set_cell(lines[1], 3, "1x"), *lines[2:]],
                          "type-error"),
    # the same primary key twice
    "duplicated_primary_key": ("data/appeals.csv", lambda lines: [*lines, lines[1]], "primary-key"),
    # a code that is not in the enum
    "unknown_code": ("data/appeals.csv", lambda lines: [lines[0], _set_cell(lines[1], 2, "overturned"), *lines[2:]],
                     "constraint-error"),
    # a report id that is not in reports
    "dangling_foreign_key": ("data/sections.csv", lambda lines: [lines[0], _set_cell(lines[1], 0, "f" * 32),
                                                                 *lines[2:]], "foreign-key"),
}


def _set_cell(line: str, position: int, value: str) -> str:
    cells = line.split(",")
    cells[position] = value
    return ",".join(cells)


@pytest.mark.parametrize("corruption", sorted(CORRUPTIONS))
def test_corrupted_csv_fails_validation(published: Path, tmp_path: Path, corruption: str) -> None:
    relative, edit, expected = CORRUPTIONS[corruption]
    package = writable_copy(published, tmp_path / "copy")
    path = package / relative
    lines = path.read_text(encoding="utf-8").split("\n")
    assert lines[-1] == ""
    edited = edit(lines[:-1])
    assert edited != lines[:-1]
    path.write_text("\n".join(edited) + "\n", encoding="utf-8")
    rehash(package, relative)  # the hash agrees: only the data can make it fail
    code, report = run_validate(package / "datapackage.json")
    assert code != 0
    assert report["valid"] is False
    assert expected in error_types(report)


def test_edited_file_fails_on_its_hash(published: Path, tmp_path: Path) -> None:
    package = writable_copy(published, tmp_path / "copy")
    path = package / "data" / "reports.parquet"
    path.write_bytes(path.read_bytes() + b"\0")
    code, report = run_validate(package / "datapackage.json")
    assert code != 0
    assert {"hash-count", "byte-count"} <= error_types(report)


# ------------------------------------------------------------------------------------------ determinism


def test_republishing_unchanged_data_creates_no_version(frames: dict[str, pd.DataFrame], tmp_path: Path) -> None:
    releases = tmp_path / "releases"
    first = publish_release(frames, YEAR, releases, now=T0)
    before = tree_state(releases)
    shuffled = {name: frame.sample(frac=1, random_state=7) for name, frame in frames.items()}  # row order differs
    again = publish_release(shuffled, YEAR, releases, now=T1)
    assert (again.created, again.version, again.path) == (False, first.version, first.path)
    assert again.diff is None and again.previous_version is None
    assert tree_state(releases) == before  # same bytes, nothing written
    assert list_versions(releases, YEAR) == ["1.0.0"]


def test_data_files_are_byte_identical_across_publishes(frames: dict[str, pd.DataFrame], tmp_path: Path) -> None:
    one = publish_release(frames, YEAR, tmp_path / "a", now=T0)
    reversed_frames = {name: frame.iloc[::-1] for name, frame in frames.items()}
    two = publish_release(reversed_frames, YEAR, tmp_path / "b", now=T1)
    for folder in ("data", "codes"):
        files = sorted(p.name for p in (one.path / folder).iterdir())
        assert files
        for name in files:
            assert (one.path / folder / name).read_bytes() == (two.path / folder / name).read_bytes(), name
    assert b"2024" not in (one.path / "data" / "applications.csv").read_bytes()


def test_awkward_text_survives_csv_and_validates(frames: dict[str, pd.DataFrame], tmp_path: Path) -> None:
    texts = ['逗号,和"引号"', "line\r\nbreaks\rand\nmore", "carriage\ronly", "  leading and trailing  ", "", "—/-", "0012"]
    sections = frames["sections"].copy()
    for i, text in enumerate(texts):
        sections.loc[i, "text"] = text
    frames["sections"] = sections
    release = publish_release(frames, YEAR, tmp_path / "releases", now=T0)
    code, report = run_validate(release.path / "datapackage.json")
    assert code == 0, error_types(report)
    import frictionless

    rows = frictionless.Package(str(release.path / "datapackage.json")).get_resource("sections").read_rows()
    published = {(r["report_id"], r["number"]): r["text"] for r in rows}
    for i, text in enumerate(texts):
        key = (sections.loc[i, "report_id"], int(sections.loc[i, "number"]))
        assert published[key] == (text or None)  # CSV has one null: "" reads back as null (README, known limits)
    parquet = pd.read_parquet(release.path / "data" / "sections.parquet")
    assert sorted(t for t in parquet["text"] if t in texts) == sorted(texts)  # Parquet keeps "" apart from null


def test_release_reports_carry_where_each_file_came_from(frames: dict[str, pd.DataFrame], tmp_path: Path) -> None:
    reports = frames["reports"].copy()
    provenance = {"source_url": "http://www.putian.gov.cn/zfxxgk/t20210111_1560147.htm",
                  "source_fetched_at": "2024-05-01T08:00:00+08:00", "region": "福建省莆田市", "region_code": "350300"}
    for column, value in provenance.items():  # as a manifest beside the first file gives them (tests/test_ingest.py)
        reports.loc[0, column] = value
    frames["reports"] = reports
    release = publish_release(frames, YEAR, tmp_path / "releases", now=T0)
    code, report = run_validate(release.path / "datapackage.json")
    assert code == 0, error_types(report)
    import frictionless

    rows = {r["report_id"]: r for r in
            frictionless.Package(str(release.path / "datapackage.json")).get_resource("reports").read_rows()}
    first = rows[reports.loc[0, "report_id"]]
    assert {column: first[column] for column in provenance} == provenance
    assert all(rows[rid]["source_url"] is None for rid in reports["report_id"][1:])  # no manifest, no URL
    parquet = pd.read_parquet(release.path / "data" / "reports.parquet").set_index("report_id")
    assert parquet.loc[reports.loc[0, "report_id"], "source_url"] == provenance["source_url"]


def test_expectations_and_findings_summary_are_published(frames: dict[str, pd.DataFrame], tmp_path: Path) -> None:
    expectations = {"suite": "applications", "success": False, "results": [{"check": "R1", "failed": 1}]}
    release = publish_release(frames, YEAR, tmp_path / "a", now=T0, expectations=expectations)
    assert json.loads((release.path / "expectations.json").read_text(encoding="utf-8")) == expectations
    summary = json.loads((release.path / "findings_summary.json").read_text(encoding="utf-8"))
    findings = frames["findings"]
    assert summary["findings"] == len(findings) and summary["reports"] == len(frames["reports"])
    assert summary["by_severity"]["error"] == int((findings["severity"] == "error").sum())
    r2 = findings[findings["rule"] == "R2"]
    assert summary["by_rule"]["R2"] == {"severity": "error", "findings": len(r2), "reports": r2["report_id"].nunique()}
    descriptor = json.loads((release.path / "datapackage.json").read_text(encoding="utf-8"))
    names = {r["name"] for r in descriptor["resources"]}
    assert {"diff", "findings_summary", "expectations"} <= names
    given = publish_release(frames, YEAR, tmp_path / "b", now=T0, findings_summary={"custom": 1})
    assert json.loads((given.path / "findings_summary.json").read_text(encoding="utf-8")) == {"custom": 1}
    assert not (given.path / "expectations.json").exists()
    code, report = run_validate(release.path / "datapackage.json")
    assert code == 0, error_types(report)


def test_stale_temporary_folders_are_cleared(frames: dict[str, pd.DataFrame], tmp_path: Path) -> None:
    releases = tmp_path / "releases"
    stale = releases / str(YEAR) / ".tmp-publish-killed"
    (stale / "data").mkdir(parents=True)
    (stale / "data" / "reports.csv").write_text("half", encoding="utf-8")
    publish_release(frames, YEAR, releases, now=T0)
    assert not stale.exists()
    assert list_versions(releases, YEAR) == ["1.0.0"]


# ------------------------------------------------------------------------------------------ versions and diffs


def _change_cell(frame: pd.DataFrame, where: dict[str, Any], column: str, value: Any) -> Any:
    mask = pd.Series(True, index=frame.index)
    for key, wanted in where.items():
        mask &= frame[key] == wanted
    assert mask.sum() == 1
    index = frame.index[mask][0]
    old = frame.at[index, column]
    frame.at[index, column] = value
    return old


def test_changed_report_yields_a_new_version_whose_diff_names_it(frames: dict[str, pd.DataFrame],
                                                                 tmp_path: Path) -> None:
    releases = tmp_path / "releases"
    first = publish_release(frames, YEAR, releases, now=T0)
    first_state = tree_state(first.path)
    report_id = sorted(frames["reports"]["report_id"])[1]
    key = {"report_id": report_id, "row": "new_received", "applicant": "natural_person"}
    old_value = _change_cell(frames["applications"], key, "value", 9999)
    old_raw = _change_cell(frames["applications"], key, "raw", "9999")
    agency_old = _change_cell(frames["reports"], {"report_id": report_id}, "agency", "测试机关")

    second = publish_release(frames, YEAR, releases, now=T1)
    assert second.created and second.version == "1.1.0" and second.previous_version == "1.0.0"
    diff = json.loads((second.path / "diff.json").read_text(encoding="utf-8"))
    assert diff == second.diff
    assert (diff["from_version"], diff["to_version"], diff["bump"]) == ("1.0.0", "1.1.0", "minor")
    assert diff["reports"] == {"added": [], "removed": [], "changed": [report_id]}
    assert set(diff["tables"]) == {"applications", "reports"}
    assert diff["tables"]["applications"]["cells_changed"] == [
        {"key": key, "column": "value", "old": int(old_value), "new": 9999},
        {"key": key, "column": "raw", "old": old_raw, "new": "9999"},
    ]
    assert diff["tables"]["reports"]["cells_changed"] == [
        {"key": {"report_id": report_id}, "column": "agency", "old": agency_old, "new": "测试机关"}]
    assert diff["summary"]["cells_changed"] == 3
    assert diff["rules"] == {"newly_violated": [], "no_longer_violated": []}
    # the old version is untouched, latest moved, and the changelog accumulates both versions
    assert tree_state(first.path) == first_state
    assert read_latest(releases, YEAR)["version"] == "1.1.0"
    assert os.readlink(releases / str(YEAR) / "latest") == "1.1.0"
    changelog = (second.path / "CHANGELOG.md").read_text(encoding="utf-8")
    assert changelog.index("## 1.1.0") < changelog.index("## 1.0.0")
    assert report_id in changelog
    descriptor = json.loads((second.path / "datapackage.json").read_text(encoding="utf-8"))
    assert descriptor["version"] == "1.1.0" and descriptor["govreports"]["previousVersion"] == "1.0.0"
    code, report = run_validate(second.path / "datapackage.json")
    assert code == 0, error_types(report)


def test_rules_newly_violated_and_resolved_are_in_the_diff(frames: dict[str, pd.DataFrame], tmp_path: Path) -> None:
    releases = tmp_path / "releases"
    publish_release(frames, YEAR, releases, now=T0)
    findings = frames["findings"]
    violated = findings[findings["rule"] == "R2"]
    assert len(violated), "the fixture year has an R2 violation"
    resolved_report = violated["report_id"].iloc[0]
    clean_report = next(r for r in sorted(frames["reports"]["report_id"])
                        if not ((findings["report_id"] == r) & (findings["rule"] == "R1")).any())
    findings = findings[~((findings["report_id"] == resolved_report) & (findings["rule"] == "R2"))]
    extra = pd.DataFrame([{"report_id": clean_report, "finding_no": 999, "rule": "R1", "severity": "error",
                           "message": "test", "cells": "", "expected": "1", "actual": "2"}])
    frames["findings"] = pd.concat([findings, extra.astype(findings.dtypes.to_dict())], ignore_index=True)
    second = publish_release(frames, YEAR, releases, now=T1)
    assert second.diff is not None
    assert second.diff["rules"]["newly_violated"] == [{"report_id": clean_report, "rule": "R1"}]
    assert second.diff["rules"]["no_longer_violated"] == [{"report_id": resolved_report, "rule": "R2"}]
    assert set(second.diff["reports"]["changed"]) == {clean_report, resolved_report}
    assert set(second.diff["tables"]) == {"findings"}
    assert {"report_id": clean_report, "finding_no": 999} in second.diff["tables"]["findings"]["rows_added"]


def test_removed_and_added_reports(frames: dict[str, pd.DataFrame], tmp_path: Path) -> None:
    releases = tmp_path / "releases"
    dropped = sorted(frames["reports"]["report_id"])[0]
    without = {name: frame[frame["report_id"] != dropped] if "report_id" in frame else frame
               for name, frame in frames.items()}
    publish_release(without, YEAR, releases, now=T0)
    second = publish_release(frames, YEAR, releases, now=T1)
    assert second.version == "1.1.0"
    assert second.diff["reports"] == {"added": [dropped], "removed": [], "changed": []}
    assert second.diff["tables"]["applications"]["rows_added"] == []  # rows of an added report are only counted
    assert second.diff["tables"]["applications"]["counts"]["rows_added"] == int(
        (frames["applications"]["report_id"] == dropped).sum())
    third = publish_release(without, YEAR, releases, now=T1)
    assert third.version == "1.2.0"
    assert third.diff["reports"] == {"added": [], "removed": [dropped], "changed": []}
    assert list_versions(releases, YEAR) == ["1.0.0", "1.1.0", "1.2.0"]


def test_column_change_is_a_major_version(frames: dict[str, pd.DataFrame], tmp_path: Path) -> None:
    releases = tmp_path / "releases"
    publish_release(frames, YEAR, releases, now=T0)
    tables = dict(build_tables())
    sections = tables["sections"]
    tables["sections"] = dataclasses.replace(
        sections, columns=(*sections.columns, Column("words", "integer", "characters in the text", "字数", minimum=0)))
    frames["sections"] = frames["sections"].assign(words=frames["sections"]["text"].str.len().astype("Int64"))
    second = publish_release(frames, YEAR, releases, now=T1, tables=tables)
    assert second.version == "2.0.0" and second.diff["bump"] == "major"
    assert second.diff["schema"]["columns"] == {
        "sections": {"added": ["words"], "removed": [], "retyped": [], "reordered": False}}
    assert second.diff["reports"]["changed"] == []  # no shared cell changed


def test_description_only_change_is_a_patch(frames: dict[str, pd.DataFrame], tmp_path: Path) -> None:
    releases = tmp_path / "releases"
    publish_release(frames, YEAR, releases, now=T0)
    tables = dict(build_tables())
    sections = tables["sections"]
    reworded = tuple(dataclasses.replace(c, description="section text as printed") if c.name == "text" else c
                     for c in sections.columns)
    tables["sections"] = dataclasses.replace(sections, columns=reworded)
    second = publish_release(frames, YEAR, releases, now=T1, tables=tables)
    assert (second.version, second.diff["bump"]) == ("1.0.1", "patch")
    assert second.diff["schema"]["descriptions_changed"] == ["sections"]
    assert second.diff["tables"] == {} and second.diff["reports"]["changed"] == []


def test_bump_policy_unit() -> None:
    assert release_diff_module.next_version(None, "major") == "1.0.0"
    assert release_diff_module.next_version("1.4.2", "minor") == "1.5.0"
    assert release_diff_module.next_version("1.4.2", "patch") == "1.4.3"
    assert release_diff_module.next_version("1.4.2", "major") == "2.0.0"


# ------------------------------------------------------------------------------------------ refusals


def test_invalid_data_is_never_published(frames: dict[str, pd.DataFrame], tmp_path: Path) -> None:
    releases = tmp_path / "releases"
    publish_release(frames, YEAR, releases, now=T0)
    before = tree_state(releases)
    frames["appeals"] = pd.concat([frames["appeals"], frames["appeals"].iloc[[0]]], ignore_index=True)
    with pytest.raises(ReleaseInvalidError) as caught:
        publish_release(frames, YEAR, releases, now=T1)
    assert any("primary key" in error.lower() or "primary-key" in error.lower() for error in caught.value.errors)
    assert tree_state(releases) == before


def test_existing_version_folder_is_never_overwritten(frames: dict[str, pd.DataFrame], tmp_path: Path) -> None:
    releases = tmp_path / "releases"
    publish_release(frames, YEAR, releases, now=T0)
    squatter = releases / str(YEAR) / "1.1.0"
    squatter.mkdir()
    (squatter / "note.txt").write_text("not ours", encoding="utf-8")
    before = tree_state(releases)
    frames["reports"].loc[0, "agency"] = "另一个机关"
    with pytest.raises(ReleaseExistsError):
        publish_release(frames, YEAR, releases, now=T1)
    assert tree_state(releases) == before


def test_published_folder_is_read_only(published: Path) -> None:
    for path in [published, *published.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o222 == 0, path


# ------------------------------------------------------------------------------------------ failures


def _no_temp_left(releases: Path) -> None:
    assert not [p for p in (releases / str(YEAR)).iterdir() if p.name.startswith(".tmp")]


def test_exception_mid_write_leaves_previous_release_and_latest(frames: dict[str, pd.DataFrame], tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    releases = tmp_path / "releases"
    publish_release(frames, YEAR, releases, now=T0)
    before = tree_state(releases)
    latest_before = (releases / str(YEAR) / "latest.json").read_bytes()
    frames["reports"].loc[0, "agency"] = "另一个机关"
    real = publish_module.parquet_bytes
    calls = {"n": 0}

    def failing_parquet(*args: Any, **kwargs: Any) -> bytes:
        calls["n"] += 1
        if calls["n"] == 3:  # after several data files are on disk
            raise RuntimeError("writer crashed")
        return real(*args, **kwargs)

    monkeypatch.setattr(publish_module, "parquet_bytes", failing_parquet)
    with pytest.raises(PublishError, match="writer crashed"):
        publish_release(frames, YEAR, releases, now=T1)
    assert calls["n"] == 3
    assert tree_state(releases) == before
    assert (releases / str(YEAR) / "latest.json").read_bytes() == latest_before
    _no_temp_left(releases)
    monkeypatch.undo()
    retry = publish_release(frames, YEAR, releases, now=T1)  # and the next publish works
    assert retry.version == "1.1.0"


def test_disk_full_while_writing_leaves_previous_release(frames: dict[str, pd.DataFrame], tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    releases = tmp_path / "releases"
    publish_release(frames, YEAR, releases, now=T0)
    before = tree_state(releases)
    frames["reports"].loc[0, "agency"] = "另一个机关"
    real = publish_module._write_file

    def full_disk(root: Path, relative: str, data: bytes) -> Any:
        if relative.endswith("applications.csv"):
            (root / relative).write_bytes(data[: len(data) // 2])  # half a file, as a full disk leaves it
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(root, relative, data)

    monkeypatch.setattr(publish_module, "_write_file", full_disk)
    with pytest.raises(PublishError, match="No space left"):
        publish_release(frames, YEAR, releases, now=T1)
    assert tree_state(releases) == before
    _no_temp_left(releases)


def test_failed_latest_update_keeps_old_pointer(frames: dict[str, pd.DataFrame], tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    releases = tmp_path / "releases"
    publish_release(frames, YEAR, releases, now=T0)
    latest_before = (releases / str(YEAR) / "latest.json").read_bytes()
    frames["reports"].loc[0, "agency"] = "另一个机关"
    real_replace = os.replace

    def failing_replace(src: Any, dst: Any) -> None:
        if str(dst).endswith("latest.json"):
            raise OSError(errno.EIO, "I/O error")
        real_replace(src, dst)

    monkeypatch.setattr(publish_module.os, "replace", failing_replace)
    with pytest.raises(PublishError, match="latest could not be updated"):
        publish_release(frames, YEAR, releases, now=T1)
    monkeypatch.undo()
    assert (releases / str(YEAR) / "latest.json").read_bytes() == latest_before
    assert os.readlink(releases / str(YEAR) / "latest") == "1.0.0"
    assert not [p for p in (releases / str(YEAR)).iterdir() if ".tmp" in p.name]
    # the complete 1.1.0 folder exists; publishing the same content again repairs the pointer
    again = publish_release(frames, YEAR, releases, now=T1)
    assert (again.created, again.version) == (False, "1.1.0")
    assert read_latest(releases, YEAR)["version"] == "1.1.0"


# Real read-only and full file systems.  As root, permissions do not stop writes, so the publish runs in a
# private mount namespace (unshare) on a read-only bind mount or a small tmpfs; elsewhere, chmod does it.

CHILD = textwrap.dedent("""
    import errno, json, os, sys
    from pathlib import Path
    import pandas as pd
    from datapackage.publish import PublishError, publish_release
    frames = pd.read_pickle(sys.argv[2])
    releases = Path(sys.argv[1])
    mode = sys.argv[3]
    if mode == "full":
        changed = pd.read_pickle(sys.argv[4])
        first = publish_release(frames, 2020, releases)
        filler = releases / "filler"
        filler.mkdir()
        chunks = []
        try:
            for i in range(100000):
                path = filler / f"{i:05d}"
                with open(path, "wb") as handle:
                    handle.write(b"x" * 16384)
                chunks.append(path)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC, exc
        for path in chunks[:8]:  # about 128 KiB free: the publish starts, then runs out of space
            path.unlink()
        frames = changed
        before = sorted(str(p) for p in releases.rglob("*"))
    try:
        publish_release(frames, 2020, releases)
    except PublishError as exc:
        result = {"error": str(exc)}
    else:
        result = {"error": None}
    if mode == "full":
        result["unchanged"] = sorted(str(p) for p in releases.rglob("*")) == before
        result["latest"] = json.loads((releases / "2020" / "latest.json").read_text())["version"]
    print(json.dumps(result))
""")


def _run_child(args: list[str], script_prefix: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", CHILD, *args]
    if os.geteuid() == 0:
        quoted = " ".join(f"'{a}'" for a in command[3:])
        shell = f"{script_prefix} exec '{sys.executable}' -c \"$CHILD\" {quoted}"
        env = {**subprocess_env(), "CHILD": CHILD}
        return subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", shell],
                              capture_output=True, text=True, timeout=300, env=env)
    return subprocess.run(command, capture_output=True, text=True, timeout=300, env=subprocess_env())


def _unshare_available() -> bool:
    if os.geteuid() != 0:
        return True
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "--mount", "--propagation", "private", "true"], capture_output=True)
    return probe.returncode == 0


def test_read_only_releases_dir_fails_cleanly(frames: dict[str, pd.DataFrame], tmp_path: Path) -> None:
    if not _unshare_available():
        pytest.skip("running as root without mount namespaces: no way to make a folder read-only for root")
    releases = tmp_path / "releases"
    publish_release(frames, YEAR, releases, now=T0)
    frames["reports"].loc[0, "agency"] = "另一个机关"
    pickle = tmp_path / "frames.pkl"
    pd.to_pickle(frames, pickle)
    before = tree_state(releases)
    if os.geteuid() == 0:
        prefix = f"mount --bind '{releases}' '{releases}' && mount -o remount,bind,ro '{releases}' && "
        result = _run_child([str(releases), str(pickle), "ro"], prefix)
    else:
        for path in [releases, *releases.rglob("*")]:
            if path.is_dir() and not path.is_symlink():
                os.chmod(path, 0o555)
        try:
            result = _run_child([str(releases), str(pickle), "ro"], "")
        finally:
            os.chmod(releases, 0o755)
            os.chmod(releases / str(YEAR), 0o755)
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["error"] and ("Read-only" in outcome["error"] or "Permission denied" in outcome["error"])
    assert tree_state(releases) == before
    assert read_latest(releases, YEAR)["version"] == "1.0.0"


def test_full_disk_fails_cleanly(frames: dict[str, pd.DataFrame], tmp_path: Path) -> None:
    if os.geteuid() != 0 or not _unshare_available():
        pytest.skip("a real full disk needs a private tmpfs mount (root with mount namespaces)")
    releases = tmp_path / "releases"
    releases.mkdir()
    changed = {name: frame.copy() for name, frame in frames.items()}
    changed["reports"].loc[0, "agency"] = "另一个机关"
    pd.to_pickle(frames, tmp_path / "frames.pkl")
    pd.to_pickle(changed, tmp_path / "changed.pkl")
    prefix = f"mount -t tmpfs -o size=2m tmpfs '{releases}' && "
    result = _run_child([str(releases), str(tmp_path / "frames.pkl"), "full", str(tmp_path / "changed.pkl")], prefix)
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["error"] and "No space left" in outcome["error"]
    assert outcome["unchanged"] is True
    assert outcome["latest"] == "1.0.0"
