"""Faults mid-run, with real ``govreports run`` processes over the bad-input corpus plus good reports:

* ``kill -9`` while the partition's files are being parsed, then a re-run: the warehouse (core, out, ledger,
  the loaded release) and the release folder equal those of an uninterrupted run on a fresh data dir, with no
  duplicate rows; the killed run's parse workers die with it, and the re-run marks the orphaned Dagster run
  failed (it would otherwise count as in progress forever);
* two runs of the same partition at once: both succeed, and warehouse and release equal the uninterrupted run's;
* a read-only releases folder (a read-only bind mount in a private mount namespace, since root ignores
  permissions): the run fails cleanly and the previous release is untouched — opt-in with
  ``GOVREPORTS_TEST_READ_ONLY_RUN=1`` (one more full run);
* no run leaves a pickle anywhere in the data dir (assets hand nothing to an IO manager).

Three full runs and a killed one (four with the read-only run); they overlap in time (one module fixture) to
keep the module under a minute on two cores.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import psutil
import pytest

from datapackage.loader import verify_release
from govreports.columns import build_tables
from tests.bad_corpus import YEAR, expected_cases, lay_bad_landing
from tests.gold import CORPUS

pytestmark = pytest.mark.slow

READ_ONLY_RUN_ENV = "GOVREPORTS_TEST_READ_ONLY_RUN"  # =1: also the end-to-end read-only publish (one more run)
LIMIT_SECONDS = "3"  # per file; the slow PDF of the corpus needs far longer, so a run spends 3 s parsing it
VOLATILE = {  # columns that record when or where, not what
    ("ledger", "files"): {"first_seen", "last_seen", "mtime_ns", "removed_at"},
    ("ledger", "release_reports"): {"published_at"},
    ("main", "govreports_releases"): {"created", "loaded_from"},
}


def run_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "GOVREPORTS_DATA_DIR")}
    env.update(GOVREPORTS_WORKERS="2", GOVREPORTS_MAX_SECONDS_PER_FILE=LIMIT_SECONDS)
    return env


def govreports_run(root: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "govreports", "run", "--data-dir", str(root), "--years", str(YEAR), *extra]


@dataclass
class Proc:
    """A running ``govreports run`` whose output is collected line by line."""

    popen: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)

    @classmethod
    def start(cls, argv: list[str]) -> Proc:
        popen = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=run_env())
        proc = cls(popen)
        threading.Thread(target=proc._collect, daemon=True).start()
        return proc

    def _collect(self) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            self.lines.append(line)

    def wait(self, timeout: float = 600) -> int:
        code = self.popen.wait(timeout)
        time.sleep(0.2)  # let the reader thread take the last lines
        return code

    @property
    def output(self) -> str:
        return "".join(self.lines)


def warehouse_state(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table of the warehouse as sorted rows (volatile columns left out)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        state = {}
        for schema, name in con.execute("SELECT table_schema, table_name FROM information_schema.tables "
                                        "ORDER BY 1, 2").fetchall():
            columns = [c for (c,) in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ? "
                "ORDER BY ordinal_position", [schema, name]).fetchall() if c not in VOLATILE.get((schema, name), ())]
            rows = con.execute(f'SELECT {", ".join(f"{chr(34)}{c}{chr(34)}" for c in columns)} '
                               f'FROM "{schema}"."{name}"').fetchall()
            state[f"{schema}.{name}"] = sorted(rows, key=repr)
        return state
    finally:
        con.close()


def release_state(releases: Path) -> dict[str, Any]:
    """Versions, the latest pointer and the bytes of every data and code file of every version."""
    folder = releases / str(YEAR)
    state: dict[str, Any] = {"entries": sorted(p.name for p in folder.iterdir() if p.name != ".publish.lock")}
    latest = json.loads((folder / "latest.json").read_text(encoding="utf-8"))
    state["latest"] = (latest["version"], latest["fingerprint"], os.readlink(folder / "latest"))
    for version in (p for p in folder.iterdir() if re.fullmatch(r"\d+\.\d+\.\d+", p.name)):
        assert verify_release(version) == [], version
        for path in sorted([*version.glob("data/*"), *version.glob("codes/*")]):
            state[str(path.relative_to(folder))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return state


def duplicate_keys(db: Path) -> dict[str, int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        out = {}
        for name, table in build_tables().items():
            keys = ", ".join(f'"{k}"' for k in table.primary_key)
            total, distinct = con.execute(f"SELECT count(*), count(DISTINCT ({keys})) FROM core.{name}").fetchone()
            out[name] = total - distinct
        return out
    finally:
        con.close()


def workers_of(pid: int) -> list[psutil.Process]:
    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    found = []
    for child in children:
        try:
            if "govreports.batch" in " ".join(child.cmdline()):
                found.append(child)
        except psutil.Error:
            pass
    return found


@dataclass
class Scenario:
    fresh: Path  # an uninterrupted run on a fresh data dir
    fresh_code: int
    fresh_output: str
    fresh_warehouse: dict[str, list[tuple[Any, ...]]]
    fresh_release: dict[str, Any]
    killed: Path  # a run killed mid-parse, then two re-runs at once
    after_kill: dict[str, Any]
    rerun_codes: tuple[int, int]
    rerun_output: str
    read_only: dict[str, Any] | None


def _unshare_ok() -> bool:
    if os.geteuid() != 0:
        return False
    if shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "--mount", "--propagation", "private", "true"], capture_output=True).returncode == 0


def _kill_mid_parse(root: Path) -> dict[str, Any]:
    """Start a run, wait until it parses the year's files (the raw step has logged and parse workers exist),
    then ``kill -9`` it.  Returns what was seen."""
    proc = Proc.start(govreports_run(root, "--verbose"))
    deadline = time.monotonic() + 300
    pattern = re.compile(rf"raw_reports - {YEAR}: \d+ files")
    while not any(pattern.search(line) for line in proc.lines):
        assert proc.popen.poll() is None, "the run ended before parsing:\n" + proc.output
        assert time.monotonic() < deadline, "no raw_reports line in 300 s:\n" + proc.output
        time.sleep(0.05)
    while not workers_of(proc.popen.pid):
        assert proc.popen.poll() is None, "the run ended before parsing:\n" + proc.output
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(1.5)  # the partition is still being parsed: the slow PDF alone holds it for 3 s
    workers = workers_of(proc.popen.pid)
    proc.popen.kill()  # SIGKILL: no cleanup of any kind
    proc.wait(60)
    _, alive = psutil.wait_procs(workers, timeout=10)
    con = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
    try:
        tables = {f"{s}.{t}" for s, t in con.execute("SELECT table_schema, table_name FROM information_schema.tables")
                  .fetchall()}
        reports = (con.execute("SELECT count(*) FROM core.reports WHERE report_year = ?", [YEAR]).fetchone()[0]
                   if "core.reports" in tables else 0)
        statuses = dict(con.execute("SELECT status, count(*) FROM ledger.files WHERE current GROUP BY 1").fetchall())
    finally:
        con.close()
    return {"code": proc.popen.returncode, "workers": len(workers), "workers_alive": len(alive),
            "core_reports": reports, "ledger_statuses": statuses, "output": proc.output,
            "releases": sorted(p.name for p in (root / "releases").glob(f"{YEAR}/*"))}


def _read_only_publish(root: Path) -> dict[str, Any]:
    """A new report arrives, and the run that would publish it finds the releases folder read-only."""
    releases = root / "releases"
    before = {str(p.relative_to(releases)): (p.lstat().st_size, p.lstat().st_mtime_ns)
              for p in sorted(releases.rglob("*"))}
    shutil.copyfile(CORPUS / "dev" / "putian_tjj_2020.txt", root / "landing" / str(YEAR) / "zz_late_report.txt")
    command = " ".join(f"'{a}'" for a in govreports_run(root))
    script = (f"mount --bind '{releases}' '{releases}' && mount -o remount,bind,ro '{releases}' && "
              f"exec {command}")
    result = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
                            capture_output=True, text=True, timeout=600, env=run_env())
    after = {str(p.relative_to(releases)): (p.lstat().st_size, p.lstat().st_mtime_ns)
             for p in sorted(releases.rglob("*"))}
    latest = json.loads((releases / str(YEAR) / "latest.json").read_text(encoding="utf-8"))["version"]
    return {"code": result.returncode, "output": result.stdout + result.stderr, "unchanged": before == after,
            "latest": latest}


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    """Two data dirs with the same landing folder.  ``fresh``: one uninterrupted run, then (opt-in, root with
    mount namespaces only) a run with a new report and a read-only releases folder.  ``killed``: a run killed mid-parse,
    then two re-runs started at the same moment.  The two dirs' runs overlap in time."""
    base = tmp_path_factory.mktemp("faults")
    cache = base / "cache"
    cache.mkdir()
    fresh_root, killed_root = base / "fresh", base / "killed"
    for root in (fresh_root, killed_root):
        lay_bad_landing(root / "landing", cache=cache)
    fresh = Proc.start(govreports_run(fresh_root))
    started = [fresh]
    try:
        after_kill = _kill_mid_parse(killed_root)
        reruns = (Proc.start(govreports_run(killed_root)), Proc.start(govreports_run(killed_root)))
        started += reruns
        fresh_code = fresh.wait()
        fresh_warehouse = warehouse_state(fresh_root / "warehouse.duckdb")
        fresh_release = release_state(fresh_root / "releases") if fresh_code == 0 else {}
        read_only = (_read_only_publish(fresh_root)
                     if fresh_code == 0 and os.environ.get(READ_ONLY_RUN_ENV) == "1" and _unshare_ok() else None)
        rerun_codes = (reruns[0].wait(), reruns[1].wait())
    finally:
        for proc in started:
            if proc.popen.poll() is None:
                proc.popen.kill()
                proc.popen.wait()
    return Scenario(fresh_root, fresh_code, fresh.output, fresh_warehouse, fresh_release, killed_root, after_kill,
                    rerun_codes, reruns[0].output + reruns[1].output, read_only)


