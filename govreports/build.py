"""Build one report year's warehouse tables: ``core`` (parse → frames → validate) and ``out`` (wide views).

Belongs here: the steps between the ledger and the warehouse for one year — which ledger rows are parsed, what
happens to duplicate reports, the report year a record is filed under (its year folder over its manifest over its
text: ``file_under_year``), writing every core table of the year together with the ledger outcomes in one
transaction (a re-run replaces the year's rows; a killed run leaves the previous state), and the wide ``out``
tables.  Pure Python + DuckDB: the Dagster assets call these functions and only turn the results into metadata.
Not here: parsing (``govreports.parser``), the validation policy (``govreports.validation``).
"""

from __future__ import annotations

import inspect
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from govreports import warehouse
from govreports.batch import ParseJob, default_max_bytes, parse_files
from govreports.columns import build_tables
from govreports.frames import TableBuilder, typed_frame, wide_view
from govreports.ingest import DUPLICATE_REPORT, NEVER_PARSED, Outcome, folder_year, parse_candidates, record_outcomes
from govreports.readers.manifest import recheck_template
from govreports.spec import load_spec
from govreports.validation import Policy, validate

WIDE_TABLES = ("active_disclosure", "applications", "appeals")
DUPLICATE_AGENCY_YEAR = "duplicate_agency_year"  # ledger note: the same agency and year with different numbers
MANIFEST_DISAGREES = "manifest_disagrees"
UNREAD_SHA256 = "unread"  # quarantine.source_sha256 of a file whose bytes were never read
REPORT_COLUMNS = ("report_id", "agency", "template", "status")  # reports columns repeated in the wide tables
FAILURE_COLUMNS = ("table", "schema_context", "column", "check", "check_number", "failure_case", "index", "report_id")


@dataclass
class CoreBuild:
    year: int
    frames: dict[str, pd.DataFrame]
    failure_cases: pd.DataFrame
    quarantined_report_ids: list[str]
    files: int
    parse_status: dict[str, int]  # parsed | partial | quarantined, as the parser said (before validation)
    quarantine_reasons: dict[str, int]
    findings_by_rule: dict[str, int]
    rule_summary: Any = None  # from validation: per rule, reports checked / violating
    rows: dict[str, int] = field(default_factory=dict)
    duplicate_reports: pd.DataFrame | None = None  # from validation: the same agency and year reported twice


def _quarantine_row(path: str, sha256: str, size: Any, reason: str, message: str | None) -> dict[str, Any]:
    """A quarantine row for a file the parser never saw.  A file that was never read (a symlink out of the landing
    folder, a FIFO, a hidden file, one that could not be opened) has no hash: its ``source_sha256`` is
    ``unread`` (the column is required, and an empty string would publish as a missing value)."""
    return {"source_sha256": sha256 or UNREAD_SHA256, "source_path": path,
            "source_bytes": None if pd.isna(size) else int(size), "reason": reason, "message": message,
            "parser_version": None}


def _not_parsed(row: pd.Series) -> bool:
    """Ledger rows that are not parsed again: duplicates and files that were never read (symlinks out of the
    landing folder, FIFOs and devices, names that are not UTF-8, files that could not be opened)."""
    reason = row["reason"] if isinstance(row["reason"], str) else ""
    never_read = reason in NEVER_PARSED or reason.startswith("unreadable")  # "unreadable: …": older ledgers
    return row["status"] == "quarantined" and never_read


def _validate(frames: dict[str, pd.DataFrame], previous: dict[str, pd.DataFrame] | None):
    """``validate`` with the previous year's tables (cross-year rules) when there are any."""
    if previous is not None:
        return validate(frames, policy=Policy.from_env(), previous=previous)
    return validate(frames, policy=Policy.from_env())


