"""Rule checks over the tidy tables (govreports.checks): agreement with the per-report rules, the gold
violations of the real fixtures, and one corrupted cell per rule firing exactly that rule."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govreports.checks import (
    check_cross_year,
    check_narrative,
    check_reports,
    duplicate_reports,
    narrative_statements,
    rule_summary,
    run_checks,
)
from govreports.frames import records_to_frames
from govreports.parser import parse_path
from govreports.rules import check_report
from tests import report_factory as rf
from tests.gold import CORPUS, gold_files, load_gold
from tests.strategies import consistent_truth

REPORT_RULES = ("R1", "R2", "R3", "R4", "R5")


def _comparable(rule: str, severity: str, message: str, cells: str, expected: Any, actual: Any) -> tuple:
    return (rule, severity, message, cells, json.dumps(expected), json.dumps(actual))


def _from_frame(findings: pd.DataFrame) -> list[tuple]:
    """Findings rows as comparable tuples (JSON numbers normalised: 3 and 3.0 are the same finding)."""
    return sorted(_comparable(r.rule, r.severity, r.message, r.cells, json.loads(r.expected), json.loads(r.actual))
                  for r in findings.itertuples())


def _from_rules(findings: list[dict]) -> list[tuple]:
    return sorted(_comparable(f["rule"], f["severity"], f["message"], ";".join(f["cells"]),
                              json.loads(json.dumps(f["expected"])), json.loads(json.dumps(f["actual"])))
                  for f in findings if f["rule"] in REPORT_RULES)


def _normalise_numbers(rows: list[tuple]) -> list[tuple]:
    def number(text: str) -> Any:
        value = json.loads(text)
        return float(value) if isinstance(value, int | float) else value

    return sorted((*row[:4], number(row[4]), number(row[5])) for row in rows)


# ------------------------------------------------------------------------------------------- real fixtures
@pytest.fixture(scope="module")
def fixtures() -> tuple[list[dict], list[dict], dict[str, pd.DataFrame]]:
    golds = [load_gold(path) for path in gold_files()]
    records = [parse_path(CORPUS / gold["source"]) for gold in golds]
    return golds, records, records_to_frames(records)


def test_vectorised_rules_agree_with_per_report_rules_on_every_fixture(fixtures) -> None:
    _, records, frames = fixtures
    findings = check_reports(frames).findings
    compared = 0
    for record in records:
        if record["status"] == "quarantined":
            continue
        mine = _normalise_numbers(_from_frame(findings[findings["report_id"] == record["report_id"]]))
        theirs = _normalise_numbers(_from_rules(record["findings"]))
        assert mine == theirs, record["source"]["path"]
        compared += len(theirs)
    assert compared >= 20  # the fixtures do contain violations (seeds 001/002, shanghai, pingtan_qu_2020)


def _where(rule: str, cells: str) -> str:
    parts = cells.split(";")[0].split(":")
    return parts[1] if rule in ("R3", "R4") else parts[2]


def test_gold_violations_are_found_and_nothing_else(fixtures) -> None:
    golds, records, frames = fixtures
    checked = run_checks(frames)
    findings = checked.findings
    assert not findings["rule"].isin(["X1", "X2", "X3", "X4", "R5"]).any(), findings[["rule", "message"]]
    with_violations = 0
    for gold, record in zip(golds, records, strict=True):
        mine = findings[findings["report_id"] == record["report_id"]]
        found = {(r.rule, _where(r.rule, r.cells)) for r in mine.itertuples()}
        expected = {(v["rule"], v["where"]) for v in gold.get("violations", [])}
        assert found == expected, gold["source"]
        with_violations += bool(expected)
    assert with_violations == 5


def test_cross_year_and_narrative_rules_are_evaluated_on_the_fixtures(fixtures) -> None:
    """The quiet result above is not for want of evaluation: X1 and X4 compare real figures."""
    _, records, frames = fixtures
    by_path = {r["source"]["path"].split("corpus/")[-1]: r["report_id"] for r in records}
    cross = check_cross_year(frames)
    assert by_path["dev/putian_yjglj_2022.txt"] in cross.checked["X1"]  # 2021 report present (twice: txt+html)
    assert by_path["dev/putian_wlj_2023.txt"] in cross.checked["X1"]
    # X3: 规章 (0|0|0) is compared; 行政规范性文件 is not, its 废止件数 being "?" in both follow-up years.
    assert set(cross.checked["X3"]) == {by_path["dev/putian_yjglj_2022.txt"], by_path["dev/putian_wlj_2023.txt"]}
    narrative = check_narrative(frames)
    for path in ("dev/shanghai_szfbgt_2019_js.txt", "dev/pingtan_qu_2020.txt", "dev/putian_tjj_2020.txt",
                 "seeds/002_274977fa68b70c55.txt", "dev/putian_hyyyj_2021.txt"):
        assert by_path[path] in narrative.checked["X4"], path
    statements = narrative_statements(frames["sections"])
    shanghai = statements[statements["report_id"] == by_path["dev/shanghai_szfbgt_2019_js.txt"]]
    assert {(t, f) for t, f in zip(shanghai["target"], shanghai["figure"], strict=True)} == {
        ("applications", 859.0), ("administrative_review", 7.0)}
    # Clauses about other things are not taken for statements: "收到群众诉求348件", "受理12345转办件791件".
    assert not statements["figure"].isin([348.0, 791.0]).any()


def test_duplicate_copies_of_a_report_have_the_same_numbers(fixtures) -> None:
    _, _, frames = fixtures
    duplicates = duplicate_reports(frames)
    assert set(zip(duplicates["agency"], duplicates["report_year"], strict=True)) == {
        ("平潭综合实验区", 2020), ("平潭综合实验区", 2024), ("平潭综合实验区公安局", 2022), ("莆田市应急管理局", 2021),
        ("莆田市民族与宗教事务局", 2023), ("莆田市统计局", 2020)}
    # The text copies leave some cells ambiguous where the HTML has numbers: unknown is not different.
    assert not duplicates["different_numbers"].any()


# ------------------------------------------------------------------------------------- synthetic series
def _rules_fired(truths: dict[int, dict]) -> pd.DataFrame:
    return run_checks(rf.frames_of(truths)).findings


def test_consistent_series_has_no_findings_and_every_rule_is_evaluated() -> None:
    frames = rf.frames_of(rf.series())
    checked = run_checks(frames)
    assert checked.findings.empty
    ids = {year: rf.report_id(rf.AGENCY, year) for year in rf.YEARS}
    assert set(checked.checked["X1"]) == {ids[2020], ids[2021], ids[2022]}
    assert set(checked.checked["X2"]) == {ids[2020]}
    assert set(checked.checked["X3"]) == {ids[2022]}
    assert set(checked.checked["X4"]) == set(ids.values())
    for rule in REPORT_RULES:
        assert set(checked.checked[rule]) == set(ids.values()), rule


def _add(truth: dict, table: str, cells: dict[tuple[str, str], int]) -> None:
    for key, delta in cells.items():
        truth[table][key] += delta


def _r1(t: dict) -> None:
    _add(t[2022], "applications", {("carried_forward", "natural_person"): 1, ("carried_forward", "total"): 1})


def _r2(t: dict) -> None:
    _add(t[2022], "applications", {("granted", "natural_person"): 1, ("granted", "total"): 1})


def _r3(t: dict) -> None:
    _add(t[2022], "applications", {("granted", "total"): 1, ("partially_granted", "total"): -1})


def _r4(t: dict) -> None:
    _add(t[2022], "appeals", {("administrative_review", "upheld"): 1})


def _r5(t: dict) -> None:
    t[2022]["active_disclosure"][("administrative_penalty", "decisions")] = -3


def _x1(t: dict) -> None:
    _add(t[2022], "applications", {("carried_over", "natural_person"): 1, ("carried_over", "total"): 1,
                                   ("carried_forward", "natural_person"): 1, ("carried_forward", "total"): 1})


def _x2(t: dict) -> None:
    _add(t[2020], "active_disclosure", {("administrative_licensing", "previous_year_count"): 1})


def _x3(t: dict) -> None:
    _add(t[2022], "active_disclosure", {("rules", "in_force"): 1})


def _x4(t: dict) -> None:
    stated = t[2022]["applications"][("new_received", "total")] + 7
    assert stated != t[2022]["applications"][("new_received", "total")] + t[2022]["applications"][
        ("carried_over", "total")]
    t[2022]["sections"][1] = f"本年度共收到政府信息公开申请{stated}件，均已按期答复。"


CORRUPTIONS: dict[str, tuple[Callable[[dict], None], int, set[str]]] = {
    # rule: (corruption, year of the report that must be flagged, cells that must be named)
    "R1": (_r1, 2022, {"applications:carried_forward:natural_person", "applications:carried_forward:total"}),
    "R2": (_r2, 2022, {"applications:granted:natural_person", "applications:granted:total"}),
    "R3": (_r3, 2022, {"applications:granted:total", "applications:partially_granted:total"}),
    "R4": (_r4, 2022, {"appeals:administrative_review:upheld"}),
    "R5": (_r5, 2022, {"active_disclosure:administrative_penalty:decisions"}),
    "X1": (_x1, 2022, {"applications:carried_over:natural_person", "applications:carried_over:total"}),
    "X2": (_x2, 2020, {"active_disclosure:administrative_licensing:previous_year_count"}),
    "X3": (_x3, 2022, {"active_disclosure:rules:in_force"}),
    "X4": (_x4, 2022, {"applications:new_received:total"}),
}


@pytest.mark.parametrize("rule", list(CORRUPTIONS))
def test_one_corrupted_cell_fires_exactly_its_rule(rule: str) -> None:
    corrupt, year, cells = CORRUPTIONS[rule]
    truths = rf.corrupted(rf.series())
    corrupt(truths)
    findings = _rules_fired(truths)
    assert set(findings["rule"]) == {rule}
    assert set(findings["report_id"]) == {rf.report_id(rf.AGENCY, year)}
    named = {cell for text in findings["cells"] for cell in text.split(";")}
    assert cells <= named
    assert (findings["expected"] != findings["actual"]).all()
    assert set(findings["severity"]) == {"error" if rule.startswith("R") else "warning"}


def test_findings_carry_expected_and_actual_values() -> None:
    truths = rf.corrupted(rf.series())
    _x3(truths)
    _x4(truths)
    findings = _rules_fired(truths).set_index("rule")
    in_force = rf.series()[2022]["active_disclosure"][("rules", "in_force")]
    assert json.loads(findings.loc["X3", "expected"]) == in_force
    assert json.loads(findings.loc["X3", "actual"]) == in_force + 1
    new = rf.series()[2022]["applications"][("new_received", "total")]
    assert json.loads(findings.loc["X4", "expected"]) == new
    assert json.loads(findings.loc["X4", "actual"]) == new + 7
    assert f"{new + 7}件" in findings.loc["X4", "message"]


def test_blank_cells_count_as_zero_and_ambiguous_cells_make_a_rule_unknown() -> None:
    truths = rf.corrupted(rf.series())
    apps = truths[2022]["applications"]
    assert apps[("granted", "research_institution")] == 0
    apps[("granted", "research_institution")] = rf.BLANK  # printed blank: 0, every rule still holds
    assert _rules_fired(truths).empty
    _r3(truths)  # granted and partially_granted totals now off by one
    assert set(_rules_fired(truths)["cells"].str.split(":").str[1]) == {"granted", "partially_granted"}
    apps[("granted", "total")] = rf.AMBIGUOUS  # R3 of that row, R2 of the total column become unknown
    findings = _rules_fired(truths)
    assert list(findings["rule"]) == ["R3"]
    assert findings["cells"].iloc[0].startswith("applications:partially_granted:")
    apps[("partially_granted", "total")] = rf.Cell(None, "见附件")  # unreadable text: unknown as well
    assert _rules_fired(truths).empty


def test_cross_year_rules_use_the_previous_years_frames_when_given() -> None:
    truths = rf.corrupted(rf.series())
    _x3(truths)
    _x1(truths)
    current = rf.frames_of([truths[2022]])
    previous = rf.frames_of([truths[2021]])
    assert check_cross_year(current).findings.empty  # no 2021 report of the agency in the frames
    found = check_cross_year(current, previous).findings
    assert sorted(found["rule"]) == ["X1", "X1", "X3"]
    assert set(found["report_id"]) == {rf.report_id(rf.AGENCY, 2022)}
    # Approximately equal within a tolerance: 25 vs 24 is a 4 % difference.
    assert list(check_cross_year(current, previous, tolerance=0.05).findings["rule"]) == ["X1", "X1"]


def test_cross_year_skips_an_agency_year_whose_reports_disagree() -> None:
    truths = rf.series()
    twin = rf.corrupted({2021: truths[2021]})[2021]
    twin["meta"] = {**twin["meta"], "report_year": 2021}
    _add(twin, "applications", {("carried_forward", "natural_person"): 5, ("carried_forward", "total"): 5,
                                ("new_received", "natural_person"): 5, ("new_received", "total"): 5})
    twin_record = rf.to_record(twin)
    twin_record["report_id"] = "f" * 32  # a second, different report of the same agency and year
    frames = records_to_frames([rf.to_record(t) for t in truths.values()] + [twin_record])
    assert check_cross_year(frames).findings.empty  # which one is right is unknown: X1 for 2022 not evaluated
    duplicates = duplicate_reports(frames)
    assert set(duplicates["report_id"]) == {"f" * 32, rf.report_id(rf.AGENCY, 2021)}
    assert duplicates["different_numbers"].all()
    # new_received and carried_forward of natural_person and total, plus the narrative is not a cell: 4 cells.
    assert set(duplicates["differing_cells"]) == {4}


def test_rule_summary_counts_reports_per_year_and_rule() -> None:
    truths = rf.corrupted(rf.series())
    _r1(truths)
    _x2(truths)
    frames = rf.frames_of(truths)
    checked = run_checks(frames)
    summary = checked.summary.set_index(["report_year", "rule"])
    assert summary.loc[(2022, "R1"), ["reports", "reports_checked", "reports_violating", "findings"]].tolist() == [
        1, 1, 1, 2]
    assert summary.loc[(2022, "R1"), "share"] == 1.0
    assert summary.loc[(2020, "X2"), ["reports_checked", "reports_violating", "findings"]].tolist() == [1, 1, 1]
    assert summary.loc[(2019, "X1"), "reports_checked"] == 0  # no 2018 report
    assert summary.loc[(2021, "R1"), "reports_violating"] == 0
    assert rule_summary(frames, check_reports(frames)).loc[lambda s: s["rule"] == "R1", "findings"].sum() == 2


# --------------------------------------------------------------------- property: agreement with rules.py
_CORRUPTIONS = st.lists(
    st.tuples(st.sampled_from(["applications", "appeals", "active_disclosure"]), st.integers(0, 10**6),
              st.sampled_from(["plus", "minus", "blank", "ambiguous", "unreadable", "negative", "fraction"])),
    max_size=4)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=consistent_truth(max_value=20), corruptions=_CORRUPTIONS)
def test_vectorised_rules_agree_with_per_report_rules_on_corrupted_reports(data, corruptions) -> None:
    template, truth = data
    truth = {**truth, "meta": {"agency": rf.AGENCY, "report_year": 2020 if template == "2019" else 2022,
                               "template": template}, "sections": {}}
    for table, pick, how in corruptions:
        keys = sorted(truth[table])
        key = keys[pick % len(keys)]
        value = truth[table][key]
        if isinstance(value, rf.Cell):
            continue
        truth[table][key] = {
            "plus": value + 1, "minus": value - 1, "blank": rf.BLANK, "ambiguous": rf.AMBIGUOUS,
            "unreadable": rf.Cell(None, "不详"), "negative": -abs(value) - 1,
            "fraction": value + 0.5 if table == "active_disclosure" else value,
        }[how]
    expected = check_report(template, rf.parsed_cells(truth))
    findings = check_reports(rf.frames_of([truth])).findings
    assert _normalise_numbers(_from_frame(findings)) == _normalise_numbers(_from_rules(expected))