def test_the_uninterrupted_run_goes_through_every_bad_input(scenario: Scenario) -> None:
    assert scenario.fresh_code == 0, scenario.fresh_output
    assert f"{YEAR}: success" in scenario.fresh_output
    assert scenario.fresh_release["latest"][0] == "1.0.0"
    assert duplicate_keys(scenario.fresh / "warehouse.duckdb") == dict.fromkeys(build_tables(), 0)
    result = subprocess.run([sys.executable, "-m", "govreports", "ledger", "--data-dir", str(scenario.fresh),
                             "--year", str(YEAR), "--json"], capture_output=True, text=True, timeout=120)
    (counts,) = json.loads(result.stdout)
    assert result.returncode == 0 and counts["balanced"] and counts["releases"] == ["1.0.0"]
    assert counts["quarantined_by_reason"]["timeout"] == 1  # the slow PDF, under the run's time limit
    # file names with tabs, newlines, escape sequences, quotes and backslashes survive the CSV and Parquet files
    # of the release and its loading into DuckDB, byte for byte
    parsed = {c.path for c in expected_cases() if c.status in ("parsed", "partial")}
    release = scenario.fresh / "releases" / str(YEAR) / "1.0.0"
    with open(release / "data" / "reports.csv", encoding="utf-8", newline="") as handle:
        assert {row["source_path"] for row in csv.DictReader(handle)} == parsed
    con = duckdb.connect(str(scenario.fresh / "warehouse.duckdb"), read_only=True)
    try:
        loaded = {p for (p,) in con.execute(f"SELECT source_path FROM release_{YEAR}_v1_0_0.reports").fetchall()}
    finally:
        con.close()
    assert loaded == parsed