def failure_frame(cases: pd.DataFrame) -> pd.DataFrame:
    """pandera failure cases in storable columns (values as text)."""
    out = pd.DataFrame({c: cases[c] if c in cases.columns else None for c in FAILURE_COLUMNS}, index=cases.index)
    for column in ("table", "schema_context", "column", "check", "failure_case", "report_id"):
        out[column] = out[column].map(lambda v: None if v is None or (isinstance(v, float) and pd.isna(v)) else str(v))
        out[column] = out[column].astype("string")
    for column in ("check_number", "index"):
        out[column] = pd.to_numeric(out[column], errors="coerce").astype("Int64")
    return out.reset_index(drop=True)


def _text_year(findings: list[dict[str, Any]]) -> int | None:
    """The year printed in the text, when the manifest's year replaced it (its ``manifest_disagrees`` finding
    keeps it); ``None`` when the text gave none or the same year as the manifest."""
    return next((f.get("text_value") for f in findings
                 if f.get("rule") == MANIFEST_DISAGREES and f.get("field") == "report_year"), None)


def _overrule_manifest_year(record: dict[str, Any], path: str, year: int) -> str:
    """The partition overrules the manifest's year: the manifest's finding about the text ("the manifest's value
    is kept") would now say the opposite of what happened, so one finding naming the manifest's year, the
    partition's and the text's (where known) takes its place.  Returns the ledger note."""
    findings = record.setdefault("findings", [])
    manifest_year = record["metadata"]["report_year"]
    printed = _text_year(findings)
    if folder_year(path) is not None:
        decided, kept = f"the year folder says {year}", "the year folder's value is kept"
    else:  # filed by its manifest's year at ingest: the manifest changed since, and the next ingest refiles it
        decided, kept = f"the file was ingested under {year}", f"{year} is kept until the next ingest"
    text = "" if printed is None else ", as does the text" if printed == year else f", the text says {printed}"
    finding = {"rule": MANIFEST_DISAGREES, "severity": load_spec().severity(MANIFEST_DISAGREES),
               "message": f"report_year: the manifest says {manifest_year}, {decided}{text}; {kept}", "cells": [],
               "field": "report_year", "manifest_value": manifest_year, "partition_value": year}
    if printed is not None:
        finding["text_value"] = printed
    about_year = [i for i, f in enumerate(findings)
                  if f.get("rule") == MANIFEST_DISAGREES and f.get("field") == "report_year"]
    if about_year:  # in the place of the finding it replaces
        findings[about_year[0]] = finding
        findings[:] = [f for i, f in enumerate(findings) if i not in about_year[1:]]
    else:
        findings.append(finding)
    also_printed = "" if printed is None else f"; printed: {printed}"
    return f"report_year from the manifest: {manifest_year}{also_printed}; partition: {year}"


def file_under_year(record: dict[str, Any], path: str, year: int) -> str | None:
    """Give a parsed record the report year of its partition, and return the ledger note saying what that
    overruled (``None`` when nothing was).

    Precedence: the year folder (``landing/<year>/…``) decides where a file is filed, then the manifest's year,
    then the year printed in the text.  A file outside year folders was filed at ingest by the same precedence,
    so its record disagrees with the partition only when its manifest or the parser changed since.  The
    year-versus-tables check is redone for the year kept, so that findings describe the published row."""
    metadata = record.get("metadata") or {}
    if metadata.get("report_year") == year:
        return None
    from_manifest = metadata.get("from_manifest") or ()
    if "report_year" in from_manifest:
        note = _overrule_manifest_year(record, path, year)
        metadata = {**metadata, "from_manifest": [key for key in from_manifest if key != "report_year"]}
    else:
        note = f"report_year printed: {metadata.get('report_year') or 'none'}; partition: {year}"
    record["metadata"] = {**metadata, "report_year": year}
    recheck_template(record)
    return note


@dataclass
class _Parsed:
    builder: TableBuilder = field(default_factory=TableBuilder)
    outcomes: list[Outcome] = field(default_factory=list)
    status: Counter[str] = field(default_factory=Counter)


def _add_unread(parsed: _Parsed, rows: pd.DataFrame) -> None:
    """Duplicates and files never read go straight to ``quarantine`` (their ledger row already says why)."""
    for row in rows.itertuples(index=False):
        note = getattr(row, "note", None)
        message = f"same bytes as {row.duplicate_of}" if row.duplicate_of else (note if isinstance(note, str) else None)
        parsed.builder.rows["quarantine"].append(_quarantine_row(row.path, row.sha256, row.size, row.reason, message))
        parsed.status["quarantined"] += 1


