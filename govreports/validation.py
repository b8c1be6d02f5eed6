"""Validated tables: schema checks (hard) and rule checks (soft), applied by a configurable policy.

Policy (documented in the README): a report with any schema failure (wrong type, unknown code, duplicate
key, dangling foreign key) is a hard error — its rows leave the data tables and the report goes to
``quarantine`` with reason ``schema_error`` and the failure cases.  Arithmetic rule violations are soft —
the report stays, flagged in ``findings``.  ``Policy`` says which rule ids are hard.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

import pandas as pd

from govreports.columns import TABLE_NAMES, build_tables
from govreports.frames import typed_frame
from govreports.schemas import foreign_key_failures, validate_frame

REPORT_TABLES = ("active_disclosure", "applications", "appeals", "sections", "findings")


@dataclass(frozen=True)
class Policy:
    """Which failures quarantine a report.  ``hard_rules``: rule ids that count as hard errors."""

    hard_rules: frozenset[str] = frozenset()
    schema_errors_are_hard: bool = True

    @classmethod
    def from_env(cls) -> Policy:
        value = os.environ.get("GOVREPORTS_HARD_RULES", "")
        return cls(hard_rules=frozenset(r.strip() for r in value.split(",") if r.strip()))


@dataclass
class Validated:
    frames: dict[str, pd.DataFrame]
    failure_cases: pd.DataFrame  # every schema failure, all tables
    quarantined_report_ids: list[str] = field(default_factory=list)


def _report_ids_of_failures(frames: dict[str, pd.DataFrame], cases: pd.DataFrame) -> set[str]:
    ids: set[str] = set()
    for table, group in cases.groupby("table"):
        frame = frames[table]
        if "report_id" not in frame.columns:
            continue
        for index in group["index"].dropna():
            try:
                ids.add(str(frame.loc[int(index), "report_id"]))
            except (KeyError, ValueError, TypeError):
                continue
        for value in group.loc[group["column"] == "report_id", "failure_case"].dropna():
            ids.add(str(value))
    return ids


def validate(frames: dict[str, pd.DataFrame], policy: Policy | None = None) -> Validated:
    policy = policy or Policy()
    results = [validate_frame(name, frames[name]) for name in TABLE_NAMES]
    cases = pd.concat([r.failure_cases for r in results] + [foreign_key_failures(frames)], ignore_index=True)
    bad: set[str] = set()
    if policy.schema_errors_are_hard and len(cases):
        bad |= _report_ids_of_failures(frames, cases)
    if policy.hard_rules:
        findings = frames["findings"]
        bad |= set(findings.loc[findings["rule"].isin(policy.hard_rules), "report_id"].astype(str))
    if not bad:
        return Validated(frames, cases, [])
    out = {name: frame for name, frame in frames.items()}
    reports = out["reports"]
    moved = reports[reports["report_id"].isin(bad)]
    quarantine_rows = []
    for _, report in moved.iterrows():
        detail = cases[cases["failure_case"].astype(str).isin([report["report_id"]])] if len(cases) else cases
        quarantine_rows.append({
            "source_sha256": report["source_sha256"], "source_path": report["source_path"],
            "source_bytes": report["source_bytes"], "reason": "schema_error",
            "message": json.dumps({"failure_cases": len(detail)}, ensure_ascii=False),
            "parser_version": report["parser_version"],
        })
    for name in ("reports", *REPORT_TABLES):
        out[name] = out[name][~out[name]["report_id"].isin(bad)].reset_index(drop=True)
    table = build_tables()["quarantine"]
    out["quarantine"] = typed_frame(table, out["quarantine"].to_dict("records") + quarantine_rows)
    return Validated(out, cases, sorted(bad))
