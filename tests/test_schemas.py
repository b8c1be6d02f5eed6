"""Pandera schemas generated from the column model: each kind of schema error yields a failure case and, under
the default policy, quarantines the report it belongs to; arithmetic violations do not."""

from __future__ import annotations

import pandas as pd
import pytest

from govreports.columns import TABLE_NAMES, build_tables
from govreports.schemas import foreign_key_failures, schema_for, validate_frame
from govreports.spec import load_spec
from govreports.validation import Policy, schema_failures, validate
from tests import report_factory as rf

SPEC = load_spec()
ID_2021 = rf.report_id(rf.AGENCY, 2021)


@pytest.fixture()
def frames() -> dict[str, pd.DataFrame]:
    return rf.frames_of(rf.series())


def _row_of(frame: pd.DataFrame, report_id: str, **codes: str) -> int:
    mask = frame["report_id"] == report_id
    for column, code in codes.items():
        mask &= frame[column] == code
    (index,) = frame.index[mask]
    return int(index)


def test_schemas_are_generated_from_the_column_model() -> None:
    tables = build_tables()
    for name in TABLE_NAMES:
        schema = schema_for(name)
        assert list(schema.columns) == tables[name].column_names
        assert schema.unique == list(tables[name].primary_key)
    row_checks = schema_for("applications").columns["row"].checks
    allowed = next(c for c in row_checks if "known code" in str(c.error))
    assert set(allowed.statistics["allowed_values"]) == set(SPEC.application_rows)
    assert not schema_for("applications").columns["row"].nullable


def test_consistent_frames_pass_every_schema(frames) -> None:
    for name in TABLE_NAMES:
        result = validate_frame(name, frames[name])
        assert result.valid, result.failure_cases
    assert foreign_key_failures(frames).empty


def _assert_quarantined(frames: dict[str, pd.DataFrame], report_id: str, table: str, check: str) -> None:
    cases = schema_failures(frames)
    mine = cases[cases["report_id"] == report_id]
    assert len(mine) and mine["check"].astype(str).str.contains(check, regex=False).any(), cases
    assert set(cases["report_id"].dropna()) == {report_id}  # no other report is blamed
    assert set(mine["table"]) == {table}
    validated = validate(frames, Policy())
    assert validated.quarantined_report_ids == [report_id]
    for name in ("reports", "active_disclosure", "applications", "appeals", "sections", "findings"):
        assert report_id not in set(validated.frames[name]["report_id"]), name
    assert len(validated.frames["reports"]) == len(rf.YEARS) - 1
    quarantine = validated.frames["quarantine"]
    report = frames["reports"].set_index("report_id").loc[report_id]
    assert list(quarantine["source_sha256"]) == [report["source_sha256"]]
    assert list(quarantine["reason"]) == ["schema_error"]
    assert report_id in quarantine["message"].iloc[0]
    assert validate_frame("quarantine", quarantine).valid


def test_unknown_code_quarantines_the_report(frames) -> None:
    apps = frames["applications"]
    apps.loc[_row_of(apps, ID_2021, row="granted", applicant="natural_person"), "row"] = "granted_typo"
    _assert_quarantined(frames, ID_2021, "applications", "known code")


def test_wrong_dtype_quarantines_the_report(frames) -> None:
    appeals = frames["appeals"]
    value = appeals["value"].astype(object)
    value[_row_of(appeals, ID_2021, proceeding="administrative_review", outcome="total")] = "两件"
    appeals["value"] = value
    _assert_quarantined(frames, ID_2021, "appeals", "dtype('Int64')")


def test_duplicate_key_quarantines_the_report(frames) -> None:
    apps = frames["applications"]
    twin = apps.loc[[_row_of(apps, ID_2021, row="granted", applicant="total")]]
    frames["applications"] = pd.concat([apps, twin], ignore_index=True)
    _assert_quarantined(frames, ID_2021, "applications", "uniqueness")


def test_value_below_the_template_minimum_quarantines_the_report(frames) -> None:
    """Table 三 counts are non-negative by the template: a negative count breaks the schema (and R5)."""
    apps = frames["applications"]
    apps.loc[_row_of(apps, ID_2021, row="granted", applicant="natural_person"), "value"] = -1
    _assert_quarantined(frames, ID_2021, "applications", ">= 0")


def test_dangling_report_id_is_a_failure_case_and_its_rows_leave_the_tables(frames) -> None:
    dangling = "0" * 32
    apps = frames["applications"]
    orphan = apps.iloc[:3].assign(report_id=pd.Series([dangling] * 3, dtype="string", index=apps.index[:3]))
    frames["applications"] = pd.concat([apps, orphan], ignore_index=True)
    cases = schema_failures(frames)
    assert set(cases["schema_context"]) == {"ForeignKey"}
    assert len(cases) == 3 and set(cases["report_id"]) == {dangling}
    validated = validate(frames)
    assert validated.quarantined_report_ids == [dangling]
    assert dangling not in set(validated.frames["applications"]["report_id"])
    assert len(validated.frames["applications"]) == len(apps)  # every real report kept
    assert validated.frames["quarantine"].empty  # no source to quarantine: the rows are dropped, the case kept


def test_arithmetic_violations_do_not_quarantine(frames) -> None:
    truths = rf.corrupted(rf.series())
    truths[2021]["applications"][("granted", "natural_person")] += 1  # R2 (and R3 of the row)
    truths[2021]["active_disclosure"][("administrative_penalty", "decisions")] = -2  # R5 (table 二 is signed)
    frames = rf.frames_of(truths)
    validated = validate(frames, Policy())
    assert validated.failure_cases.empty
    assert validated.quarantined_report_ids == []
    assert len(validated.frames["reports"]) == len(rf.YEARS)
    findings = validated.frames["findings"]
    assert set(findings.loc[findings["report_id"] == ID_2021, "rule"]) == {"R2", "R3", "R5"}


def test_validation_is_lazy_and_collects_failures_of_every_table(frames) -> None:
    id_2019 = rf.report_id(rf.AGENCY, 2019)
    apps, appeals, sections = frames["applications"], frames["appeals"], frames["sections"]
    apps.loc[_row_of(apps, ID_2021, row="granted", applicant="total"), "applicant"] = "everyone"
    appeals.loc[_row_of(appeals, id_2019, proceeding="litigation_direct", outcome="pending"), "value"] = -4
    sections.loc[sections.index[0], "number"] = 0
    cases = schema_failures(frames)
    assert set(cases["table"]) == {"applications", "appeals", "sections"}
    assert len(cases) >= 3
    validated = validate(frames)
    assert validated.quarantined_report_ids == sorted({ID_2021, id_2019, frames["sections"]["report_id"].iloc[0]})
