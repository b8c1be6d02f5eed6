"""The bad-input corpus (tests/fixtures/bad/EXPECTED.tsv) laid into one landing folder with good reports, then
ingested and built by the real pipeline functions: every file gets its expected status and reason, the run goes
on past every one of them, and the ledger accounts for every file (``govreports ledger --json``: files in =
parsed + partial + quarantined).  Also: the 200 MB file is refused by size quickly and without being read whole,
and the landing sensor keeps ticking over the same folder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import tracemalloc
import warnings
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from govreports import warehouse
from govreports.batch import parse_file
from govreports.build import build_core_year
from govreports.columns import build_tables
from govreports.ingest import UNREAD, ingest_year, ledger_counts, safe_name, scan_landing
from govreports.parser import DEFAULT_MAX_BYTES, parse_bytes
from tests.bad_corpus import (
    BAD,
    BIG_BYTES,
    FIXTURES,
    SECRET_MARKER,
    YEAR,
    BadLanding,
    expected_cases,
    lay_bad_landing,
    secret_report,
)

SLOW_LIMIT = 2.0  # seconds per file in these runs: the slow PDF needs far more


def tree(folder: Path) -> dict[str, tuple[int, int]]:
    """(size, mtime) of everything below ``folder`` (symlinks not followed)."""
    out = {}
    for path in sorted(folder.rglob("*")):
        info = path.lstat()
        out[str(path.relative_to(folder))] = (info.st_size, info.st_mtime_ns)
    return out


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BadLanding, dict[str, tuple[int, int]], float]:
    """The corpus in ``<root>/landing``, ingested and built into ``<root>/warehouse.duckdb`` (the data-dir layout,
    so that ``govreports ledger --data-dir <root>`` reads it)."""
    root = tmp_path_factory.mktemp("bad")
    bad = lay_bad_landing(root / "landing")
    outside_before = tree(bad.outside)
    started = time.monotonic()
    ingest_year(root / "warehouse.duckdb", bad.landing, YEAR)
    build_core_year(root / "warehouse.duckdb", bad.landing, YEAR, workers=2, max_seconds=SLOW_LIMIT)
    return root, bad, outside_before, time.monotonic() - started


def ledger_rows(db: Path) -> pd.DataFrame:
    with warehouse.session(db) as con:
        return con.execute("SELECT * FROM ledger.files WHERE current ORDER BY path").df()


def test_committed_fixtures_are_small_listed_and_read_as_expected() -> None:
    cases = expected_cases()
    committed = {p.name for p in BAD.iterdir() if p.name != "EXPECTED.tsv"}
    used = {c.made.split(" ", 1)[1] for c in cases if c.made.startswith("fixture ")}
    assert committed == used, "every committed file is a case of EXPECTED.tsv and every fixture case exists"
    assert sum(p.stat().st_size for p in BAD.iterdir()) < 200 * 1024
    assert len({c.case for c in cases}) == len(cases) and len({c.path for c in cases}) == len(cases)
    for case in cases:
        if case.made.startswith("fixture "):  # what the parser alone says of each committed file
            record = parse_bytes((BAD / case.made.split(" ", 1)[1]).read_bytes(), case.path)
            assert (record["status"], record["reason"]) == (case.status, case.reason), case.case
            if record["status"] == "quarantined":
                assert record["message"], case.case


def test_every_file_gets_its_expected_status_and_reason(built) -> None:
    root, bad, _, seconds = built
    rows = ledger_rows(root / "warehouse.duckdb").set_index("path")
    expected = {c.path: c for c in bad.cases}
    assert sorted(rows.index) == sorted(expected), "the ledger holds exactly the files of the landing folder"
    for path, case in expected.items():
        row = rows.loc[path]
        reason = None if pd.isna(row["reason"]) else row["reason"]
        assert (row["status"], reason) == (case.status, case.reason), f"{case.case}: {row.to_dict()}"
        if case.note:
            assert case.note in (row["note"] or ""), f"{case.case}: note {row['note']!r}"
    assert rows.loc["2020/sub/copy_of_putian_sjj_2020.txt", "duplicate_of"] == "2020/putian_sjj_2020.txt"
    # files that were never read have no hash; every file that was read has its sha256
    unread = {"hidden_file", "outside_landing", "not_a_regular_file"}
    for path, row in rows.iterrows():
        if row["reason"] in unread or str(row["reason"]).startswith("unreadable"):
            assert row["sha256"] == UNREAD, path
        else:
            assert len(row["sha256"]) == 64, path
    assert seconds < 90, f"ingest + build took {seconds:.0f} s"


def test_ledger_accounts_for_every_file(built) -> None:
    root, bad, _, _ = built
    with warehouse.session(root / "warehouse.duckdb") as con:
        year, unassigned = ledger_counts(con, YEAR), ledger_counts(con, None)
    in_year = [c for c in bad.cases if c.path.startswith(f"{YEAR}/")]
    assert year.current == len(in_year) and unassigned.current == len(bad.cases) - len(in_year)
    for counts in (year, unassigned):
        assert counts.balanced and counts.pending == 0
        assert counts.current == counts.parsed + counts.partial + counts.quarantined
    assert year.quarantined_by_reason == dict(Counter(c.reason for c in in_year if c.status == "quarantined"))
    # the same through the CLI, as an operator reads it
    result = subprocess.run([sys.executable, "-m", "govreports", "ledger", "--data-dir", str(root), "--json"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    entries = {entry["year"]: entry for entry in json.loads(result.stdout)}
    assert set(entries) == {YEAR, None}
    for entry in entries.values():
        assert entry["balanced"] and entry["current"] == entry["parsed"] + entry["partial"] + entry["quarantined"]
    statuses = Counter(c.status for c in in_year)
    assert (entries[YEAR]["parsed"], entries[YEAR]["partial"], entries[YEAR]["quarantined"]) == (
        statuses["parsed"], statuses["partial"], statuses["quarantined"])
    year_only = subprocess.run([sys.executable, "-m", "govreports", "ledger", "--data-dir", str(root), "--year",
                                str(YEAR)], capture_output=True, text=True, timeout=120)
    assert year_only.returncode == 0 and "[ok]" in year_only.stdout and "MISMATCH" not in year_only.stdout


def test_core_tables_hold_the_good_reports_and_nothing_from_outside(built) -> None:
    root, bad, outside_before, _ = built
    parsed = {c.path for c in bad.cases if c.status in ("parsed", "partial")}
    with warehouse.session(root / "warehouse.duckdb") as con:
        reports = warehouse.read_model_table(con, "reports", YEAR)
        quarantine = warehouse.read_model_table(con, "quarantine", YEAR)
        for name, table in build_tables().items():  # no duplicate rows
            keys = ", ".join(f'"{k}"' for k in table.primary_key)
            total, distinct = con.execute(f"SELECT count(*), count(DISTINCT ({keys})) FROM core.{name}").fetchone()
            assert total == distinct, name
        hits = 0  # the report behind the outside symlink never reached any table
        for schema, name, column in con.execute(
                "SELECT table_schema, table_name, column_name FROM information_schema.columns "
                "WHERE data_type = 'VARCHAR' AND table_schema IN ('core', 'ledger')").fetchall():
            hits += con.execute(f'SELECT count(*) FROM "{schema}"."{name}" WHERE contains("{column}", ?)',
                                [SECRET_MARKER]).fetchone()[0]
    assert hits == 0
    assert set(reports["source_path"]) == parsed  # names with tabs, newlines, escapes and backslashes, exactly
    assert set(quarantine["source_path"]) == {c.path for c in bad.cases if c.status == "quarantined"
                                             and c.path.startswith(f"{YEAR}/")}
    assert quarantine["source_sha256"].str.len().gt(0).all()
    assert tree(bad.outside) == outside_before  # nothing outside the landing folder was written or touched
    assert not any((root / "landing").parent.glob("evil*")) and not Path("/tmp/evil.txt").exists()


def landing_entries(landing: Path) -> set[str]:
    """What is in the landing folder, counted independently of the scan: every file and symlink, hidden files
    included, nothing inside hidden folders."""
    found = set()
    for directory, dirnames, filenames in os.walk(landing):
        base = Path(directory)
        links = [d for d in dirnames if (base / d).is_symlink()]
        dirnames[:] = [d for d in dirnames if not d.startswith(".") and d not in links]
        found |= {(base / name).relative_to(landing).as_posix() for name in filenames + links}
    return {safe_name(path)[0] for path in found}


def test_files_in_equal_parsed_partial_quarantined_after_every_change(tmp_path: Path) -> None:
    """Rounds of what crawlers do to a landing folder — files removed, rewritten, copied, swapped for a FIFO or a
    symlink, a hidden folder added — each followed by a run: after every run the ledger's current files are
    exactly the folder's files, and parsed + partial + quarantined = files in."""
    landing, db = tmp_path / "landing", tmp_path / "w.duckdb"
    year = landing / str(YEAR)
    year.mkdir(parents=True)
    for name in FIXTURES:
        shutil.copyfile(BAD / name, year / name)
    shutil.copyfile(BAD.parent / "corpus" / "dev" / "putian_sjj_2020.txt", year / "good.txt")
    outside = tmp_path / "outside.txt"
    outside.write_text(secret_report(), encoding="utf-8")

    def remove(name: str) -> None:
        (year / name).unlink()

    rounds = [
        lambda: None,
        lambda: (remove("empty.txt"), remove("junk.bin"), (year / "good.txt").write_bytes(
            (year / "good.txt").read_bytes().replace("莆田市".encode(), "莆田".encode(), 1))),
        lambda: (shutil.copyfile(year / "good.txt", year / "good copy.txt"), remove("corrupt.docx"),
                 os.mkfifo(year / "corrupt.docx")),
        lambda: (remove("not_a_report.html"), (year / "not_a_report.html").symlink_to(outside),
                 (year / ".git").mkdir(), (year / ".git" / "HEAD").write_text("ref"), remove("good.txt"),
                 shutil.copyfile(BAD / "empty.txt", year / "empty.txt"), remove("corrupt.docx"),
                 (year / "corrupt.docx").symlink_to(outside)),  # the FIFO becomes a symlink out: still unread
    ]
    for number, change in enumerate(rounds):
        change()
        ingest_year(db, landing, YEAR)
        build_core_year(db, landing, YEAR, workers=1, max_seconds=SLOW_LIMIT)
        with warehouse.session(db) as con:
            counts = ledger_counts(con, YEAR)
            current = {r[0] for r in con.execute("SELECT path FROM ledger.files WHERE current").fetchall()}
            history = con.execute("SELECT count(*) FROM ledger.files").fetchone()[0]
        assert current == landing_entries(landing), f"round {number}"
        assert counts.balanced and counts.pending == 0, f"round {number}: {counts}"
        assert counts.current == counts.parsed + counts.partial + counts.quarantined == len(current)
        assert counts.files_seen == history >= counts.current  # older versions are kept, not counted as in
    assert counts.quarantined_by_reason["outside_landing"] == 2 and "not_a_regular_file" not in counts.quarantined_by_reason