def test_kill_9_mid_parse_leaves_the_previous_state_and_no_worker(scenario: Scenario) -> None:
    seen = scenario.after_kill
    assert seen["code"] == -9
    # the kill landed in the middle of the partition: files ingested, nothing parsed was written, no release
    assert seen["core_reports"] == 0 and seen["ledger_statuses"].get("pending", 0) > 0, seen
    assert seen["releases"] == []
    assert seen["workers"] >= 1 and seen["workers_alive"] == 0  # the parse workers died with the run


def test_two_reruns_at_once_after_the_kill_equal_an_uninterrupted_run(scenario: Scenario) -> None:
    """The re-run after ``kill -9`` is two ``govreports run`` of the same partition started together: the warehouse
    lock and the publish lock serialise them, and the result is the uninterrupted run's — one release version,
    no temporary folder, no duplicate row."""
    assert scenario.rerun_codes == (0, 0), scenario.rerun_output
    assert scenario.rerun_output.count(f"{YEAR}: success") == 2
    assert warehouse_state(scenario.killed / "warehouse.duckdb") == scenario.fresh_warehouse
    assert release_state(scenario.killed / "releases") == scenario.fresh_release
    assert duplicate_keys(scenario.killed / "warehouse.duckdb") == dict.fromkeys(build_tables(), 0)


def test_the_orphaned_dagster_run_is_marked_failed(scenario: Scenario) -> None:
    from dagster import DagsterInstance, DagsterRunStatus

    assert "marked failed" in scenario.rerun_output
    with DagsterInstance.from_config(str(scenario.killed / "dagster_home")) as instance:
        statuses = sorted(run.status.value for run in instance.get_runs())
    assert statuses == sorted([DagsterRunStatus.FAILURE.value, *[DagsterRunStatus.SUCCESS.value] * 2])


def test_read_only_releases_folder_fails_the_run_and_keeps_the_release(scenario: Scenario) -> None:
    if scenario.read_only is None:
        pytest.skip(f"opt-in (${READ_ONLY_RUN_ENV}=1: one more full run, ~20 s; tests/test_release.py covers a "
                    "read-only folder and a full disk at the publish level on every run), and needs root with mount "
                    "namespaces (unshare) to make a folder read-only for root")
    outcome = scenario.read_only
    assert outcome["code"] == 1, outcome["output"]
    assert f"failed years: {YEAR}" in outcome["output"] and "Read-only file system" in outcome["output"]
    assert outcome["unchanged"] and outcome["latest"] == "1.0.0"


def test_no_run_leaves_a_pickle(scenario: Scenario) -> None:
    for root in (scenario.fresh, scenario.killed):
        storage = root / "dagster_home" / "storage"
        for path in storage.rglob("*"):  # where an IO manager would write: only compute logs are there
            assert path.is_dir() or path.parent.name == "compute_logs", path
        for path in root.rglob("*"):
            if path.is_file() and not path.is_symlink() and "landing" not in path.relative_to(root).parts \
                    and not path.name.startswith("warehouse.duckdb"):
                with open(path, "rb") as handle:
                    head = handle.read(2)
                assert not (len(head) == 2 and head[0] == 0x80 and 2 <= head[1] <= 5), f"pickle header: {path}"
