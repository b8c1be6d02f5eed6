"""The consumer side of releases: DuckDB warehouse load, typed round trip, ``fetch-release`` and the one-line
loading snippets of ``datapackage/README.md`` run as written."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import frictionless
import pandas as pd
import pytest

from datapackage.loader import (
    ReleaseCorrupted,
    fetch_release,
    load_frames,
    resolve_release,
    snippets,
    verify_release,
)
from datapackage.publish import publish_release
from datapackage.warehouse import WarehouseError, load_release, schema_name
from govreports.columns import TABLE_NAMES, build_tables
from tests.release_data import REPO, T0, T1, YEAR, fixture_frames, subprocess_env

BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    return fixture_frames()


@pytest.fixture(scope="module")
def releases(frames: dict[str, pd.DataFrame], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A releases folder holding 2020 1.0.0 and 1.1.0 (one cell changed)."""
    root = tmp_path_factory.mktemp("consume") / "releases"
    publish_release(frames, YEAR, root, now=T0)
    changed = {name: frame.copy() for name, frame in frames.items()}
    changed["appeals"].loc[0, "value"] = 77
    second = publish_release(changed, YEAR, root, now=T1)
    assert second.version == "1.1.0"
    return root


def test_warehouse_has_one_schema_per_release_with_the_row_counts(frames: dict[str, pd.DataFrame], releases: Path,
                                                                  tmp_path: Path) -> None:
    database = tmp_path / "warehouse.duckdb"
    first = load_release(resolve_release(releases, YEAR, "1.0.0"), database)
    second = load_release(resolve_release(releases, YEAR, "latest"), database)
    assert (first, second) == ("release_2020_v1_0_0", "release_2020_v1_1_0") == (
        schema_name(YEAR, "1.0.0"), schema_name(YEAR, "1.1.0"))
    assert load_release(resolve_release(releases, YEAR, "1.0.0"), database) == first  # loaded once: a no-op
    con = duckdb.connect(str(database), read_only=True)
    try:
        tables = {(s, t) for s, t in con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE schema_name LIKE 'release_%'").fetchall()}
        for name in TABLE_NAMES:
            for schema in (first, second):
                assert (schema, name) in tables
                count = con.execute(f'SELECT count(*) FROM {schema}."{name}"').fetchone()[0]
                assert count == len(frames[name]), (schema, name)
        assert con.execute(f"SELECT count(*) FROM {first}.applicants").fetchone()[0] == 7
        types = dict(con.execute("SELECT column_name, data_type FROM duckdb_columns() "
                                 "WHERE schema_name = ? AND table_name = 'reports'", [first]).fetchall())
        assert (types["report_year"], types["published_on"], types["report_id"]) == ("BIGINT", "DATE", "VARCHAR")
        constraints = con.execute("SELECT constraint_type FROM duckdb_constraints() WHERE schema_name = ? "
                                  "AND table_name = 'applications'", [first]).fetchall()
        assert ("PRIMARY KEY",) in constraints
        old, new = (con.execute(f"SELECT value FROM {s}.appeals ORDER BY report_id, proceeding, outcome LIMIT 1")
                    .fetchone()[0] for s in (first, second))
        assert new == 77 and old != 77
        # the README's SQL example runs
        total = con.execute(f"""SELECT * FROM {first}.applications WHERE "row" = 'new_received' """
                            "AND applicant = 'total'").fetchall()
        assert len(total) == len(frames["reports"])
        catalogue = con.execute("SELECT schema_name, version FROM main.govreports_releases ORDER BY 1").fetchall()
        assert catalogue == [(first, "1.0.0"), (second, "1.1.0")]
    finally:
        con.close()


def test_warehouse_refuses_a_tampered_release(releases: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(resolve_release(releases, YEAR), copy)
    target = copy / "data" / "appeals.parquet"
    os.chmod(target, 0o644)
    target.write_bytes(target.read_bytes()[:-10])
    database = tmp_path / "w.duckdb"
    with pytest.raises(WarehouseError, match=r"appeals\.parquet"):
        load_release(copy, database)
    con = duckdb.connect(str(database))
    try:
        assert con.execute("SELECT count(*) FROM duckdb_schemas() WHERE schema_name LIKE 'release_%'").fetchone()[0] == 0
    finally:
        con.close()


def test_load_frames_round_trips_the_published_tables(frames: dict[str, pd.DataFrame], releases: Path) -> None:
    loaded = load_frames(resolve_release(releases, YEAR, "1.0.0"))
    tables = build_tables()
    for name in TABLE_NAMES:
        expected = frames[name].sort_values(list(tables[name].sort_by)).reset_index(drop=True)
        pd.testing.assert_frame_equal(loaded[name], expected, check_dtype=True, obj=name)


def test_csv_and_parquet_hold_the_same_rows(releases: Path) -> None:
    release = resolve_release(releases, YEAR)
    rows = frictionless.Package(str(release / "datapackage.json")).get_resource("applications").read_rows()
    parquet = pd.read_parquet(release / "data" / "applications.parquet", dtype_backend="numpy_nullable")
    assert len(rows) == len(parquet)
    for row, (_, record) in zip(rows, parquet.iterrows(), strict=True):
        assert (row["report_id"], row["row"], row["applicant"]) == (record["report_id"], record["row"],
                                                                     record["applicant"])
        assert row["value"] == (None if pd.isna(record["value"]) else int(record["value"]))


def test_fetch_release_cli_copies_verifies_and_prints_snippets(releases: Path, tmp_path: Path) -> None:
    dest = tmp_path / "downloads"
    command = [str(BIN / "python"), "-m", "datapackage.cli", "fetch-release", "--releases", str(releases),
               "--year", str(YEAR), "--dest", str(dest)]
    result = subprocess.run(command, capture_output=True, text=True, env=subprocess_env(), timeout=300)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    copy = Path(lines[0])
    assert copy == dest / str(YEAR) / "1.1.0"
    assert verify_release(copy) == []
    assert (copy / "datapackage.json").read_bytes() == (resolve_release(releases, YEAR) / "datapackage.json").read_bytes()
    printed = dict(line.split(": ", 1) for line in lines[1:])
    assert set(printed) == {"frictionless", "frictionless (python)", "pandas", "duckdb"}
    # every printed line works as printed
    validate = subprocess.run([str(BIN / printed["frictionless"].split()[0]), *printed["frictionless"].split()[1:]],
                              capture_output=True, text=True, timeout=300)
    assert validate.returncode == 0, validate.stdout[-2000:]
    expected = len(pd.read_parquet(copy / "data" / "applications.parquet"))
    for label in ("frictionless (python)", "pandas", "duckdb"):
        frame = eval(printed[label], {"frictionless": frictionless, "pandas": pd, "duckdb": duckdb})
        assert isinstance(frame, pd.DataFrame) and len(frame) == expected, label
    # an explicit older version, and a corrupted source is refused
    old = subprocess.run([*command, "--version", "1.0.0"], capture_output=True, text=True, env=subprocess_env(),
                         timeout=300)
    assert old.returncode == 0 and old.stdout.splitlines()[0].endswith("/2020/1.0.0")
    missing = subprocess.run([*command, "--version", "9.9.9"], capture_output=True, text=True, env=subprocess_env(),
                             timeout=300)
    assert missing.returncode == 1 and "no release 2020 9.9.9" in missing.stderr


def test_fetch_release_refuses_a_corrupted_source(releases: Path, tmp_path: Path) -> None:
    source = tmp_path / "releases"
    shutil.copytree(releases, source, symlinks=True)
    release = resolve_release(source, YEAR)
    target = release / "data" / "reports.csv"
    os.chmod(release / "data", 0o755)
    os.chmod(target, 0o644)
    target.write_text(target.read_text(encoding="utf-8").replace("parsed", "partial", 1), encoding="utf-8")
    with pytest.raises(ReleaseCorrupted, match=r"reports\.csv: sha256"):
        fetch_release(source, YEAR, tmp_path / "dest")
    assert not (tmp_path / "dest" / str(YEAR) / release.name).exists()


def _readme_blocks(language: str) -> list[str]:
    text = (REPO / "datapackage" / "README.md").read_text(encoding="utf-8")
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)


def test_readme_one_liners_load_the_release(releases: Path, frames: dict[str, pd.DataFrame]) -> None:
    cwd = releases.parent
    validate = next(b for b in _readme_blocks("sh") if "frictionless validate releases/" in b).strip()
    assert "\n" not in validate
    result = subprocess.run([str(BIN / "frictionless"), *validate.split()[1:]], cwd=cwd, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:]
    loaders = next(b for b in _readme_blocks("python") if "read_parquet" in b)
    one_liners = [line for line in loaders.splitlines() if "=" in line]
    assert len(one_liners) == 3  # frictionless, pandas, duckdb: one line each
    script = loaders + "\nimport json\nprint(json.dumps([len(rows), len(df), len(rel.df()), str(df['value'].dtype)]))\n"
    run = subprocess.run([str(BIN / "python"), "-c", script], cwd=cwd, capture_output=True, text=True, timeout=300,
                         env=subprocess_env())
    assert run.returncode == 0, run.stderr
    counts = json.loads(run.stdout.strip().splitlines()[-1])
    assert counts == [len(frames["applications"])] * 3 + ["Int64"]


def test_snippets_name_the_release_files(releases: Path) -> None:
    release = resolve_release(releases, YEAR)
    lines = snippets(release)
    assert str(release.resolve() / "datapackage.json") in lines["frictionless"]
    assert str(release.resolve() / "data" / "applications.parquet") in lines["pandas"]