def _add_parsed(parsed: _Parsed, landing: Path, rows: pd.DataFrame, year: int, workers: int | None,
                max_bytes: int, max_seconds: float | bool | None = True) -> None:
    """Parse ``rows`` (streamed, in parallel) into the table builder; the first file of a report wins."""
    sha_of = dict(zip(rows["path"], rows["sha256"], strict=True))
    first_path: dict[str, str] = {}
    root = Path(landing).resolve()
    jobs = [ParseJob(landing / path, path, root) for path in rows["path"]]
    for job, record in parse_files(jobs, workers=workers, max_bytes=max_bytes, max_seconds=max_seconds):
        expected = sha_of[job.path]
        source = record.get("source") or {}
        if record["status"] != "quarantined" and source.get("sha256") != expected:
            record = {**record, "status": "quarantined", "reason": "changed_during_run",
                      "message": "the file changed after it was ingested; the next run picks up the new bytes"}
        if record["status"] == "quarantined":  # the ledger's bytes, whatever the parser could read
            record["source"] = {**source, "sha256": expected}
        parsed.status[record["status"]] += 1
        report_id = record.get("report_id")
        version = record.get("parser_version")
        note = None
        if record["status"] != "quarantined":
            if report_id in first_path:
                parsed.builder.rows["quarantine"].append(_quarantine_row(
                    job.path, expected, source.get("bytes"), DUPLICATE_REPORT,
                    f"same report (normalised text) as {first_path[report_id]}"))
                parsed.outcomes.append(Outcome(job.path, expected, "quarantined", DUPLICATE_REPORT, report_id, version,
                                               first_path[report_id]))
                continue
            first_path[report_id] = job.path
            note = file_under_year(record, job.path, year)
        parsed.builder.add(record)
        parsed.outcomes.append(Outcome(job.path, expected, record["status"], record.get("reason"), report_id, version,
                                       note=note))


def _moved_by_validation(outcomes: list[Outcome], quarantine: pd.DataFrame, moved: set[str]) -> list[Outcome]:
    """Reports that validation quarantined: their ledger rows take the quarantine table's reason."""
    if not moved:
        return outcomes
    reasons = dict(zip(zip(quarantine["source_path"], quarantine["source_sha256"], strict=True),
                       quarantine["reason"], strict=True))
    return [Outcome(o.path, o.sha256, "quarantined", reasons.get((o.path, o.sha256), "schema_error"), o.report_id,
                    o.parser_version, o.duplicate_of, o.note)
            if o.report_id in moved and o.status != "quarantined" else o for o in outcomes]


def _noted_duplicates(outcomes: list[Outcome], duplicates: Any) -> list[Outcome]:
    """The same agency and year reported twice with different numbers: both reports stay (numbers are never
    corrected or chosen between) and each ledger row says so in its note."""
    if not isinstance(duplicates, pd.DataFrame) or duplicates.empty:
        return outcomes
    flagged = duplicates[duplicates["different_numbers"].astype(bool)]
    groups = {rid: group for _, group in flagged.groupby(["agency", "report_year"]) for rid in group["report_id"]}
    path_of = {o.report_id: o.path for o in outcomes if o.status != "quarantined" and o.report_id}
    out = []
    for o in outcomes:
        group = groups.get(o.report_id) if o.status != "quarantined" else None
        if group is None:
            out.append(o)
            continue
        others = sorted(path_of.get(r, r) for r in group["report_id"] if r != o.report_id)
        cells = int(group.loc[group["report_id"] == o.report_id, "differing_cells"].iloc[0])
        note = (f"{DUPLICATE_AGENCY_YEAR}: same agency and report year as {', '.join(others)} with different "
                f"numbers ({cells} cells differ)")
        out.append(Outcome(o.path, o.sha256, o.status, o.reason, o.report_id, o.parser_version, o.duplicate_of,
                           f"{o.note}; {note}" if o.note else note))
    return out