def test_200_mb_file_is_refused_by_size_quickly_and_never_read_whole(built) -> None:
    _, bad, _, _ = built
    big = bad.landing / "2020" / "big.txt"
    assert big.stat().st_size == BIG_BYTES > DEFAULT_MAX_BYTES
    tracemalloc.start()
    try:
        started = time.monotonic()
        scanned = [f for f in scan_landing(bad.landing, years={YEAR}) if f.path == "2020/big.txt"]
        record = parse_file(big, "2020/big.txt", DEFAULT_MAX_BYTES, bad.landing.resolve())
        seconds = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (record["status"], record["reason"]) == ("quarantined", "too_large")
    assert len(scanned) == 1 and len(scanned[0].sha256) == 64  # hashed, streamed
    assert peak < 16 * 1024 * 1024, f"peak {peak / 2**20:.0f} MiB of Python memory"
    assert seconds < 30


def test_size_limit_is_the_environments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    landing = tmp_path / "landing"
    (landing / "2020").mkdir(parents=True)
    (landing / "2020" / "report.txt").write_bytes((BAD / "missing_table.txt").read_bytes())
    monkeypatch.setenv("GOVREPORTS_MAX_BYTES", "1000")
    db = tmp_path / "w.duckdb"
    ingest_year(db, landing, YEAR)
    build_core_year(db, landing, YEAR, workers=1)
    assert ledger_rows(db)[["status", "reason"]].values.tolist() == [["quarantined", "too_large"]]


def test_landing_sensor_ticks_over_the_bad_corpus(built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dagster import SensorResult, build_sensor_context, instance_for_test

    from orchestration.resources import ParsingResource, PathsResource
    from orchestration.sensors import landing_sensor

    root, _, _, _ = built
    (tmp_path / "home").mkdir()
    monkeypatch.setenv("GOVREPORTS_MAX_SECONDS_PER_FILE", "30")
    with instance_for_test(temp_dir=str(tmp_path / "home")) as instance:
        context = build_sensor_context(instance=instance, cursor=None, resources={
            "paths": PathsResource(data_dir=str(root)), "parsing": ParsingResource(workers=1)})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = landing_sensor(context)
    assert isinstance(result, SensorResult)
    assert [r.partition_key for r in result.run_requests] == [str(YEAR)]
    assert "2020/" in result.run_requests[0].tags["govreports/changed_files"]
    cursor = json.loads(result.cursor)
    assert "2020/tab\there\nnewline\r.txt" in cursor["files"] and "2020/up" in cursor["files"]
