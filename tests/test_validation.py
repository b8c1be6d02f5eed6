"""validate(): rule findings (R1–R5 recomputed, X1–X4 added) in the findings table, renumbered; the per-year rule
summary; the policy (hard rules by configuration or environment); the real fixtures end to end."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from govreports.frames import records_to_frames
from govreports.parser import parse_path
from govreports.schemas import validate_frame
from govreports.validation import HARD_RULES_ENV, Policy, validate
from tests import report_factory as rf
from tests.gold import CORPUS, gold_files, load_gold

ID = {year: rf.report_id(rf.AGENCY, year) for year in rf.YEARS}


def _corrupted_series() -> dict[int, dict]:
    truths = rf.corrupted(rf.series())
    truths[2022]["active_disclosure"][("rules", "in_force")] += 1  # X3
    truths[2022]["appeals"][("administrative_review", "upheld")] += 1  # R4
    truths[2020]["sections"][1] = "本年度共收到政府信息公开申请99件。"  # X4
    return truths


def _with_parser_findings(truths: dict[int, dict]) -> dict[str, pd.DataFrame]:
    records = [rf.to_record(t) for t in truths.values()]
    for record in records:  # what the parser would have said: its own findings, and a stale R1
        record["findings"] = [
            {"rule": "missing_section", "severity": "info", "message": "section 6 not found", "cells": []},
            {"rule": "R1", "severity": "error", "message": "stale", "cells": ["applications:new_received:total"],
             "expected": 1, "actual": 2},
            {"rule": "cells_placed_by_rule", "severity": "info", "message": "placed", "cells": []},
        ]
    return records_to_frames(records)


def test_findings_hold_parser_findings_then_every_rule_finding_renumbered() -> None:
    validated = validate(_with_parser_findings(_corrupted_series()), Policy())
    findings = validated.frames["findings"]
    assert validate_frame("findings", findings).valid
    by_report = {rid: list(group["rule"]) for rid, group in findings.groupby("report_id")}
    # The stale parser R1 is replaced by the rules recomputed from the tables (which hold for 2019/2021).
    assert by_report[ID[2019]] == ["missing_section", "cells_placed_by_rule"]
    assert by_report[ID[2020]] == ["missing_section", "cells_placed_by_rule", "X4"]
    assert by_report[ID[2022]] == ["missing_section", "cells_placed_by_rule", "R4", "X3"]
    for _, group in findings.groupby("report_id"):
        assert list(group["finding_no"]) == list(range(len(group)))
    reports = validated.frames["reports"].set_index("report_id")
    assert reports.loc[ID[2022], ["findings_error", "findings_warning", "findings_info"]].tolist() == [1, 1, 2]
    assert validate_frame("reports", validated.frames["reports"]).valid
    again = validate(_with_parser_findings(_corrupted_series()), Policy())
    pd.testing.assert_frame_equal(again.frames["findings"], findings)  # deterministic


def test_rule_summary_and_duplicates_are_returned() -> None:
    validated = validate(rf.frames_of(_corrupted_series()))
    summary = validated.rule_summary.set_index(["report_year", "rule"])
    assert summary.loc[(2022, "X3"), ["reports_checked", "reports_violating", "share"]].tolist() == [1, 1, 1.0]
    assert summary.loc[(2020, "X4"), "reports_violating"] == 1
    assert summary.loc[(2021, "R4"), "reports_violating"] == 0
    assert validated.duplicates.empty


def test_previous_years_frames_feed_the_cross_year_rules() -> None:
    truths = _corrupted_series()
    current, previous = rf.frames_of([truths[2022]]), rf.frames_of([truths[2021]])
    assert "X3" not in set(validate(current).frames["findings"]["rule"])
    validated = validate(current, previous=previous)
    findings = validated.frames["findings"]
    assert list(findings.loc[findings["rule"] == "X3", "cells"]) == [
        "active_disclosure:rules:in_force;active_disclosure:rules:issued;active_disclosure:rules:repealed"]
    assert set(validated.frames["reports"]["report_id"]) == {ID[2022]}  # previous year's reports not added


def test_hard_rules_quarantine_by_policy() -> None:
    frames = rf.frames_of(_corrupted_series())
    assert validate(frames, Policy()).quarantined_report_ids == []
    validated = validate(frames, Policy(hard_rules=frozenset({"R4"})))
    assert validated.quarantined_report_ids == [ID[2022]]
    quarantine = validated.frames["quarantine"]
    assert list(quarantine["reason"]) == ["rule_violation"]
    assert json.loads(quarantine["message"].iloc[0])["hard_rules"] == ["R4"]
    assert ID[2022] not in set(validated.frames["findings"]["report_id"])
    assert validated.failure_cases.empty


def test_hard_rules_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    frames = rf.frames_of(_corrupted_series())
    monkeypatch.setenv(HARD_RULES_ENV, "X4, X3")
    assert Policy.from_env().hard_rules == frozenset({"X3", "X4"})
    assert validate(frames).quarantined_report_ids == sorted([ID[2020], ID[2022]])
    monkeypatch.setenv(HARD_RULES_ENV, "")
    assert validate(frames).quarantined_report_ids == []


def test_real_fixtures_validate_without_schema_failures() -> None:
    records = [parse_path(CORPUS / load_gold(path)["source"]) for path in gold_files()]
    frames = records_to_frames(records)
    validated = validate(frames, Policy())
    assert validated.failure_cases.empty
    assert validated.quarantined_report_ids == []
    assert len(validated.frames["reports"]) == len(records)
    for name, frame in validated.frames.items():
        assert validate_frame(name, frame).valid, name
    # The parser's own R1–R5 findings and the recomputed ones are the same set.
    before = frames["findings"][frames["findings"]["rule"].str.match(r"R\d")]
    after = validated.frames["findings"][validated.frames["findings"]["rule"].str.match(r"R\d")]
    key = ["report_id", "rule", "message", "cells"]
    assert sorted(map(tuple, before[key].to_numpy())) == sorted(map(tuple, after[key].to_numpy()))
    assert len(after) == 22
