"""Pipeline commands of the ``govreports`` CLI: ``run``, ``ui``, ``init-sample``, ``ledger`` (and ``fetch-release``
from ``datapackage.cli`` when present).

The only module of the ``govreports`` package that reaches Dagster — lazily, inside ``run``, so that
``govreports parse`` stays fast and Dagster-free.  ``register(commands)`` is called by ``govreports.cli``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import sys
from pathlib import Path

from govreports.paths import DATA_DIR_ENV, DataPaths

SAMPLE_CORPUS = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "corpus"
_SAMPLE_SKIP = {"SOURCES.tsv"}


def _data_dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", default=None,
                        help=f"data directory (default: ${DATA_DIR_ENV}, else ./data)")


# --- run ------------------------------------------------------------------------------------------------------

def _run_command(args: argparse.Namespace) -> int:
    from orchestration.runner import parse_years, run_years

    paths = DataPaths.resolve(args.data_dir)
    try:
        years = parse_years(args.years) if args.years else None
    except ValueError as error:
        print(f"govreports run: {error}", file=sys.stderr)
        return 2
    print(f"data dir {paths.root}; Dagster instance {paths.dagster_home}", flush=True)
    runs = run_years(paths, years, echo=lambda line: print(line, flush=True),
                     log_level="INFO" if args.verbose else "ERROR")
    if not runs:
        print("nothing to run: the landing folder has no files (try `govreports init-sample`)")
        return 0
    failed = [r.year for r in runs if r.status not in ("success", "skipped")]
    print(f"releases: {paths.releases}")
    if failed:
        print(f"failed years: {', '.join(map(str, failed))} (see the runs in the Dagster UI)", file=sys.stderr)
        return 1
    return 0


# --- ui -------------------------------------------------------------------------------------------------------

WORKSPACE = Path(__file__).resolve().parents[1] / "workspace.yaml"


def ui_command_line(paths: DataPaths, host: str, port: int) -> tuple[list[str], dict[str, str]]:
    """``dagster dev`` against workspace.yaml, with the data dir and its DAGSTER_HOME in the environment."""
    env = {**os.environ, DATA_DIR_ENV: str(paths.root), "DAGSTER_HOME": str(paths.dagster_home)}
    return [sys.executable, "-m", "dagster", "dev", "-w", str(WORKSPACE), "-h", host, "-p", str(port)], env


def _ui_command(args: argparse.Namespace) -> int:
    from orchestration.instance import ensure_dagster_home

    paths = DataPaths.resolve(args.data_dir).ensure()
    ensure_dagster_home(paths)
    argv, env = ui_command_line(paths, args.host, args.port)
    print(f"Dagster UI on http://{args.host}:{args.port} (data dir {paths.root})", flush=True)
    os.execvpe(argv[0], argv, env)
    return 0  # not reached


# --- init-sample ----------------------------------------------------------------------------------------------

def _years_from_sources(folder: Path) -> dict[str, int]:
    sources = folder / "SOURCES.tsv"
    if not sources.exists():
        return {}
    with open(sources, encoding="utf-8", newline="") as handle:
        return {row["file"]: int(row["report_year"]) for row in csv.DictReader(handle, delimiter="\t")
                if row.get("file") and (row.get("report_year") or "").isdigit()}


def lay_sample(landing: Path, source: Path = SAMPLE_CORPUS) -> list[Path]:
    """Copy the sample corpus into ``landing/<year>/`` (SOURCES.tsv years, else the year printed in the report).
    Idempotent: a file already there with the same bytes is left alone."""
    from govreports.ingest import peek_report_year

    laid = []
    for folder in sorted(p for p in source.iterdir() if p.is_dir()):
        years = _years_from_sources(folder)
        for path in sorted(folder.iterdir()):
            if not path.is_file() or path.name in _SAMPLE_SKIP or path.name.upper().startswith("README"):
                continue
            year = years.get(path.name) or peek_report_year(path)[0]
            target_dir = landing / (str(year) if year else "unsorted")
            target = target_dir / path.name
            if target.exists() and target.read_bytes() != path.read_bytes():
                target = target_dir / f"{folder.name}__{path.name}"
            if not (target.exists() and target.read_bytes() == path.read_bytes()):
                target_dir.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)
            laid.append(target)
    return laid


def _init_sample_command(args: argparse.Namespace) -> int:
    from orchestration.instance import ensure_dagster_home

    paths = DataPaths.resolve(args.data_dir).ensure()
    ensure_dagster_home(paths)
    laid = lay_sample(paths.landing, Path(args.source))
    years = sorted({p.parent.name for p in laid})
    print(f"{len(laid)} sample reports in {paths.landing} (years: {', '.join(years)})")
    print(f"next: govreports run --data-dir {paths.root} --years {years[0]}-{years[-1]}" if years else "")
    return 0


# --- ledger ---------------------------------------------------------------------------------------------------

def _ledger_lines(counts) -> list[str]:
    label = counts.year if counts.year is not None else "(no report year)"
    lines = [f"report year {label}",
             f"  files seen (all versions)     {counts.files_seen}",
             f"  current files                 {counts.current}",
             f"    parsed                      {counts.parsed}",
             f"    partial                     {counts.partial}",
             f"    quarantined                 {counts.quarantined}"]
    lines += [f"      {reason:<25} {n}" for reason, n in counts.quarantined_by_reason.items()]
    if counts.pending:
        lines.append(f"    pending (not parsed yet)    {counts.pending}")
    lines += [f"  duplicates                    {counts.duplicates}",
              f"  older versions in history     {counts.superseded}",
              f"  manifests (not counted above) {counts.manifests}"]
    if counts.manifests_invalid:
        lines.append(f"    not applied                 {counts.manifests_invalid}")
    lines.append(f"  releases                      {', '.join(counts.releases) or '-'}")
    pending = f" + {counts.pending} pending" if counts.pending else ""
    mark = "ok" if counts.balanced else "MISMATCH"
    lines.append(f"  files in = parsed + partial + quarantined{' + pending' if counts.pending else ''}: "
                 f"{counts.current} = {counts.parsed} + {counts.partial} + {counts.quarantined}{pending}  [{mark}]")
    return lines


def _ledger_command(args: argparse.Namespace) -> int:
    from govreports import warehouse
    from govreports.ingest import ledger_counts, ledger_years

    paths = DataPaths.resolve(args.data_dir)
    if not paths.warehouse.exists():
        print(f"no warehouse at {paths.warehouse}: run `govreports run` first", file=sys.stderr)
        return 1
    with warehouse.session(paths.warehouse) as con:
        years = [args.year] if args.year is not None else ledger_years(con)
        all_counts = [ledger_counts(con, year) for year in years]
        unassigned = ledger_counts(con, None) if args.year is None else None
    if unassigned is not None and (unassigned.files_seen or unassigned.manifests):  # manifests outside year folders
        all_counts.append(unassigned)
    if args.json:
        print(json.dumps([{**c.__dict__, "balanced": c.balanced} for c in all_counts], ensure_ascii=False, indent=2))
    else:
        for counts in all_counts:
            print("\n".join(_ledger_lines(counts)))
    return 0 if all(c.balanced for c in all_counts) else 1


# --- registration ---------------------------------------------------------------------------------------------

def register(commands) -> None:
    """Add the pipeline commands to ``govreports``' argparse sub-parsers."""
    run = commands.add_parser("run", help="materialise every asset for some report years through Dagster")
    _data_dir_option(run)
    run.add_argument("--years", default=None, help="e.g. 2019-2023 or 2019,2021 (default: every year in landing/)")
    run.add_argument("--verbose", action="store_true", help="show Dagster's run log")
    run.set_defaults(handler=_run_command)

    ui = commands.add_parser("ui", help="start the Dagster UI (dagster dev) on this data dir, bound to 127.0.0.1")
    _data_dir_option(ui)
    ui.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback only)")
    ui.add_argument("--port", type=int, default=3000)
    ui.set_defaults(handler=_ui_command)

    sample = commands.add_parser("init-sample", help="lay the bundled sample reports into <data dir>/landing/<year>/")
    _data_dir_option(sample)
    sample.add_argument("--source", default=str(SAMPLE_CORPUS), help="corpus folder (default: the bundled fixtures)")
    sample.set_defaults(handler=_init_sample_command)

    ledger = commands.add_parser("ledger", help="count every file seen per report year: parsed, partial, quarantined")
    _data_dir_option(ledger)
    ledger.add_argument("--year", type=int, default=None, help="one report year (default: every year)")
    ledger.add_argument("--json", action="store_true", help="print JSON")
    ledger.set_defaults(handler=_ledger_command)

    try:
        from datapackage.cli import register as register_release_commands
    except ImportError:  # the release package is not there yet
        return
    register_release_commands(commands)
