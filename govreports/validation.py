"""Validated tables: schema checks (hard) and rule checks (soft), applied by a configurable policy.

What belongs here: putting ``govreports.schemas`` (pandera, lazy) and ``govreports.checks`` (R1–R5, X1–X4,
grouped checks) together and applying the policy.  What does not: the schemas or the rules themselves.

Policy (documented in the README): a report with any schema failure (wrong type, unknown code, duplicate
key, dangling foreign key) is a hard error — its rows leave the data tables and the report goes to
``quarantine`` with reason ``schema_error`` and a summary of its failure cases (all failure cases, of every
table, are returned in ``Validated.failure_cases`` with the ``report_id`` they belong to).  Arithmetic rule
violations are soft — the report stays, flagged in ``findings``.  ``Policy.hard_rules`` lists rule ids that
quarantine a report anyway (reason ``rule_violation``); it can be set with the environment variable
``GOVREPORTS_HARD_RULES`` (comma-separated, e.g. ``R1,R2``), read when no policy is passed.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

import pandas as pd

from govreports.checks import (
    RULE_ORDER,
    CheckResult,
    check_cross_year,
    check_narrative,
    check_reports,
    duplicate_reports,
    is_in,
    rule_summary,
    sort_findings,
)
from govreports.columns import TABLE_NAMES, build_tables
from govreports.frames import empty_frame, typed_frame
from govreports.schemas import FAILURE_COLUMNS, PANDAS_DTYPES, foreign_key_failures, validate_frame

REPORT_TABLES = ("active_disclosure", "applications", "appeals", "sections", "findings")
HARD_RULES_ENV = "GOVREPORTS_HARD_RULES"


@dataclass(frozen=True)
class Policy:
    """Which failures quarantine a report.  ``hard_rules``: rule ids that count as hard errors."""

    hard_rules: frozenset[str] = frozenset()
    schema_errors_are_hard: bool = True
    tolerance: float = 0.0  # relative tolerance of the "≈" in X2/X3

    @classmethod
    def from_env(cls) -> Policy:
        value = os.environ.get(HARD_RULES_ENV, "")
        return cls(hard_rules=frozenset(r.strip() for r in value.split(",") if r.strip()))


@dataclass
class Validated:
    frames: dict[str, pd.DataFrame]
    failure_cases: pd.DataFrame  # every schema failure, all tables, with the report_id it belongs to
    quarantined_report_ids: list[str] = field(default_factory=list)
    rule_summary: pd.DataFrame | None = None  # per report year and rule: reports checked / violating, share
    duplicates: pd.DataFrame | None = None  # reports sharing agency + report_year (checks.duplicate_reports)


def schema_failures(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Every schema failure case of every table (lazy), plus dangling foreign keys, each with its report_id
    (null when a failure concerns a whole column, e.g. a column of the wrong dtype)."""
    parts = [validate_frame(name, frames[name]).failure_cases for name in TABLE_NAMES if name in frames]
    parts.append(foreign_key_failures(frames))
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=[*FAILURE_COLUMNS, "report_id"])
    cases = pd.concat(parts, ignore_index=True)
    report_id = pd.Series(pd.NA, index=cases.index, dtype="object")
    for table, group in cases.groupby("table", sort=False):
        frame = frames[table]
        if "report_id" not in frame.columns:
            continue
        labels = pd.to_numeric(group["index"], errors="coerce")
        has = labels.notna() & labels.isin(frame.index)
        ids = frame["report_id"].reindex(labels[has].astype("int64")).to_numpy(dtype=object)
        report_id.loc[has[has].index] = ids
        # Foreign-key failures name the id itself.  (A column-level failure, e.g. a whole column of the wrong
        # dtype, has no index and belongs to no report: it stays in the failure cases, unattributed.)
        named = (group["schema_context"] == "ForeignKey") & ~has & group["failure_case"].notna()
        report_id.loc[named[named].index] = group.loc[named, "failure_case"].astype(str).to_numpy()
    cases["report_id"] = report_id
    return cases


def _renumber(parser_findings: pd.DataFrame, rule_findings: pd.DataFrame) -> pd.DataFrame:
    """Parser findings first, in their original order; then rule findings (R1…X4, position); numbered per
    report from 0."""
    parser = parser_findings.sort_values(["report_id", "finding_no"], kind="stable").assign(_part=0)
    rules = rule_findings.assign(_part=1)
    both = pd.concat([parser, rules], ignore_index=True)
    both = both.sort_values(["report_id", "_part"], kind="stable").drop(columns="_part").reset_index(drop=True)
    both["finding_no"] = both.groupby("report_id", sort=False).cumcount().astype("Int64")
    return typed_frame_fast("findings", both)


