"""Manifests beside collected files: their values take precedence over the text's, disagreements are findings,
and the record keeps where the file came from."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from govreports.parser import parse_path
from govreports.readers.manifest import (
    ManifestEntry,
    ManifestError,
    annotate,
    apply_manifest,
    entry_for,
    is_manifest,
    load_manifest,
    manifest_problem,
)
from tests.gold import CORPUS

TJJ = CORPUS / "dev" / "putian_tjj_2020.txt"  # 莆田市统计局, 2020, 2019 template
SEED = CORPUS / "seeds" / "000_5c245e0f5975cf67.txt"  # 金东区鞋塘办事处, 2020
HEADER = "file,url,agency,region,region_code,year,fetched_at,title\n"


def _copy(tmp_path: Path, source: Path, name: str) -> Path:
    target = tmp_path / name
    target.write_bytes(source.read_bytes())
    return target


def _rules(record: dict) -> list[str]:
    return [f["rule"] for f in record["findings"]]


def test_load_csv_and_jsonl(tmp_path: Path) -> None:
    (tmp_path / "manifest.csv").write_text(
        "\ufeff" + HEADER + "a.html,http://example.gov.cn/a.html,莆田市统计局,福建省莆田市,350300,2020,"
        "2024-05-01T08:00:00+08:00,莆田市统计局2020年政府信息公开工作年度报告\n\n", encoding="utf-8")
    (tmp_path / "manifest.jsonl").write_text(
        json.dumps({"file": "./sub/b.pdf", "agency": "平潭综合实验区公安局", "year": 2022, "source_site": "pingtan"},
                   ensure_ascii=False) + "\n", encoding="utf-8")
    entries = load_manifest(tmp_path)
    assert set(entries) == {"a.html", "sub/b.pdf"}
    a = entries["a.html"]
    assert (a.agency, a.year, a.region, a.region_code, a.url) == (
        "莆田市统计局", 2020, "福建省莆田市", "350300", "http://example.gov.cn/a.html")
    assert a.manifest == "manifest.csv"
    assert entries["sub/b.pdf"].extra == {"source_site": "pingtan"} and entries["sub/b.pdf"].url is None
    assert load_manifest(tmp_path / "nowhere") == {}


def test_gbk_csv_from_a_spreadsheet(tmp_path: Path) -> None:
    (tmp_path / "manifest.csv").write_bytes((HEADER + "a.txt,,莆田市民族与宗教事务局,,,2023,,\n").encode("gbk"))
    assert load_manifest(tmp_path)["a.txt"].agency == "莆田市民族与宗教事务局"


@pytest.mark.parametrize(("content", "message"), [
    ("url\nhttp://x\n", "no 'file' column"),
    (HEADER + "a.txt,,,,,20x0,,\n", "year"),
    (HEADER + "a.txt,,,,,2020,yesterday,\n", "fetched_at"),
    (HEADER + "a.txt,,甲,,,2020,,\na.txt,,乙,,,2020,,\n", "listed twice"),
    (HEADER + "a.txt,,甲,,,2020,,,extra\n", "more cells"),
])
def test_untrustworthy_manifests_are_refused(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "manifest.csv").write_text(content, encoding="utf-8")
    with pytest.raises(ManifestError, match=message):
        load_manifest(tmp_path)


def test_bad_json_line_is_refused(tmp_path: Path) -> None:
    (tmp_path / "manifest.jsonl").write_text('{"file": "a.txt"}\n{"file": \n', encoding="utf-8")
    with pytest.raises(ManifestError, match="line 2"):
        load_manifest(tmp_path)


def test_manifest_takes_precedence_and_disagreement_is_a_finding() -> None:
    record = parse_path(TJJ, manifest=False)
    assert record["metadata"]["agency"] == "莆田市统计局" and record["metadata"]["report_year"] == 2020
    entry = ManifestEntry(file="x.txt", agency="莆田市统计局（市普查中心）", year=2020, region="福建省莆田市",
                          region_code="350300", url="http://www.putian.gov.cn/x.htm", fetched_at="2024-05-01",
                          title="莆田市统计局2020年政府信息公开工作年度报告", manifest="manifest.csv")
    apply_manifest(record, entry)
    meta = record["metadata"]
    assert meta["agency"] == "莆田市统计局（市普查中心）" and meta["report_year"] == 2020
    assert meta["region"] == {"name": "福建省莆田市", "code": "350300"}
    assert meta["from_manifest"] == ["agency", "report_year", "region"]
    disagreements = [f for f in record["findings"] if f["rule"] == "manifest_disagrees"]
    assert len(disagreements) == 1 and disagreements[0]["severity"] == "warning"
    assert (disagreements[0]["field"], disagreements[0]["text_value"]) == ("agency", "莆田市统计局")
    assert record["source"]["url"] == "http://www.putian.gov.cn/x.htm"
    assert record["source"]["fetched_at"] == "2024-05-01" and record["source"]["manifest"] == "manifest.csv"


def test_manifest_year_rechecks_the_template() -> None:
    record = parse_path(TJJ, manifest=False)  # 2019-template tables
    assert "template_mismatch" not in _rules(record)
    apply_manifest(record, ManifestEntry(file="x", year=2022))
    assert record["metadata"]["report_year"] == 2022
    assert _rules(record).count("manifest_disagrees") == 1 and _rules(record).count("template_mismatch") == 1


def test_a_year_without_tables_decides_the_template_as_the_parser_does() -> None:
    from govreports.build import file_under_year

    record = parse_path(CORPUS / "dev" / "putian_shi_2008.txt", manifest=False)  # no standard tables, 2008
    assert (record["reason"], record["metadata"]["template"]) == ("no_standard_tables", "pre2019")
    apply_manifest(record, ManifestEntry(file="x", year=2020))
    assert record["metadata"]["template"] is None  # a 2020 report without tables follows no template
    file_under_year(record, "2017/x.txt", 2017)
    assert record["metadata"]["template"] == "pre2019"


def test_agreeing_manifest_adds_no_finding_and_settles_uncertainty() -> None:
    record = parse_path(TJJ, manifest=False)
    record["findings"].append({"rule": "agency_uncertain", "severity": "warning", "message": "x", "cells": []})
    before = len(record["findings"])
    apply_manifest(record, ManifestEntry(file="x", agency="莆田市 统计局", year=2020))
    assert "manifest_disagrees" not in _rules(record) and "agency_uncertain" not in _rules(record)
    assert len(record["findings"]) == before - 1


def test_parse_path_applies_the_manifest_beside_the_file(tmp_path: Path) -> None:
    report = _copy(tmp_path, SEED, "report.txt")
    (tmp_path / "manifest.jsonl").write_text(json.dumps(
        {"file": "report.txt", "agency": "金华市金东区鞋塘办事处", "url": "http://www.jindong.gov.cn/1.html"},
        ensure_ascii=False) + "\n", encoding="utf-8")
    record = parse_path(report)
    assert record["metadata"]["agency"] == "金华市金东区鞋塘办事处"
    assert record["source"]["url"] == "http://www.jindong.gov.cn/1.html"
    assert "manifest_disagrees" in _rules(record)
    assert parse_path(report, manifest=False)["metadata"]["agency"] == "金东区鞋塘办事处"


def test_quarantined_file_keeps_its_url(tmp_path: Path) -> None:
    (tmp_path / "empty.html").write_bytes(b"")
    (tmp_path / "manifest.csv").write_text(HEADER + "empty.html,http://x.gov.cn/e.html,某局,,,2021,,\n",
                                           encoding="utf-8")
    record = parse_path(tmp_path / "empty.html")
    assert record["status"] == "quarantined" and record["source"]["url"] == "http://x.gov.cn/e.html"
    assert record["metadata"] is None


def test_cli_applies_the_manifest_and_skips_it(tmp_path: Path) -> None:
    _copy(tmp_path, TJJ, "tjj.txt")
    _copy(tmp_path, SEED, "seed.txt")
    (tmp_path / "manifest.csv").write_text(
        HEADER + "tjj.txt,http://www.putian.gov.cn/tjj.htm,莆田市统计局,福建省莆田市,,2020,2024-05-01T08:00:00Z,\n"
        "seed.txt,http://www.jindong.gov.cn/2.html,金东区鞋塘办事处,,,2019,,\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "govreports", "parse", str(tmp_path)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    records = {Path(r["source"]["path"]).name: r for r in map(json.loads, result.stdout.splitlines())}
    assert set(records) == {"tjj.txt", "seed.txt"}
    assert records["tjj.txt"]["source"]["fetched_at"] == "2024-05-01T08:00:00Z"
    assert records["tjj.txt"]["metadata"]["region"] == {"name": "福建省莆田市"}
    assert "manifest_disagrees" not in _rules(records["tjj.txt"])
    seed = records["seed.txt"]
    assert seed["metadata"]["report_year"] == 2019
    assert [f["field"] for f in seed["findings"] if f["rule"] == "manifest_disagrees"] == ["report_year"]


def test_untrustworthy_manifest_is_not_applied_and_says_so(tmp_path: Path) -> None:
    report = _copy(tmp_path, TJJ, "tjj.txt")
    (tmp_path / "manifest.csv").write_text(HEADER + "tjj.txt,,别的局,,,not-a-year,,\n", encoding="utf-8")
    record = parse_path(report)
    assert record["metadata"]["agency"] == "莆田市统计局" and "url" not in record["source"]
    assert "manifest_invalid" in _rules(record)
    (tmp_path / "manifest.csv").write_text(HEADER + "tjj.txt,,别的局,,,2020,,\n", encoding="utf-8")
    assert parse_path(report)["metadata"]["agency"] == "别的局"  # a corrected manifest is read again


def test_manifest_names() -> None:
    assert is_manifest("landing/manifest.csv") and is_manifest("MANIFEST.JSONL") and not is_manifest("report.csv")


def test_manifest_outside_the_root_is_not_read(tmp_path: Path) -> None:
    outside, landing = tmp_path / "outside", tmp_path / "landing"
    outside.mkdir()
    landing.mkdir()
    (outside / "manifest.csv").write_text(HEADER + "a.txt,,别的局,,,2020,,\n", encoding="utf-8")
    (landing / "manifest.csv").symlink_to(outside / "manifest.csv")
    assert entry_for(landing / "a.txt").agency == "别的局"  # the CLI follows the user's symlinks
    with pytest.raises(ManifestError, match="resolves outside the landing folder"):
        entry_for(landing / "a.txt", root=landing)
    record = annotate({"metadata": {"agency": "本局"}, "findings": []}, landing / "a.txt", root=landing)
    assert record["metadata"] == {"agency": "本局"} and _rules(record) == ["manifest_invalid"]


def test_manifest_that_is_not_a_regular_file_is_refused(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "manifest.csv")  # reading it would block
    with pytest.raises(ManifestError, match="not a regular file"):
        load_manifest(tmp_path)
    dangling = tmp_path / "other"
    dangling.mkdir()
    (dangling / "manifest.jsonl").symlink_to(tmp_path / "gone.jsonl")
    with pytest.raises(ManifestError, match="cannot be read"):
        entry_for(dangling / "a.txt")


@pytest.mark.parametrize(("name", "content", "message"), [
    ("manifest.csv", HEADER + "a.txt,," + "x" * 200_000 + ",,,2020,,\n", "field larger than field limit"),
    ("manifest.jsonl", "[" * 100_000 + "]" * 100_000 + "\n", "RecursionError"),
])
def test_hostile_manifests_are_refused_not_raised(tmp_path: Path, name: str, content: str, message: str) -> None:
    (tmp_path / name).write_text(content, encoding="utf-8")
    with pytest.raises(ManifestError, match=message):
        load_manifest(tmp_path)


def test_replaced_manifest_with_same_size_and_mtime_is_read_again(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(HEADER + "a.txt,,甲局,,,2020,,\n", encoding="utf-8")
    assert entry_for(tmp_path / "a.txt").agency == "甲局"
    before = manifest.stat()
    saved = tmp_path / "manifest.csv.tmp"  # how editors and sync tools save: a new file renamed over the old
    saved.write_text(HEADER + "a.txt,,乙局,,,2020,,\n", encoding="utf-8")  # same byte count
    os.utime(saved, ns=(before.st_atime_ns, before.st_mtime_ns))
    os.replace(saved, manifest)
    assert manifest.stat().st_size == before.st_size and manifest.stat().st_mtime_ns == before.st_mtime_ns
    assert entry_for(tmp_path / "a.txt").agency == "乙局"


def test_manifest_problem_says_why_a_manifest_is_not_applied(tmp_path: Path) -> None:
    (tmp_path / "manifest.csv").write_text(HEADER + "a.txt,,甲局,,,2020,,\n", encoding="utf-8")
    assert manifest_problem(tmp_path / "manifest.csv") is None
    (tmp_path / "manifest.jsonl").write_text('{"file": "a.txt", "agency": "乙局"}\n', encoding="utf-8")
    problem = "manifest.jsonl line 1: a.txt is listed twice with different values"
    assert manifest_problem(tmp_path / "manifest.csv") == manifest_problem(tmp_path / "manifest.jsonl") == problem
    assert manifest_problem(tmp_path / "MANIFEST.CSV") == (
        "MANIFEST.CSV: not read; a manifest must be named manifest.csv or manifest.jsonl or manifest.ndjson "
        "(lower case)")


# --- in the pipeline: the year folder outranks the manifest's year; the tables keep the provenance ------------

def _filed(manifest_year: int | None, folder_year: int, path: str | None = None) -> tuple[dict, str | None]:
    """TJJ (text: 2020, 2019-template tables) with a manifest entry, filed under ``folder_year``."""
    from govreports.build import file_under_year

    record = parse_path(TJJ, manifest=False)
    apply_manifest(record, ManifestEntry(file="tjj.txt", year=manifest_year, url="http://www.putian.gov.cn/t.htm",
                                         manifest="manifest.csv"))
    note = file_under_year(record, path or f"{folder_year}/tjj.txt", folder_year)
    return record, note


def _year_findings(record: dict) -> list[dict]:
    return [f for f in record["findings"] if f["rule"] == "manifest_disagrees" and f["field"] == "report_year"]


def test_year_folder_outranks_the_manifest_and_one_finding_names_all_three() -> None:
    record, note = _filed(2019, 2021)  # text 2020, manifest 2019, folder 2021
    assert record["metadata"]["report_year"] == 2021 and record["metadata"]["from_manifest"] == []
    [finding] = _year_findings(record)
    assert finding["message"] == ("report_year: the manifest says 2019, the year folder says 2021, the text says "
                                  "2020; the year folder's value is kept")
    assert (finding["manifest_value"], finding["partition_value"], finding["text_value"]) == (2019, 2021, 2020)
    assert not any("manifest's value is kept" in f["message"] for f in record["findings"])
    assert note == "report_year from the manifest: 2019; printed: 2020; partition: 2021"
    # the year-versus-tables check speaks of the year kept, not of the manifest's
    assert [f["message"] for f in record["findings"] if f["rule"] == "template_mismatch"] == [
        "report year 2021 but tables follow the 2019 template"]


def test_year_folder_agreeing_with_the_text_over_the_manifest() -> None:
    record, note = _filed(2019, 2020)  # the manifest's 2019 disagrees with text and folder (2020)
    [finding] = _year_findings(record)
    assert finding["message"] == ("report_year: the manifest says 2019, the year folder says 2020, as does the "
                                  "text; the year folder's value is kept")
    assert note == "report_year from the manifest: 2019; printed: 2020; partition: 2020"
    assert "template_mismatch" not in _rules(record)  # 2020 and 2019-template tables agree again


def test_manifest_agreeing_with_the_text_against_the_year_folder() -> None:
    record, note = _filed(2020, 2021)  # text and manifest 2020: no finding from the manifest, one from the folder
    [finding] = _year_findings(record)
    assert finding["message"] == ("report_year: the manifest says 2020, the year folder says 2021; the year "
                                  "folder's value is kept")
    assert "text_value" not in finding
    assert note == "report_year from the manifest: 2020; partition: 2021"


def test_year_folder_agreeing_with_the_manifest_changes_nothing() -> None:
    record, note = _filed(2021, 2021)  # text 2020: the manifest's finding stays true, and stays alone
    assert note is None and record["metadata"]["report_year"] == 2021
    assert [f["message"] for f in _year_findings(record)] == [
        "report_year: the manifest says 2021, the text says 2020; the manifest's value is kept"]


def test_no_manifest_year_keeps_the_printed_year_note() -> None:
    record, note = _filed(None, 2021)
    assert note == "report_year printed: 2020; partition: 2021"
    assert record["metadata"]["report_year"] == 2021 and _year_findings(record) == []


def test_outside_year_folders_the_message_does_not_speak_of_a_folder() -> None:
    record, _ = _filed(2019, 2020, path="inbox/tjj.txt")  # the manifest changed after the file was ingested
    [finding] = _year_findings(record)
    assert finding["message"] == ("report_year: the manifest says 2019, the file was ingested under 2020, as does "
                                  "the text; 2020 is kept until the next ingest")


def test_tables_keep_the_provenance_and_the_manifest_disagreement() -> None:
    from govreports.frames import records_to_frames

    record = parse_path(TJJ, manifest=False)
    apply_manifest(record, ManifestEntry(
        file="tjj.txt", agency="莆田市统计局（市普查中心）", year=2020, region="福建省莆田市", region_code="350300",
        url="http://www.putian.gov.cn/tjj.htm", fetched_at="2024-05-01T08:00:00+08:00", manifest="manifest.csv"))
    checked = parse_path(CORPUS / "dev" / "pingtan_qu_2020.txt", manifest=False)  # no manifest, R2 findings
    frames = records_to_frames([record, checked])
    reports = frames["reports"].set_index("source_path")
    provenance = ["region", "region_code", "source_url", "source_fetched_at"]
    assert reports.loc[str(TJJ), provenance].tolist() == [
        "福建省莆田市", "350300", "http://www.putian.gov.cn/tjj.htm", "2024-05-01T08:00:00+08:00"]
    assert reports.loc[str(CORPUS / "dev" / "pingtan_qu_2020.txt"), provenance].isna().all()  # nothing invented
    findings = frames["findings"]
    disagrees = findings[findings["rule"] == "manifest_disagrees"]
    assert disagrees[["expected", "actual"]].values.tolist() == [['"莆田市统计局（市普查中心）"', '"莆田市统计局"']]
    first_r2 = next(f for f in checked["findings"] if f["rule"] == "R2")  # rule findings keep their own values
    r2 = findings[findings["rule"] == "R2"].iloc[0]
    assert (r2["expected"], r2["actual"]) == (str(first_r2["expected"]), str(first_r2["actual"]))
