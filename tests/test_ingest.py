"""Ingestion, ledger and warehouse without Dagster: re-runs skip, changes version, duplicates are recorded,
every file is accounted for, and a year's core tables are replaced, never duplicated."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from govreports import warehouse
from govreports.batch import ParseJob, parse_files
from govreports.build import build_core_year, build_out_year
from govreports.columns import build_tables
from govreports.ingest import (
    assign_years,
    digests_by_year,
    folder_year,
    ingest_year,
    ledger_counts,
    scan_landing,
    sniff_format,
)
from tests.gold import CORPUS
from tests.pipeline_data import expected_counts, lay_landing


@pytest.fixture
def data(tmp_path: Path) -> tuple[Path, Path]:
    landing = lay_landing(tmp_path / "landing")
    return tmp_path / "warehouse.duckdb", landing


def ledger(db: Path) -> pd.DataFrame:
    with warehouse.session(db) as con:
        return con.execute("SELECT * FROM ledger.files ORDER BY path, version").df()


def test_scan_helpers() -> None:
    assert folder_year("2020/a.txt") == 2020
    assert folder_year("2020/sub/a.txt") == 2020
    assert folder_year("inbox/a.txt") is None
    assert folder_year("2020") is None  # a file named like a year, at the top
    assert sniff_format(b"%PDF-1.7") == "pdf"
    assert sniff_format(b"PK\x03\x04", "a.docx") == "docx"
    assert sniff_format(b"<!DOCTYPE html><html>") == "html"
    assert sniff_format("一、总体情况".encode()) == "text"


def test_first_ingest_records_every_file(data: tuple[Path, Path]) -> None:
    db, landing = data
    summary = ingest_year(db, landing, 2020)
    rows = ledger(db).set_index("path")
    assert summary.counts["new"] == 6 and summary.counts["duplicate"] == 1
    assert set(rows.index) == {"2020/pingtan_qu_2020.txt", "2020/putian_sjj_2020.txt", "2020/putian_tjj_2020.html",
                               "2020/sub/zz_copy_of_sjj.txt", "2020/notes.txt", "inbox/000_5c245e0f5975cf67.txt"}
    assert rows.loc["inbox/000_5c245e0f5975cf67.txt", "report_year"] == 2020  # read from the report
    assert pd.isna(rows.loc["inbox/000_5c245e0f5975cf67.txt", "folder_year"])
    copy = rows.loc["2020/sub/zz_copy_of_sjj.txt"]
    assert (copy["status"], copy["reason"], copy["duplicate_of"]) == ("quarantined", "duplicate",
                                                                      "2020/putian_sjj_2020.txt")
    assert rows.loc["2020/putian_tjj_2020.html", "format"] == "html"
    assert (rows["sha256"].str.len() == 64).all()


def test_rerun_skips_known_files(data: tuple[Path, Path]) -> None:
    db, landing = data
    ingest_year(db, landing, 2020)
    before = ledger(db)
    again = ingest_year(db, landing, 2020)
    after = ledger(db)
    assert again.counts["new"] == 0 and again.counts["changed"] == 0
    assert again.counts["unchanged"] == len(before)
    assert len(after) == len(before)
    assert (after["first_seen"] == before["first_seen"]).all()


def test_changed_file_is_a_new_version_and_history_is_kept(data: tuple[Path, Path]) -> None:
    db, landing = data
    ingest_year(db, landing, 2020)
    target = landing / "2020" / "pingtan_qu_2020.txt"
    old = target.read_bytes()
    target.write_bytes(old.replace("平潭".encode(), "平潭县".encode(), 1))
    summary = ingest_year(db, landing, 2020)
    assert summary.counts["changed"] == 1 and summary.counts["new"] == 1
    versions = ledger(db).query("path == '2020/pingtan_qu_2020.txt'").sort_values("version")
    assert list(versions["version"]) == [1, 2]
    assert list(versions["current"]) == [False, True]
    # back to the old bytes: the first version is current again, nothing is lost
    target.write_bytes(old)
    ingest_year(db, landing, 2020)
    versions = ledger(db).query("path == '2020/pingtan_qu_2020.txt'").sort_values("version")
    assert list(versions["current"]) == [True, False]


def test_removed_file_and_promoted_duplicate(data: tuple[Path, Path]) -> None:
    db, landing = data
    ingest_year(db, landing, 2020)
    (landing / "2020" / "putian_sjj_2020.txt").unlink()
    summary = ingest_year(db, landing, 2020)
    rows = ledger(db).set_index("path")
    assert summary.counts["removed"] == 1
    assert not rows.loc["2020/putian_sjj_2020.txt", "current"]
    assert not pd.isna(rows.loc["2020/putian_sjj_2020.txt", "removed_at"])
    copy = rows.loc["2020/sub/zz_copy_of_sjj.txt"]
    assert copy["status"] == "pending" and pd.isna(copy["duplicate_of"])  # the copy takes the original's place


def test_duplicate_across_year_folders(data: tuple[Path, Path]) -> None:
    db, landing = data
    ingest_year(db, landing, 2020)
    (landing / "2021" / "moved_by_mistake.txt").write_bytes((landing / "2020" / "pingtan_qu_2020.txt").read_bytes())
    ingest_year(db, landing, 2021)
    row = ledger(db).set_index("path").loc["2021/moved_by_mistake.txt"]
    assert (row["reason"], row["duplicate_of"]) == ("duplicate", "2020/pingtan_qu_2020.txt")


def test_symlink_out_of_landing_is_never_read(data: tuple[Path, Path], tmp_path: Path) -> None:
    db, landing = data
    secret = tmp_path / "secret.txt"
    secret.write_text("outside", encoding="utf-8")
    (landing / "2020" / "link.txt").symlink_to(secret)
    files = {f.path: f for f in scan_landing(landing, years={2020})}
    assert files["2020/link.txt"].problem == "outside_landing" and files["2020/link.txt"].sha256 == ""
    ingest_year(db, landing, 2020)
    build_core_year(db, landing, 2020, workers=1)
    with warehouse.session(db) as con:
        counts = ledger_counts(con, 2020)
        quarantine = warehouse.read_model_table(con, "quarantine", 2020)
    assert counts.quarantined_by_reason["outside_landing"] == 1 and counts.balanced
    assert "2020/link.txt" in set(quarantine["source_path"])


def test_core_build_matches_the_files_and_reruns_replace(data: tuple[Path, Path]) -> None:
    db, landing = data
    expected = expected_counts(landing, 2020)
    for _ in range(2):  # the second build replaces the year's rows
        ingest_year(db, landing, 2020)
        build = build_core_year(db, landing, 2020, workers=1)
    assert build.rows == {name: expected["tables"].get(name, 0) for name in build_tables()}
    with warehouse.session(db) as con:
        for name, table in build_tables().items():
            keys = ", ".join(table.primary_key)
            total, distinct = con.execute(
                f"SELECT count(*), count(DISTINCT ({keys})) FROM core.{name} WHERE report_year = 2020").fetchone()
            assert total == distinct == expected["tables"].get(name, 0), name
        counts = ledger_counts(con, 2020)
        assert con.execute("SELECT count(*) FROM core.reports WHERE source_path LIKE '/%'").fetchone()[0] == 0
    assert counts.balanced and counts.pending == 0
    assert counts.current == expected["files"]
    assert counts.parsed + counts.partial == expected["tables"]["reports"]
    assert counts.quarantined_by_reason == expected["reasons"] == {"duplicate": 1, "not_a_report": 1}


def test_same_report_with_other_bytes_is_a_duplicate_report(data: tuple[Path, Path]) -> None:
    db, landing = data
    text = (landing / "2021" / "putian_hyyyj_2021.txt").read_bytes()
    (landing / "2021" / "zz_reformatted.txt").write_bytes(text.replace(b"\n", b"\r\n"))  # same text, new bytes
    ingest_year(db, landing, 2021)
    build = build_core_year(db, landing, 2021, workers=1)
    assert build.quarantine_reasons == {"duplicate_report": 1}
    row = ledger(db).set_index("path").loc["2021/zz_reformatted.txt"]
    assert (row["status"], row["reason"], row["duplicate_of"]) == ("quarantined", "duplicate_report",
                                                                   "2021/putian_hyyyj_2021.txt")


def test_out_tables_add_columns_for_new_templates(data: tuple[Path, Path]) -> None:
    db, landing = data
    for year in (2020, 2021):  # 2019 template, then 2021 template: different cell columns
        ingest_year(db, landing, year)
        build_core_year(db, landing, year, workers=1)
        build_out_year(db, year)
    build_out_year(db, 2020)
    with warehouse.session(db) as con:
        frame = con.execute("SELECT * FROM out.applications_wide").df()
    assert frame.groupby("report_year").size().to_dict() == {2020: 4, 2021: 2}
    assert frame["report_id"].is_unique
    assert "other_fee_unpaid__total" in frame.columns  # a 2021-template row


def test_replace_partition_is_atomic(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    good = pd.DataFrame({"a": [1, 2]})
    with warehouse.session(db) as con:
        warehouse.replace_partitions(con, "out", {"t": good}, 2020)
        with pytest.raises(duckdb.Error), warehouse.transaction(con):
            warehouse.replace_partition(con, "out", "t", pd.DataFrame({"a": [3]}), 2020)
            con.execute("SELECT * FROM no_such_table")
        assert con.execute("SELECT a FROM out.t ORDER BY a").fetchall() == [(1,), (2,)]


def test_parallel_parsing_streams_records_in_order() -> None:
    paths = sorted((CORPUS / "dev").glob("*.txt"))[:6]
    jobs = [ParseJob(p, p.name) for p in paths]
    parallel = list(parse_files(jobs, workers=2, window=2, min_parallel=0))
    inline = list(parse_files(jobs, workers=1))
    assert [j.path for j, _ in parallel] == [p.name for p in paths]
    assert [r["report_id"] for _, r in parallel] == [r["report_id"] for _, r in inline]
    assert all(r["source"]["path"] == j.path for j, r in parallel)


def test_init_sample_lays_the_corpus_by_year(tmp_path: Path) -> None:
    from govreports.pipeline_cli import lay_sample
    from orchestration.runner import parse_years

    landing = tmp_path / "landing"
    laid = lay_sample(landing, CORPUS)
    corpus = [p for p in CORPUS.rglob("*") if p.is_file() and p.name != "SOURCES.tsv"
              and not p.name.upper().startswith("README")]
    assert len(laid) == len(corpus)
    assert {p.parent.name for p in laid} >= {"2008", "2019", "2020", "2021", "2022", "2023", "2024"}
    assert (landing / "2020" / "putian_tjj_2020.html").exists()
    mtimes = {p: p.stat().st_mtime_ns for p in laid}
    assert lay_sample(landing, CORPUS) == laid  # idempotent: nothing rewritten
    assert all(p.stat().st_mtime_ns == mtimes[p] for p in laid)
    assert parse_years("2019-2021,2023") == [2019, 2020, 2021, 2023]
    with pytest.raises(ValueError):
        parse_years("2021-2019")


# --- manifests in the landing folder ------------------------------------------------------------------------

MANIFEST_HEADER = "file,url,agency,region,region_code,year,fetched_at,title\n"
TJJ_URL, SJJ_URL = "http://www.putian.gov.cn/tjj.htm", "http://www.putian.gov.cn/sjj.htm"
SJJ_MANIFEST_AGENCY = "莆田市审计局（市委审计办公室）"  # the text says 莆田市审计局


def _manifest_landing(tmp_path: Path, manifest: str) -> tuple[Path, Path]:
    landing = tmp_path / "landing"
    lay_landing(landing, {"2020/tjj.txt": "dev/putian_tjj_2020.txt", "2020/sjj.txt": "dev/putian_sjj_2020.txt"})
    (landing / "2020" / "manifest.csv").write_text(manifest, encoding="utf-8")
    return tmp_path / "warehouse.duckdb", landing


def _core(db: Path, sql: str) -> list[tuple]:
    with warehouse.session(db) as con:
        return con.execute(sql).fetchall()


def _agencies(db: Path) -> dict[str, str]:
    return dict(_core(db, "SELECT source_path, agency FROM core.reports WHERE report_year = 2020"))


def _manifest_findings(db: Path) -> list[tuple[str, str, str]]:
    return sorted(_core(db, "SELECT r.source_path, f.rule, f.message FROM core.findings f JOIN core.reports r "
                            "USING (report_id) WHERE f.rule LIKE 'manifest%'"))


def test_manifest_in_landing_is_applied_not_parsed(tmp_path: Path) -> None:
    db, landing = _manifest_landing(tmp_path, MANIFEST_HEADER + f"tjj.txt,{TJJ_URL},莆田市统计局,,,2020,,\n"
                                    f"sjj.txt,{SJJ_URL},{SJJ_MANIFEST_AGENCY},,,2020,,\n")
    summary = ingest_year(db, landing, 2020)
    assert summary.counts["new"] == 3
    row = ledger(db).set_index("path").loc["2020/manifest.csv"]
    assert (row["status"], row["report_year"]) == ("manifest", 2020) and pd.isna(row["reason"])
    build = build_core_year(db, landing, 2020, workers=1)
    assert build.files == 2 and build.parse_status == {"parsed": 2} and build.quarantine_reasons == {}
    assert _agencies(db) == {"2020/tjj.txt": "莆田市统计局", "2020/sjj.txt": SJJ_MANIFEST_AGENCY}
    assert _manifest_findings(db) == [(
        "2020/sjj.txt", "manifest_disagrees",
        f"agency: the manifest says '{SJJ_MANIFEST_AGENCY}', the text says '莆田市审计局'; the manifest's value is kept")]
    assert _core(db, "SELECT count(*) FROM core.quarantine WHERE report_year = 2020") == [(0,)]
    with warehouse.session(db) as con:
        counts = ledger_counts(con, 2020)
    assert (counts.current, counts.parsed, counts.quarantined, counts.manifests, counts.manifests_invalid) == (
        2, 2, 0, 1, 0)
    assert counts.balanced
    assert ledger(db).set_index("path").loc["2020/manifest.csv", "status"] == "manifest"  # not overwritten
    # the records the workers hand to the core build keep where each file came from
    jobs = [ParseJob(landing / p, p, landing.resolve()) for p in ("2020/sjj.txt", "2020/tjj.txt")]
    sources = {job.path: record["source"] for job, record in parse_files(jobs, workers=1)}
    assert {p: (s["url"], s["manifest"]) for p, s in sources.items()} == {
        "2020/sjj.txt": (SJJ_URL, "manifest.csv"), "2020/tjj.txt": (TJJ_URL, "manifest.csv")}


def test_edited_manifest_changes_the_records_on_the_next_ingest(tmp_path: Path) -> None:
    db, landing = _manifest_landing(tmp_path, MANIFEST_HEADER + f"sjj.txt,{SJJ_URL},{SJJ_MANIFEST_AGENCY},,,2020,,\n")
    first = ingest_year(db, landing, 2020)
    build_core_year(db, landing, 2020, workers=1)
    assert _agencies(db)["2020/sjj.txt"] == SJJ_MANIFEST_AGENCY
    (landing / "2020" / "manifest.csv").write_text(
        MANIFEST_HEADER + f"sjj.txt,{SJJ_URL},莆田市审计局,,,2020,,\ntjj.txt,{TJJ_URL},莆田市统计局（市普查中心）,,,2020,,\n",
        encoding="utf-8")
    second = ingest_year(db, landing, 2020)
    assert (second.counts["changed"], second.counts["new"]) == (1, 1)  # the manifest's new version
    assert second.digest != first.digest  # the landing sensor starts a run for the year
    scanned = assign_years(scan_landing(landing), root=landing.resolve())
    assert digests_by_year(scanned)[2020] == second.digest  # the sensor and raw_reports agree
    build_core_year(db, landing, 2020, workers=1)
    assert _agencies(db) == {"2020/sjj.txt": "莆田市审计局", "2020/tjj.txt": "莆田市统计局（市普查中心）"}
    assert [(p, rule) for p, rule, _ in _manifest_findings(db)] == [("2020/tjj.txt", "manifest_disagrees")]
    versions = ledger(db).query("path == '2020/manifest.csv'")
    assert list(versions["version"]) == [1, 2] and list(versions["current"]) == [False, True]


def test_broken_manifest_is_in_the_ledger_and_on_every_record(tmp_path: Path) -> None:
    db, landing = _manifest_landing(tmp_path, MANIFEST_HEADER + f"sjj.txt,{SJJ_URL},别的局,,,20x0,,\n")
    ingest_year(db, landing, 2020)
    row = ledger(db).set_index("path").loc["2020/manifest.csv"]
    assert (row["status"], row["reason"]) == ("manifest", "manifest_invalid")
    assert row["note"] == "manifest.csv line 2: year '20x0' is not a report year"
    build_core_year(db, landing, 2020, workers=1)
    assert _agencies(db) == {"2020/tjj.txt": "莆田市统计局", "2020/sjj.txt": "莆田市审计局"}  # not applied
    assert _manifest_findings(db) == [  # once each: the worker annotates, nothing annotates again
        (path, "manifest_invalid", "manifest.csv line 2: year '20x0' is not a report year")
        for path in ("2020/sjj.txt", "2020/tjj.txt")]
    with warehouse.session(db) as con:
        counts = ledger_counts(con, 2020)
    assert (counts.current, counts.manifests, counts.manifests_invalid) == (2, 1, 1)
    # mended: the new version is applied, and the ledger says so
    (landing / "2020" / "manifest.csv").write_text(MANIFEST_HEADER + f"sjj.txt,{SJJ_URL},别的局,,,2020,,\n",
                                                   encoding="utf-8")
    ingest_year(db, landing, 2020)
    current = ledger(db).query("path == '2020/manifest.csv' and current").iloc[0]
    assert current["status"] == "manifest" and pd.isna(current["reason"]) and pd.isna(current["note"])


def test_manifest_symlinked_from_outside_the_landing_folder_is_not_read(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "manifest.csv").write_text(MANIFEST_HEADER + "tjj.txt,,别的局,,,2020,,\n", encoding="utf-8")
    db, landing = _manifest_landing(tmp_path, "")
    (landing / "2020" / "manifest.csv").unlink()
    (landing / "2020" / "manifest.csv").symlink_to(outside / "manifest.csv")
    ingest_year(db, landing, 2020)
    row = ledger(db).set_index("path").loc["2020/manifest.csv"]
    assert (row["status"], row["reason"], row["sha256"]) == ("manifest", "outside_landing", "")
    build_core_year(db, landing, 2020, workers=1)
    assert _agencies(db)["2020/tjj.txt"] == "莆田市统计局"
    assert [(p, rule) for p, rule, _ in _manifest_findings(db)] == [
        ("2020/sjj.txt", "manifest_invalid"), ("2020/tjj.txt", "manifest_invalid")]
    assert "outside the landing folder" in _manifest_findings(db)[0][2]


def test_manifest_outside_year_folders_gives_the_year(tmp_path: Path) -> None:
    db = tmp_path / "warehouse.duckdb"
    landing = lay_landing(tmp_path / "landing", {"inbox/seed.txt": "seeds/000_5c245e0f5975cf67.txt"})  # says 2020
    manifest = landing / "inbox" / "manifest.jsonl"
    manifest.write_text('{"file": "seed.txt", "year": 2019, "url": "http://www.jindong.gov.cn/1.html"}\n',
                        encoding="utf-8")
    summary = ingest_year(db, landing, 2019)
    rows = ledger(db).set_index("path")
    assert rows.loc["inbox/seed.txt", "report_year"] == 2019 and rows.loc["inbox/seed.txt", "status"] == "pending"
    assert rows.loc["inbox/manifest.jsonl", "status"] == "manifest"
    assert pd.isna(rows.loc["inbox/manifest.jsonl", "report_year"])  # not a report: no year, not quarantined
    assert summary.digest == digests_by_year(assign_years(scan_landing(landing), root=landing.resolve()))[2019]
    build_core_year(db, landing, 2019, workers=1)
    assert _core(db, "SELECT f.message FROM core.findings f JOIN core.reports r USING (report_id) "
                     "WHERE f.rule = 'manifest_disagrees'") == [
        ("report_year: the manifest says 2019, the text says 2020; the manifest's value is kept",)]
    # the manifest loses its year: the text's year holds again, not the year remembered for the bytes
    manifest.write_text('{"file": "seed.txt", "url": "http://www.jindong.gov.cn/1.html"}\n', encoding="utf-8")
    assert ingest_year(db, landing, 2019).counts["removed"] == 1
    ingest_year(db, landing, 2020)
    rows = ledger(db).query("current").set_index("path")
    assert rows.loc["inbox/seed.txt", "report_year"] == 2020
    with warehouse.session(db) as con:
        assert ledger_counts(con, None).manifests == 1 and ledger_counts(con, None).current == 0
    # and back: a run of the manifest's year takes the file over from the year it was current in
    manifest.write_text('{"file": "seed.txt", "year": 2019}\n', encoding="utf-8")
    ingest_year(db, landing, 2019)
    seed = ledger(db).query("path == 'inbox/seed.txt'")
    assert list(zip(seed["report_year"], seed["current"], seed["status"], strict=True)) == [(2019, True, "pending")]


def test_manifest_provenance_reaches_the_warehouse_and_the_folder_decides_the_year(tmp_path: Path) -> None:
    db, landing = _manifest_landing(tmp_path, MANIFEST_HEADER + (
        f"tjj.txt,{TJJ_URL},莆田市统计局,福建省莆田市,350300,2020,2024-05-01T08:00:00+08:00,\n"
        f"sjj.txt,{SJJ_URL},{SJJ_MANIFEST_AGENCY},,,2019,2024-05-02,\n"))  # sjj: its year folder is 2020
    ingest_year(db, landing, 2020)
    assert ledger(db).set_index("path").loc["2020/sjj.txt", "report_year"] == 2020  # filed by its folder
    build_core_year(db, landing, 2020, workers=1)
    reports = _core(db, "SELECT source_path, report_year, region, region_code, source_url, source_fetched_at "
                        "FROM core.reports WHERE report_year = 2020 ORDER BY source_path")
    assert reports == [("2020/sjj.txt", 2020, None, None, SJJ_URL, "2024-05-02"),
                       ("2020/tjj.txt", 2020, "福建省莆田市", "350300", TJJ_URL, "2024-05-01T08:00:00+08:00")]
    findings = _core(db, "SELECT f.message, f.expected, f.actual FROM core.findings f JOIN core.reports r "
                         "USING (report_id) WHERE f.rule = 'manifest_disagrees' ORDER BY f.finding_no")
    assert findings == [
        (f"agency: the manifest says '{SJJ_MANIFEST_AGENCY}', the text says '莆田市审计局'; the manifest's value is kept",
         f'"{SJJ_MANIFEST_AGENCY}"', '"莆田市审计局"'),
        ("report_year: the manifest says 2019, the year folder says 2020, as does the text; the year folder's value "
         "is kept", "2019", "2020")]
    notes = ledger(db).set_index("path")["note"]
    assert notes["2020/sjj.txt"] == "report_year from the manifest: 2019; printed: 2020; partition: 2020"
    assert pd.isna(notes["2020/tjj.txt"])


def test_ledger_command_shows_the_manifests(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from govreports.cli import main

    db, landing = _manifest_landing(tmp_path, MANIFEST_HEADER + f"sjj.txt,{SJJ_URL},别的局,,,20x0,,\n")  # broken
    outside = landing / "inbox"
    outside.mkdir()
    (outside / "manifest.jsonl").write_text('{"file": "gone.txt", "year": 2020}\n', encoding="utf-8")
    ingest_year(db, landing, 2020)
    assert main(["ledger", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    year, unassigned = out.split("report year (no report year)")
    assert "  current files                 2\n" in year
    assert "  manifests (not counted above) 1\n    not applied                 1\n" in year
    assert "  manifests (not counted above) 1\n  releases" in unassigned  # a manifest outside year folders


def test_a_warehouse_built_before_a_column_was_added_still_reads(tmp_path: Path) -> None:
    db = tmp_path / "warehouse.duckdb"
    with warehouse.session(db) as con:
        con.execute("CREATE SCHEMA core")
        con.execute("CREATE TABLE core.reports (report_year INTEGER, report_id VARCHAR, status VARCHAR, "
                    "source_sha256 VARCHAR, parser_version VARCHAR)")
        con.execute("INSERT INTO core.reports VALUES (2020, 'r1', 'parsed', 'abc', '1')")
        frame = warehouse.read_model_table(con, "reports", 2020)
    assert list(frame.columns) == build_tables()["reports"].column_names
    assert frame.loc[0, "report_id"] == "r1" and pd.isna(frame.loc[0, "source_url"])