def typed_frame_fast(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Columns of ``name`` in model order with model dtypes (no sorting, no row-wise conversion)."""
    table = build_tables()[name]
    return frame[table.column_names].astype({c.name: PANDAS_DTYPES[c.type] for c in table.columns})


def _finding_counts(reports: pd.DataFrame, findings: pd.DataFrame) -> pd.DataFrame:
    counts = findings.groupby(["report_id", "severity"], observed=True).size().unstack(fill_value=0)
    out = reports.copy()
    for severity in ("error", "warning", "info"):
        column = counts[severity] if severity in counts else pd.Series(dtype="int64")
        out[f"findings_{severity}"] = column.reindex(out["report_id"]).fillna(0).astype("Int64").to_numpy()
    return out


def validate(frames: dict[str, pd.DataFrame], policy: Policy | None = None,
             previous: dict[str, pd.DataFrame] | None = None) -> Validated:
    """Schema-validate every table (lazily), run every rule (X1–X3 also against ``previous``, the previous
    year's frames), and apply the policy.  Returns the tables to publish (``findings`` holding the parser's own
    findings plus every rule finding, renumbered), all failure cases, the quarantined report ids, the per-year
    rule summary and the duplicate agency+year reports."""
    policy = policy or Policy.from_env()
    tables = build_tables()
    frames = {**{name: empty_frame(tables[name]) for name in TABLE_NAMES}, **frames}  # absent tables: empty
    cases = schema_failures(frames)
    checks = CheckResult.combine([check_reports(frames), check_cross_year(frames, previous, tolerance=policy.tolerance),
                                  check_narrative(frames)])
    parser_findings = frames["findings"][~is_in(frames["findings"]["rule"], RULE_ORDER)]
    findings = _renumber(parser_findings, sort_findings(checks.findings))
    out = dict(frames)
    out["findings"] = findings
    out["reports"] = _finding_counts(frames["reports"], findings)
    schema_bad = set(cases["report_id"].dropna().astype(str)) if policy.schema_errors_are_hard else set()
    rule_bad: set[str] = set()
    if policy.hard_rules:
        rule_bad = set(findings.loc[findings["rule"].isin(policy.hard_rules), "report_id"].astype(str))
    bad = schema_bad | rule_bad
    if bad:
        out = _quarantine(out, cases, schema_bad, rule_bad, policy)
        keep = out["reports"]["report_id"]
        checks = CheckResult(checks.findings[is_in(checks.findings["report_id"], keep)],
                             {rule: ids[is_in(ids, keep)] for rule, ids in checks.checked.items()})
    duplicates = duplicate_reports(out)
    summary = rule_summary(out, checks, duplicates)
    return Validated(out, cases, sorted(bad), summary, duplicates)


def _quarantine(frames: dict[str, pd.DataFrame], cases: pd.DataFrame, schema_bad: set[str], rule_bad: set[str],
                policy: Policy) -> dict[str, pd.DataFrame]:
    out = dict(frames)
    bad = schema_bad | rule_bad
    reports = out["reports"]
    moved = reports[reports["report_id"].isin(bad)].drop_duplicates("report_id")
    by_report = cases[cases["report_id"].isin(bad)].groupby("report_id")
    summary = {rid: {"failure_cases": len(g),
                     "checks": sorted({f"{t}.{c}: {k}" for t, c, k in zip(g["table"], g["column"], g["check"],
                                                                          strict=True)})[:20]}
               for rid, g in by_report}
    findings = out["findings"]
    hard = findings[findings["rule"].isin(policy.hard_rules) & findings["report_id"].isin(rule_bad)]
    hard_rules = hard.groupby("report_id")["rule"].agg(lambda s: sorted(set(s)))
    rows = []
    for report in moved.itertuples(index=False):  # one row per quarantined report (few)
        rid = report.report_id
        detail = dict(summary.get(rid, {"failure_cases": 0, "checks": []}))
        if rid in rule_bad:
            detail["hard_rules"] = hard_rules.get(rid, [])
        rows.append({
            "source_sha256": report.source_sha256, "source_path": report.source_path,
            "source_bytes": report.source_bytes, "reason": "schema_error" if rid in schema_bad else "rule_violation",
            "message": json.dumps({"report_id": rid, **detail}, ensure_ascii=False),
            "parser_version": report.parser_version,
        })
    for name in ("reports", *REPORT_TABLES):
        if name in out:
            frame = out[name]
            drop = is_in(frame["report_id"], bad)
            if drop.any():  # copying a table of millions of rows costs seconds: only when something leaves it
                out[name] = frame[~drop].reset_index(drop=True)
    table = build_tables()["quarantine"]
    previous = out["quarantine"].to_dict("records") if "quarantine" in out else []
    out["quarantine"] = typed_frame(table, previous + rows)
    return out