def build_core_year(db_path: Path, landing: Path, year: int, *, workers: int | None = None,
                    max_bytes: int | None = None, max_seconds: float | bool | None = True) -> CoreBuild:
    """Parse the year's current files (from the ledger), validate, and replace the year's ``core`` tables and
    the ledger outcomes in one transaction.  ``max_bytes``/``max_seconds`` per file default to the environment's
    limits (``govreports.batch``)."""
    max_bytes = default_max_bytes() if max_bytes is None else max_bytes
    wants_previous = "previous" in inspect.signature(validate).parameters
    with warehouse.session(db_path) as con:
        candidates = parse_candidates(con, year)
        previous = None
        if wants_previous and warehouse.table_exists(con, "core", "reports"):
            previous = warehouse.read_core_frames(con, year - 1)
    if previous is not None and previous["reports"].empty:
        previous = None
    unread = candidates.apply(_not_parsed, axis=1) if len(candidates) else pd.Series(dtype=bool)
    parsed = _Parsed()
    _add_unread(parsed, candidates[unread])
    _add_parsed(parsed, landing, candidates[~unread] if len(candidates) else candidates, year, workers, max_bytes,
                max_seconds)
    validated = _validate(parsed.builder.frames(), previous)
    moved = set(validated.quarantined_report_ids)
    outcomes = _moved_by_validation(parsed.outcomes, validated.frames["quarantine"], moved)
    outcomes = _noted_duplicates(outcomes, getattr(validated, "duplicates", None))
    cases = failure_frame(validated.failure_cases)
    with warehouse.session(db_path) as con, warehouse.transaction(con):
        rows = {name: warehouse.replace_partition(con, "core", name, frame, year)
                for name, frame in validated.frames.items()}
        warehouse.replace_partition(con, "core", "validation_failures", cases, year)
        record_outcomes(con, outcomes)
    findings = validated.frames["findings"]
    quarantine = validated.frames["quarantine"]
    duplicates = getattr(validated, "duplicates", None)
    return CoreBuild(
        year=year, frames=validated.frames, failure_cases=cases,
        quarantined_report_ids=sorted(moved), files=len(candidates), parse_status=dict(parsed.status),
        quarantine_reasons=dict(sorted(Counter(quarantine["reason"].astype(str)).items())),
        findings_by_rule=dict(sorted(Counter(findings["rule"].astype(str)).items())),
        rule_summary=getattr(validated, "rule_summary", None), rows=rows,
        duplicate_reports=duplicates if isinstance(duplicates, pd.DataFrame) else None,
    )


def wide_tables(frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """``<table>_wide``: one row per report, one column per cell, with the report's agency and template."""
    reports = frames["reports"][list(REPORT_COLUMNS)]
    out = {}
    for name in WIDE_TABLES:
        wide = wide_view(frames, name)
        merged = reports.merge(wide, on="report_id", how="inner") if len(wide.columns) > 1 else reports.iloc[0:0]
        out[f"{name}_wide"] = merged.sort_values("report_id", kind="stable").reset_index(drop=True)
    return out


def build_out_year(db_path: Path, year: int) -> dict[str, pd.DataFrame]:
    """Replace the year's ``out`` tables from its ``core`` tables."""
    with warehouse.session(db_path) as con:
        frames = {name: warehouse.read_model_table(con, name, year) for name in ("reports", *WIDE_TABLES)}
    tables = wide_tables(frames)
    with warehouse.session(db_path) as con:
        warehouse.replace_partitions(con, "out", tables, year)
    return tables


def release_frames(db_path: Path, year: int) -> dict[str, pd.DataFrame]:
    """The year's validated core tables, in the column model's columns and dtypes, for publishing."""
    with warehouse.session(db_path) as con:
        return warehouse.read_core_frames(con, year)


def empty_frames() -> dict[str, pd.DataFrame]:
    return {name: typed_frame(table, []) for name, table in build_tables().items()}
